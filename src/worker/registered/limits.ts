/** Bounds on registered classifiers: what one registration may bring, and what an isolate keeps built. */

/** Bounds of a registration (uploads and URL fetches alike). */
export const UPLOAD_LIMITS = {
  /** A whole upload request (multipart framing included), and everything fetched for one URL registration. */
  bodyBytes: 16 * 1024 * 1024,
  /** model.json alone. */
  modelJsonBytes: 4 * 1024 * 1024,
  /** The adapter JSON. */
  adapterBytes: 64 * 1024,
  /** Weight shard files of one model. */
  shards: 64,
  /** Registered classifiers listed by GET /v1/models and /v1/classifiers. */
  listed: 1000,
} as const;

/**
 * Built registered classifiers of this isolate, least recently used first, bounded so that users'
 * models cannot exhaust the isolate's memory (their tensors live in the wasm heap, beside the
 * generator's). An evicted model is disposed once no request is in flight (`trackRequests`): a
 * request that got it before the eviction may still be computing with it.
 */
export const BUILT_LIMITS = { models: 4, weightBytes: 48 * 1024 * 1024 } as const;
