/**
 * The runner's command line: `[run|sweep] --flag value ...`, parsed by node:util's parseArgs (Deno
 * ships it too, so the same bundle parses alike in both), and the typed reads of its flags.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The flags of both commands. Numbers stay strings here: `int` checks them, naming the flag. */
const OPTIONS = {
  // run
  api: { type: 'string' },
  token: { type: 'string' },
  name: { type: 'string' },
  'lease-ms': { type: 'string' },
  'drain-s': { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'poll-ms': { type: 'string' },
  'max-shards': { type: 'string' },
  kinds: { type: 'string' },
  'exit-when-idle': { type: 'boolean' },
  // sweep
  assets: { type: 'string' },
  classifier: { type: 'string' },
  seed: { type: 'string' },
  count: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  warmup: { type: 'string' },
  out: { type: 'string' },
  // both
  backend: { type: 'string' },
  batch: { type: 'string' },
  'no-deno': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export type Args = ReturnType<typeof parseCommandLine>['args'];

/** `[command] --flag value ...`: the command (default `run`) and its flags; an unknown flag is an error. */
export function parseCommandLine(argv: string[]) {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length > 1) throw new Error(`unexpected argument "${positionals[1]}"`);
  return { command: positionals[0] ?? 'run', args: values };
}

export const str = (a: Args, k: keyof Args, d?: string): string => {
  const v = a[k];
  if (typeof v === 'string') return v;
  if (d === undefined) throw new Error(`--${k} is required`);
  return d;
};
export const int = (a: Args, k: keyof Args, d: number): number => {
  const v = Number(str(a, k, String(d)));
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${k} must be a non-negative number`);
  return Math.floor(v);
};

/** argv without `--token T` / `--token=T` (parseArgs' tokens say where each flag and its value are), and the token. */
export function withoutToken(argv: string[]): { argv: string[]; token?: string } {
  const { values, tokens } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
    tokens: true,
  });
  const drop = new Set<number>();
  for (const t of tokens) {
    if (t.kind !== 'option' || t.name !== 'token') continue;
    drop.add(t.index);
    if (t.inlineValue === false) drop.add(t.index + 1);
  }
  return { argv: argv.filter((_, i) => !drop.has(i)), token: values.token };
}
