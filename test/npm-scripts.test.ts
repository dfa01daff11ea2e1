/**
 * The npm scripts that run a TypeScript file straight through tsx must not import the core's tfjs
 * entry (src/core/tf.ts): Node cannot load tfjs-core's gradient files unbundled, so such a script
 * dies at start (as `npm start`'s edge build once did). Scripts that need the core run bundled
 * (scripts/bundle-node.ts, like the CLI). Checked statically from esbuild's import graph.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;

/** Every `tsx FILE.ts` in the scripts, with the script that runs it. */
const tsxRuns = Object.entries(scripts).flatMap(([name, line]) =>
  [...line.matchAll(/\btsx\s+(\S+\.ts)\b/g)].map((m) => ({ name, file: m[1] })),
);

/** The files `entry` imports, transitively (esbuild's metafile; packages stay outside). */
async function importGraph(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

describe('npm scripts run through tsx', () => {
  it('are found (the check is not vacuous)', () => {
    expect(tsxRuns.map((r) => r.name)).toEqual(expect.arrayContaining(['build', 'build:edge', 'bench:board']));
  });

  it.each(tsxRuns)('$name: $file does not import src/core/tf.ts', async ({ file }) => {
    expect(await importGraph(file)).not.toContain('src/core/tf.ts');
  });
});
