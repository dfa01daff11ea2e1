/**
 * The frame of a live computation on the request's models: answered from the Cache API when its
 * ETag is there (`viaCache`), else run within the isolate's live-compute budget (`limitedCompute`:
 * 503 + Retry-After when exhausted) with the live-compute chunk loaded and the models fetched.
 */
import { keep, viaCache, type AppContext } from '../http.js';
import { liveCompute } from '../isolate-models.js';
import { limitedCompute } from '../live-limit.js';

/** The live-compute chunk (live-compute.ts), loaded on the first live call. */
export type LiveCompute = Awaited<ReturnType<typeof liveCompute>>;
export type LiveCallModels = Awaited<ReturnType<LiveCompute['getModels']>>;

/** `compute` on the models of (`classifier`, `domain`), cached under `etag`. */
export function cachedLiveCall(
  c: AppContext,
  etag: string,
  classifier: string | undefined,
  domain: string | undefined,
  compute: (k: LiveCompute, models: LiveCallModels) => Promise<Response>,
): Promise<Response> {
  return viaCache(c, etag, () =>
    limitedCompute(c.env, async () => {
      const k = await liveCompute();
      const models = await k.getModels(c.env, classifier, keep(c), domain);
      return compute(k, models);
    }),
  );
}
