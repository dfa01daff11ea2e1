/**
 * The placeholder generator's identity, apart from its builder (built-models.ts) so that the
 * protocol and the browser bundles can name it without importing the generator's code.
 */
import { DEFAULT_GENERATOR } from '../generator/architecture.js';
import { contentHash } from '../hash.js';

/** Seed of the placeholder generator used when no weights exist. */
export const RANDOM_INIT_SEED = 0;
/** Identity of the placeholder generator: untrained, seeded, architecture-specific. */
export const RANDOM_INIT_ID = `random-init-${contentHash({ arch: DEFAULT_GENERATOR, seed: RANDOM_INIT_SEED }).slice(0, 16)}`;
