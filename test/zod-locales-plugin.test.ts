/**
 * The worker bundle's zod keeps English only (scripts/edge/zod-locales-plugin.ts): the same
 * validation messages as zod unbundled, `z.locales.en` still there, the ~50 other locales gone.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { zodEnglishOnlyPlugin } from '../scripts/edge/zod-locales-plugin.js';

const ENTRY = `
import { z } from 'zod';
const r = z.object({ n: z.number().int().min(2), s: z.enum(['a', 'b']) }).safeParse({ n: 1.5, s: 'c' });
export const messages = r.error.issues.map((i) => i.message);
export const locales = Object.keys(z.locales);
export const english = z.locales.en().localeError !== undefined;
`;

async function bundle(plugins: ReturnType<typeof zodEnglishOnlyPlugin>[]) {
  const out = await build({
    stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    write: false,
    plugins,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0].text;
  const mod = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as {
    messages: string[];
    locales: string[];
    english: boolean;
  };
  return { ...mod, bytes: code.length };
}

describe('zodEnglishOnlyPlugin', () => {
  it('bundles English alone, with the messages of unbundled zod', async () => {
    const expected = z
      .object({ n: z.number().int().min(2), s: z.enum(['a', 'b']) })
      .safeParse({ n: 1.5, s: 'c' })
      .error!.issues.map((i) => i.message);
    const [plain, english] = await Promise.all([bundle([]), bundle([zodEnglishOnlyPlugin()])]);
    expect(plain.locales.length).toBeGreaterThan(40);
    expect(english.locales).toEqual(['en']);
    expect(english.english).toBe(true);
    expect(english.messages).toEqual(expected);
    expect(plain.messages).toEqual(expected);
    // The point of the plugin: the locales are most of zod's weight.
    expect(english.bytes).toBeLessThan(plain.bytes - 200_000);
  }, 60_000);
});
