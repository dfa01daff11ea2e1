/**
 * The worker's `Env` (src/worker/env.ts, written by hand: see its header for why it is not the
 * output of `wrangler types`) against what `wrangler types` derives from wrangler.toml: every
 * binding the config declares is in `Env` with the matching kind, and `Env` declares no binding the
 * config lacks. Runs wrangler offline on a copy of wrangler.toml in a temporary folder, so a local
 * .dev.vars (whose secrets wrangler would add) does not change the answer.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

/** `wrangler types` names (workers-types) → the minimal interfaces env.ts declares for them. */
const KIND: Record<string, string> = {
  KVNamespace: 'KvNamespace',
  R2Bucket: 'R2Bucket',
  RateLimit: 'RateLimiter',
  Fetcher: 'AssetsFetcher',
  DurableObjectNamespace: 'DurableObjectNamespace',
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'faultlines-wrangler-types-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Binding name → workers-types kind, from `wrangler types --include-runtime=false`. */
function generatedBindings(): Map<string, string> {
  copyFileSync('wrangler.toml', path.join(dir, 'wrangler.toml'));
  execFileSync(path.resolve('node_modules/.bin/wrangler'), ['types', '--include-runtime=false', 'bindings.d.ts'], {
    cwd: dir,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    stdio: 'pipe',
    timeout: 120_000,
  });
  const text = readFileSync(path.join(dir, 'bindings.d.ts'), 'utf8');
  const block = /interface Env \{([^}]*)\}/.exec(text)?.[1] ?? '';
  return new Map([...block.matchAll(/^\s*(\w+)\??:\s*(\w+)/gm)].map((m) => [m[1], m[2]]));
}

/** Property name → the type name it is declared with, in env.ts's `interface Env`. */
function declaredEnv(): Map<string, string> {
  const file = ts.createSourceFile('env.ts', readFileSync('src/worker/env.ts', 'utf8'), ts.ScriptTarget.ES2022);
  const env = file.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'Env',
  );
  const out = new Map<string, string>();
  for (const m of env?.members ?? []) {
    if (!ts.isPropertySignature(m) || !m.type) continue;
    const name = (m.name as ts.Identifier).text;
    out.set(name, ts.isTypeReferenceNode(m.type) ? (m.type.typeName as ts.Identifier).text : m.type.getText(file));
  }
  return out;
}

describe('Env matches wrangler.toml', () => {
  it('every binding wrangler types derives is declared in Env with its kind, and Env declares no other binding', () => {
    const generated = generatedBindings();
    const declared = declaredEnv();
    expect(generated.size).toBeGreaterThan(0);
    for (const [name, kind] of generated) {
      expect(KIND[kind], `${name}: a binding kind env.ts has no interface for (${kind})`).toBeDefined();
      expect(declared.get(name), `Env.${name}`).toBe(KIND[kind]);
    }
    const bindingKinds = new Set(Object.values(KIND));
    const stale = [...declared]
      .filter(([name, type]) => bindingKinds.has(type) && !generated.has(name))
      .map(([name]) => name);
    expect(stale, 'bindings in Env that wrangler.toml does not declare').toEqual([]);
  }, 180_000);
});
