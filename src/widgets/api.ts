/**
 * The widgets' client for the Faultlines edge API: GET-only, cross-origin (the read endpoints send
 * `Access-Control-Allow-Origin: *`), no credentials. Failures become one human sentence: the API is
 * unreachable, or its problem+json detail.
 */

/** The origin this module was loaded from: the default API base (the worker serves both). */
const MODULE_ORIGIN = (() => {
  try {
    return new URL(import.meta.url).origin;
  } catch {
    return '';
  }
})();

/** The job that computes a result the API has not computed (a 404 `not-computed` names it). */
export interface JobSubmission {
  method: string;
  href: string;
  body: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly field?: string,
    readonly submit?: JobSubmission,
    /** No answer within the request's timeout (the API may be hung or overloaded). */
    readonly timedOut = false,
  ) {
    super(message);
  }
}

/**
 * The command that submits `submit` to the API at `base`: the submitter token stays a shell
 * variable (the worker's SUBMIT_TOKEN secret; `npm run dev:edge` writes it into .dev.vars), never
 * a value in the page.
 */
export function submitCurl(base: string, submit: JobSubmission): string {
  const body = JSON.stringify(submit.body).replace(/'/g, `'\\''`);
  return `curl -H "Authorization: Bearer $SUBMIT_TOKEN" -H 'content-type: application/json' -d '${body}' ${apiUrl(base, submit.href)}`;
}

/** `base` (an `api` attribute) normalised, or the module's own origin. */
export function apiBase(attr: string | null | undefined): string {
  const b = (attr ?? '').trim() || MODULE_ORIGIN || location.origin;
  return b.replace(/\/+$/, '');
}

export type Params = Record<string, string | number | boolean | null | undefined>;

export function apiUrl(base: string, path: string, params: Params = {}): string {
  const url = new URL(path, `${base}/`);
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  return url.toString();
}

/**
 * Per-request options: an abort signal (a page aborts the requests of a selection it left), a
 * timeout per attempt (a hung API becomes an error the page can offer to retry, never an endless
 * "Loading…") and how many times a refused (503/429) request is tried again.
 */
export interface RequestOptions {
  signal?: AbortSignal;
  /** Per attempt, from when the request leaves the page queue (ms). Default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Further attempts after a 503 or 429 (default 4 for live computations, 2 otherwise). */
  retries?: number;
  /** Query parameters every request with these options carries (a page's `domain`); the request's own win. */
  params?: Params;
}

/** Long enough for a live traversal on a busy isolate; short enough that a hung API is reported. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Live computations (tfjs on the worker's one thread, admitted by its limiter: src/worker/live-limit.ts).
 * A page that fires many at once gets most refused with 503; the page queue keeps at most
 * LIVE_CONCURRENCY of them in flight per API, so the worker's queue stays short.
 */
const LIVE_PATH = /^\/v1\/(traversal|render|classify|corner-case|embeddings\/sample)$/;
const LIVE_CONCURRENCY = 2;

class Slots {
  private active = 0;
  private waiting: Array<() => void> = [];
  constructor(private readonly size: number) {}
  /** Resolves with a release function once a slot is free; an aborted wait gives up its place. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const release = () => {
        this.active--;
        this.waiting.shift()?.();
      };
      const take = () => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        resolve(release);
      };
      const onAbort = () => {
        this.waiting = this.waiting.filter((w) => w !== take);
        reject(abortError());
      };
      if (signal?.aborted) return reject(abortError());
      if (this.active < this.size) return take();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(take);
    });
  }
}

const liveSlots = new Map<string, Slots>();
const abortError = () => new DOMException('aborted', 'AbortError');

/** Sleeps `ms`, or rejects with an AbortError as soon as `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Seconds to wait before trying again: the server's Retry-After, at least an exponential backoff, at most 10 s. */
function retryDelayMs(retryAfter: string | null, attempt: number): number {
  const server = Number(retryAfter);
  const backoff = 500 * 2 ** attempt;
  return Math.min(10_000, Math.max(Number.isFinite(server) && server > 0 ? server * 1000 : 0, backoff));
}

/**
 * One GET through the page queue (live paths), with the timeout per attempt and the retries after
 * 503/429; `read` turns the successful response into the result inside the attempt (so its body
 * counts against the timeout). Every failure is an ApiError with a readable message.
 */
async function request<T>(
  base: string,
  path: string,
  params: Params,
  opts: RequestOptions,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  const url = apiUrl(base, path, { ...opts.params, ...params });
  const live = LIVE_PATH.test(path);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = opts.retries ?? (live ? 4 : 2);
  let slots = liveSlots.get(base);
  if (live && !slots) {
    slots = new Slots(LIVE_CONCURRENCY);
    liveSlots.set(base, slots);
  }
  for (let attempt = 0; ; attempt++) {
    const release = live ? await slots!.acquire(opts.signal) : () => {};
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let refused: { retryAfter: string | null } | null = null;
    try {
      let res: Response;
      try {
        res = await fetch(url, { mode: 'cors', credentials: 'omit', signal: controller.signal });
      } catch (e) {
        throw networkError(e);
      }
      if ((res.status === 503 || res.status === 429) && attempt < retries) {
        // Refused by the live limiter or the rate limit: the body (problem+json) is dropped, the attempt repeated.
        refused = { retryAfter: res.headers.get('retry-after') };
        await res.body?.cancel().catch(() => {});
      } else {
        if (!res.ok || res.status === 202) throw await problemOf(res, path).catch(rethrow);
        return await read(res).catch(rethrow);
      }
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      release();
    }
    await pause(retryDelayMs(refused!.retryAfter, attempt), opts.signal);

    function rethrow(e: unknown): never {
      throw networkError(e);
    }
    function networkError(e: unknown): Error {
      if (e instanceof ApiError) return e;
      if (opts.signal?.aborted) return abortError();
      if (timedOut)
        return new ApiError(
          `The Faultlines API at ${base} did not answer ${path} within ${Math.round(timeoutMs / 100) / 10} s.`,
          null,
          undefined,
          undefined,
          true,
        );
      if ((e as Error).name === 'AbortError') return e as Error;
      return new ApiError(
        `The Faultlines API at ${base} is unreachable (${(e as Error).message || 'network error'}).`,
        null,
      );
    }
  }
}

/** The ApiError for a response that is not a result: 202 (still computing) or an HTTP error. */
async function problemOf(res: Response, path: string): Promise<ApiError> {
  const type = res.headers.get('content-type') ?? '';
  if (res.status === 202) {
    const body = (await res.json().catch(() => ({}))) as { job?: { progress?: { done: number; total: number } } };
    const p = body.job?.progress;
    return new ApiError(
      `This result is still being computed${p ? ` (${p.done}/${p.total})` : ''}; try again later.`,
      202,
    );
  }
  if (type.includes('json')) {
    const p = (await res.json().catch(() => ({}))) as {
      title?: string;
      detail?: string;
      field?: string;
      submit?: JobSubmission;
    };
    const submit =
      p.submit && typeof p.submit.href === 'string' && typeof p.submit.body === 'object' && p.submit.body !== null
        ? p.submit
        : undefined;
    return new ApiError(`${p.title ?? `HTTP ${res.status}`}: ${p.detail ?? ''}`.trim(), res.status, p.field, submit);
  }
  return new ApiError(`The Faultlines API answered HTTP ${res.status} for ${path}.`, res.status);
}

const toOptions = (o: AbortSignal | RequestOptions | undefined): RequestOptions =>
  o === undefined ? {} : o instanceof AbortSignal ? { signal: o } : o;

/** GET a JSON document; throws ApiError with a readable message. 202 (result pending) is an error too. */
// biome-ignore lint/suspicious/noExplicitAny: callers name the payload type; untyped callers get today's `any`.
export function getJson<T = any>(
  base: string,
  path: string,
  params: Params = {},
  opts?: AbortSignal | RequestOptions,
): Promise<T> {
  return request(base, path, params, toOptions(opts), (res) => res.json() as Promise<T>);
}

/**
 * POST a JSON body with the submitter token (bearer): the answer's status (200, 201 or 202) and
 * body, else an ApiError naming the field the API refused. The API accepts writes from its own
 * origin only (no CORS on write paths), so this works in pages the API serves (the embeds, the
 * dashboard). The token is only sent, never kept.
 */
// biome-ignore lint/suspicious/noExplicitAny: callers name the answer type.
export async function postJson<T = any>(
  base: string,
  path: string,
  body: unknown,
  token: string,
  signal?: AbortSignal,
): Promise<{ status: number; body: T }> {
  let res: Response;
  try {
    res = await fetch(apiUrl(base, path), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(`The Faultlines API at ${base} did not answer: ${(e as Error).message}`, null);
  }
  if (res.status === 200 || res.status === 201 || res.status === 202)
    return { status: res.status, body: await res.json() };
  throw await problemOf(res, path);
}

/** Standard base64 of a file's bytes (an image to POST as JSON). */
export async function fileBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** GET an image (a PNG traversal strip) as an object URL, through the same queue, timeout and retries; the caller revokes it. */
export function getImageUrl(
  base: string,
  path: string,
  params: Params = {},
  opts?: AbortSignal | RequestOptions,
): Promise<string> {
  return request(base, path, params, toOptions(opts), async (res) => URL.createObjectURL(await res.blob()));
}

/**
 * A widget attribute the widget cannot use: refused visibly (the widget shows this, naming the
 * attribute) instead of quietly drawing something else, e.g. class 0 for class="abc".
 */
export class AttributeError extends Error {
  constructor(
    readonly attribute: string,
    value: string,
    expected: string,
  ) {
    super(`Invalid attribute ${attribute}="${value}": ${expected}.`);
  }
}

/**
 * An integer attribute in [min, max]: `fallback` when unset or empty; an AttributeError naming the
 * attribute for anything else.
 */
export function intAttribute(
  name: string,
  v: string | null | undefined,
  min: number,
  max: number,
  fallback: number | null = null,
): number | null {
  if (v === null || v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new AttributeError(name, v, `expected an integer from ${min} to ${max}`);
  return n;
}

/** A number attribute in [min, max] (`fallback` when unset or empty; an AttributeError otherwise). */
export function numAttribute(
  name: string,
  v: string | null | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (v === null || v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new AttributeError(name, v, `expected a number from ${min} to ${max}`);
  return n;
}

/** A classifier as titles show it: a registered classifier's 64-hex id shortened (the full id stays in the attribute). */
export const classifierTitle = (name: string) =>
  /^[0-9a-f]{64}$/.test(name) ? `registered ${name.slice(0, 12)}…` : name;

export const ARROW = { increase: '↑', decrease: '↓' } as const;
export const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
