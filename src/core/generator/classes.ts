/**
 * The generator's classes as the analyses show them: one name per conditioning class and the class
 * whose average style the traversal figure starts from. Stored in the generator's weights manifest as
 * the optional field
 *
 *   "classes": { "names": ["eight", "seven", "three"], "traversalClass": 2 }
 *
 * Both parts are optional; without them (older manifests, the built-in MNIST generator):
 * - names: `provenance.classNames` when it is an array of K strings (what `train-generator --data`
 *   wrote before this field existed), else "0", "1", ..., "K-1";
 * - traversalClass: min(3, K - 1) — class 3 for MNIST's 10 digits (the paper's figure 5), the last
 *   class for a generator with fewer than 4 classes.
 * The class count itself is the architecture's `numClasses`; everything here is checked against it.
 */
import { z } from 'zod';

export const GeneratorClassesSchema = z.object({
  /** One name per generator class, in class-index order. */
  names: z.array(z.string().min(1)).min(1).optional(),
  /** Default start class of the traversal figure (an index into names). */
  traversalClass: z.number().int().nonnegative().optional(),
});
export type GeneratorClassesInput = z.infer<typeof GeneratorClassesSchema>;

export interface GeneratorClasses {
  names: string[];
  traversalClass: number;
}

/** The traversal class of a K-class generator whose manifest names none: min(3, K - 1). */
export function defaultTraversalClass(numClasses: number): number {
  return Math.max(0, Math.min(3, numClasses - 1));
}

/**
 * The classes of a K-class generator from its manifest's `classes` field (and, for names only, the
 * legacy `provenance.classNames`), with the fallbacks above. Throws naming `source` when the names
 * do not match K or the traversal class is out of range.
 */
export function resolveGeneratorClasses(
  numClasses: number,
  input: GeneratorClassesInput = {},
  source = 'generator',
  legacyNames?: unknown,
): GeneratorClasses {
  const parsed = GeneratorClassesSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: invalid "classes.${issue.path.join('.')}": ${issue.message}`);
  }
  const c = parsed.data;
  const legacy =
    Array.isArray(legacyNames) &&
    legacyNames.length === numClasses &&
    legacyNames.every((n) => typeof n === 'string' && n.length > 0)
      ? (legacyNames as string[])
      : undefined;
  const names = c.names ?? legacy ?? Array.from({ length: numClasses }, (_, i) => String(i));
  if (names.length !== numClasses)
    throw new Error(
      `${source}: classes.names has ${names.length} names, the generator has ${numClasses} classes (architecture.numClasses)`,
    );
  if (new Set(names).size !== names.length)
    throw new Error(`${source}: classes.names must be distinct, got ${JSON.stringify(names)}`);
  const traversalClass = c.traversalClass ?? defaultTraversalClass(numClasses);
  if (traversalClass >= numClasses)
    throw new Error(
      `${source}: classes.traversalClass must be in [0, ${numClasses - 1}] (the generator has ${numClasses} classes), got ${traversalClass}`,
    );
  return { names: [...names], traversalClass };
}

/** "3" for a class named after its index, else "3 (cat)": how reports label a class. */
export function classLabel(classes: { names: readonly string[] }, index: number): string {
  const name = classes.names[index];
  return name === undefined || name === String(index) ? String(index) : `${index} (${name})`;
}
