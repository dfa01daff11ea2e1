/**
 * Local secrets for `wrangler dev` (issue #8): `.dev.vars` at the repository root (git-ignored;
 * wrangler dev reads it), holding the two access scopes' bearer tokens (src/worker/auth.ts). Created
 * with random tokens when missing; a missing token is appended; an existing one is never changed.
 * Deployed workers take them from `npx wrangler secret put SUBMIT_TOKEN|RUNNER_TOKEN` instead.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';

export const DEV_SECRETS = ['SUBMIT_TOKEN', 'RUNNER_TOKEN'] as const;
export type DevSecret = (typeof DEV_SECRETS)[number];

/** KEY=value lines of a .dev.vars / .env file (quotes removed; comments and blanks skipped). */
export function parseDevVars(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith('#')) continue;
    out[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

export interface DevVarsResult {
  file: string;
  /** Tokens written now (all of them for a new file). */
  created: DevSecret[];
  vars: Record<string, string>;
}

/** Makes sure `file` holds both tokens; returns what it did. */
export function ensureDevVars(file = path.resolve('.dev.vars')): DevVarsResult {
  const before = existsSync(file) ? readFileSync(file, 'utf8') : null;
  const vars = before === null ? {} : parseDevVars(before);
  const created = DEV_SECRETS.filter((k) => !vars[k]);
  if (created.length > 0) {
    const header =
      before === null
        ? '# Local secrets for `wrangler dev` (npm run dev:edge). Git-ignored; never ' +
          'commit them.\n# Deployed workers: npx wrangler secret put SUBMIT_TOKEN / RUNNER_TOKEN.\n'
        : before.endsWith('\n') || before === ''
          ? ''
          : '\n';
    const lines = created.map((k) => {
      vars[k] = randomBytes(32).toString('hex');
      return `${k}="${vars[k]}"\n`;
    });
    writeFileSync(file, (before ?? '') + header + lines.join(''), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { file, created, vars };
}

/** What `npm run dev:edge` prints about the local secrets. */
export function describeDevVars(r: DevVarsResult, api = 'http://127.0.0.1:8787'): string {
  const rel = path.relative(process.cwd(), r.file) || r.file;
  const state =
    r.created.length === DEV_SECRETS.length
      ? 'created now, random'
      : r.created.length > 0
        ? `added ${r.created.join(', ')}`
        : 'kept as they are';
  const lines = [
    `local secrets: ${r.file} (SUBMIT_TOKEN, RUNNER_TOKEN; ${state}; git-ignored; wrangler dev reads them)`,
    `  a GPU runner: set -a; . ./${rel}; set +a; npm run runner -- --api ${api} --token "$RUNNER_TOKEN"`,
    `  submit a job: curl -X POST ${api}/v1/jobs -H "authorization: Bearer $SUBMIT_TOKEN" ` +
      `-H 'content-type: application/json' -d '{"kind":"ranking-sums","seed":1,"count":1000}'`,
  ];
  if (r.vars.SUBMIT_TOKEN && r.vars.SUBMIT_TOKEN === r.vars.RUNNER_TOKEN)
    lines.push(`  WARNING: SUBMIT_TOKEN equals RUNNER_TOKEN in ${rel}: both scopes are disabled until they differ`);
  return lines.join('\n');
}
