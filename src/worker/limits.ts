/** Bounds that keep every live request inside a Worker's CPU budget. */
export const LIMITS = {
  /** Request bodies (bytes). */
  bodyBytes: 64 * 1024,
  /** Frames of one traversal. */
  frames: 17,
  /** Bracketing range of a traversal / corner-case search, in std units. */
  maxSteps: 30,
  /** Images per classify call. */
  classifyBatch: 16,
  /** Edits applied to one style vector. */
  edits: 32,
  /** Integer upscaling of returned PNGs. */
  scale: 8,
  /** Dims returned by one ranking page. */
  top: 4096,
  /** Samples of a submitted sweep job. */
  jobSamples: 200_000,
  /** Largest seed (exclusive): seeds are 32-bit. */
  seed: 2 ** 32,
} as const;
