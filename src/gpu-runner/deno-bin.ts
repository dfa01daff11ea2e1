/** Locating Deno (WebGPU is built into it) for the runner's re-launch, the tests and the benchmark. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The Deno binary: $DENO_BIN, the npm package `deno`'s platform binary, or `deno` on PATH. */
export function findDeno(): string | null {
  if (process.env.DENO_BIN && existsSync(process.env.DENO_BIN)) return process.env.DENO_BIN;
  const require = createRequire(import.meta.url);
  for (const pkg of [
    `@deno/${process.platform}-${process.arch}-glibc`,
    `@deno/${process.platform}-${process.arch}`,
    'deno',
  ]) {
    try {
      const bin = path.join(
        path.dirname(require.resolve(`${pkg}/package.json`)),
        process.platform === 'win32' ? 'deno.exe' : 'deno',
      );
      if (existsSync(bin)) return bin;
    } catch {
      /* not installed */
    }
  }
  const r = spawnSync('deno', ['--version'], { stdio: 'ignore' });
  return r.status === 0 ? 'deno' : null;
}

/** Arguments that run a bundle in Deno with WebGPU and full permissions (it reads node_modules, talks HTTP). */
export function denoArgs(script: string, argv: string[]): string[] {
  return ['run', '--allow-all', '--no-prompt', '--unstable-webgpu', script, ...argv];
}
