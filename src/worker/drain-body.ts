/**
 * Reads what is left of a request body before the response goes out. workerd closes (or resets) a
 * keep-alive connection whose request body was left unread, so any early reply — a 401 before the
 * body is parsed, a 404 for a POST to no route, a 413 found from content-length or part-way
 * through a chunked body — would leave a client that is still sending with a reset connection, and
 * the next request on that connection fails or hangs. This middleware owns the body stream: the
 * app reads it through a pass-through, and whatever the app did not read is read and dropped here,
 * up to a bound in bytes and while it keeps coming (a client that sends more than that, or stops
 * sending what it declared, is cut off: that is its own doing).
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './http.js';

/** Most bytes drained after an early reply (the largest body any route accepts is 16 MiB). */
const DRAIN_LIMIT_BYTES = 32 * 1024 * 1024;
/**
 * How long the drain waits for the next piece of a body: a client that declared more than it
 * sends (or stalls) does not hold the reply; its connection is cut instead.
 */
const DRAIN_IDLE_MS = 2000;

export function drainUnreadBody(limit = DRAIN_LIMIT_BYTES): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const original = c.req.raw;
    if (!original.body) return next();
    const reader = original.body.getReader();
    let finished = false;
    // One read at a time on the original stream, whoever asks (the pass-through or the drain).
    let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
    const read = () =>
      (pending ??= reader.read().then((r) => {
        pending = null;
        if (r.done) finished = true;
        return r;
      }));
    const passThrough = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const { done, value } = await read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
      },
      // Pull only when the app reads: nothing is read ahead of it.
      { highWaterMark: 0 },
    );
    c.req.raw = new Request(original, { body: passThrough });
    try {
      await next();
    } finally {
      let drained = 0;
      try {
        while (!finished && drained <= limit) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const idle = new Promise<'idle'>((resolve) => (timer = setTimeout(() => resolve('idle'), DRAIN_IDLE_MS)));
          const next = await Promise.race([read(), idle]);
          clearTimeout(timer);
          if (next === 'idle') break;
          drained += next.value?.byteLength ?? 0;
        }
        if (!finished) await reader.cancel('request body over the drain limit or stalled');
      } catch {
        /* the client went away: nothing left to drain */
      }
    }
  };
}
