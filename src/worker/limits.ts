/** Bounds that keep every live request inside a Worker's CPU budget. */
export const LIMITS = {
  /** Request bodies (bytes). */
  bodyBytes: 64 * 1024,
  /**
   * POST /v1/classify bodies (bytes): a full batch as JSON — 16 images of 1,024 values written
   * with up to 20 characters each (e.g. 0.12345678901234567,) is about 330 KB.
   */
  classifyBodyBytes: 384 * 1024,
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
