/**
 * `faultlines <command> [options]` — the Node entry point. Each command lives in its own module
 * under ./commands and exports `run(args)`.
 */
const commands: Record<string, () => Promise<{ run(args: string[]): Promise<void>; summary: string }>> = {
  analyze: () => import('./commands/analyze.js'),
  evaluate: () => import('./commands/evaluate.js'),
  explain: () => import('./commands/explain.js'),
  'eval-generator': () => import('./commands/eval-generator.js'),
  'eval-projection': () => import('./commands/eval-projection.js'),
  'noise-correlation': () => import('./commands/noise-correlation.js'),
  'paint-generator': () => import('./commands/paint-generator.js'),
  'train-classifier': () => import('./commands/train-classifier.js'),
  'train-generator': () => import('./commands/train-generator.js'),
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  if (name === undefined || name === '--help' || name === '-h' || !(name in commands)) {
    const lines = await Promise.all(
      Object.entries(commands).map(async ([n, load]) => `  ${n.padEnd(18)} ${(await load()).summary}`),
    );
    const out = `usage: faultlines <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
    if (name !== undefined && name !== '--help' && name !== '-h') {
      process.stderr.write(`unknown command "${name}"\n\n${out}`);
      process.exit(2);
    }
    process.stdout.write(out);
    return;
  }
  await (await commands[name]()).run(args);
}

main().catch((err: unknown) => {
  process.stderr.write(`faultlines: ${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env.FAULTLINES_DEBUG) console.error(err);
  process.exit(1);
});
