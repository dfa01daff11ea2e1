/**
 * The GPU runner's command line (src/gpu-runner/command-line.ts): node:util parseArgs with the
 * runner's flags, and the token taken off the argv a Deno child is started with.
 */
import { describe, expect, it } from 'vitest';
import { int, parseCommandLine, str, withoutToken } from '../src/gpu-runner/command-line.js';

describe('runner command line', () => {
  it('reads the command (run by default) and its flags, in both spellings', () => {
    const run = parseCommandLine(['--api', 'http://x', '--lease-ms=5000', '--exit-when-idle']);
    expect(run.command).toBe('run');
    expect(str(run.args, 'api')).toBe('http://x');
    expect(int(run.args, 'lease-ms', 120_000)).toBe(5000);
    expect(int(run.args, 'batch', 64)).toBe(64);
    expect(run.args['exit-when-idle']).toBe(true);
    const sweep = parseCommandLine(['sweep', '--count', '32', '--out', 'f.json']);
    expect(sweep.command).toBe('sweep');
    expect(int(sweep.args, 'count', 256)).toBe(32);
    expect(sweep.args.out).toBe('f.json');
  });

  it('refuses an unknown flag, a flag without its value, a second command and a bad number, naming each', () => {
    expect(() => parseCommandLine(['--lease', '5'])).toThrow(/Unknown option '--lease'/);
    expect(() => parseCommandLine(['--api'])).toThrow(/--api <value>' argument missing/);
    expect(() => parseCommandLine(['sweep', 'extra'])).toThrow(/unexpected argument "extra"/);
    expect(() => int(parseCommandLine(['--batch', 'ten']).args, 'batch', 64)).toThrow(/--batch must be/);
    expect(() => str(parseCommandLine([]).args, 'api')).toThrow(/--api is required/);
  });

  it('takes the token off the argv, in both spellings, and leaves every other argument in place', () => {
    expect(withoutToken(['run', '--token', 's3cret', '--api', 'http://x'])).toEqual({
      argv: ['run', '--api', 'http://x'],
      token: 's3cret',
    });
    expect(withoutToken(['--backend', 'webgpu', '--token=s3cret'])).toEqual({
      argv: ['--backend', 'webgpu'],
      token: 's3cret',
    });
    // A flag's value that looks like the token flag is a value, not the flag.
    expect(withoutToken(['--name=--token', 'sweep'])).toEqual({ argv: ['--name=--token', 'sweep'], token: undefined });
    expect(withoutToken(['--batch', '8'])).toEqual({ argv: ['--batch', '8'], token: undefined });
  });
});
