/**
 * `npm run lint` (after Biome): no line over 160 characters in src/, test/, scripts/ or bench/.
 * Biome's formatter wraps code at 120 but never breaks a string, template or comment, and it has no
 * line-length rule; this does. Characters, not bytes (JavaScript string length).
 *
 * ALLOWED holds the files not yet broken up, each with the count it may not exceed (it can only
 * shrink): lit `html`/`css` templates, whose text cannot be concatenated without leaving lit, and
 * inline page code in report/dashboard templates.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const MAX_LINE = 160;
const ROOTS = ['src', 'test', 'scripts', 'bench'];
const CODE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const ALLOWED: Record<string, number> = {
  'src/node/report/html.ts': 6,
  'src/widgets/directions.ts': 8,
  'src/widgets/explain.ts': 6,
  'src/worker/routes/dashboard.ts': 4,
};

function* codeFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'dist') yield* codeFiles(p);
    } else if (CODE.test(e.name)) yield p;
  }
}

/** Each file's lines over MAX_LINE, as `file:line (length)`. */
function longLines(root = '.'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of ROOTS)
    for (const file of codeFiles(path.join(root, r))) {
      const rel = path.relative(root, file).split(path.sep).join('/');
      const lines = readFileSync(file, 'utf8').split('\n');
      const long = lines.flatMap((l, i) => (l.length > MAX_LINE ? [`${rel}:${i + 1} (${l.length})`] : []));
      if (long.length > 0) out.set(rel, long);
    }
  return out;
}

const problems: string[] = [];
for (const [file, lines] of longLines()) {
  const allowed = ALLOWED[file] ?? 0;
  if (lines.length > allowed)
    problems.push(`${file}: ${lines.length} lines over ${MAX_LINE} characters (allowed ${allowed}):`, ...lines);
}
if (problems.length > 0) {
  console.error(`${problems.join('\n')}\nBreak long strings with + or shorter wording (scripts/check-line-length.ts).`);
  process.exit(1);
}
