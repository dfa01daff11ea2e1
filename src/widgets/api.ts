/**
 * The widgets' client for the Faultlines edge API: GET-only, cross-origin (the read endpoints send
 * `Access-Control-Allow-Origin: *`), no credentials. Failures become one human sentence: the API is
 * unreachable, or its problem+json detail.
 */

/** The origin this module was loaded from: the default API base (the worker serves both). */
export const MODULE_ORIGIN = (() => {
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
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  return url.toString();
}

/** GET a JSON document; throws ApiError with a readable message. 202 (result pending) is an error too. */
export async function getJson<T = any>(base: string, path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  const url = apiUrl(base, path, params);
  let res: Response;
  try {
    res = await fetch(url, { mode: 'cors', credentials: 'omit', signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(`The Faultlines API at ${base} is unreachable (${(e as Error).message || 'network error'}).`, null);
  }
  const type = res.headers.get('content-type') ?? '';
  if (res.status === 202) {
    const body = (await res.json().catch(() => ({}))) as { job?: { progress?: { done: number; total: number } } };
    const p = body.job?.progress;
    throw new ApiError(`This result is still being computed${p ? ` (${p.done}/${p.total})` : ''}; try again later.`, 202);
  }
  if (!res.ok) {
    if (type.includes('json')) {
      const p = (await res.json().catch(() => ({}))) as { title?: string; detail?: string; field?: string; submit?: JobSubmission };
      const submit = p.submit && typeof p.submit.href === 'string' && typeof p.submit.body === 'object' && p.submit.body !== null ? p.submit : undefined;
      throw new ApiError(`${p.title ?? `HTTP ${res.status}`}: ${p.detail ?? ''}`.trim(), res.status, p.field, submit);
    }
    throw new ApiError(`The Faultlines API answered HTTP ${res.status} for ${path}.`, res.status);
  }
  return (await res.json()) as T;
}

/** Attribute parsing helpers (attributes are strings; empty means unset). */
export function intAttr(v: string | null | undefined, fallback: number | null = null): number | null {
  if (v === null || v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  return Number.isInteger(n) ? n : fallback;
}

export function numAttr(v: string | null | undefined, fallback: number): number {
  if (v === null || v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : fallback;
}

/** A classifier as titles show it: a registered classifier's 64-hex id shortened (the full id stays in the attribute). */
export const classifierTitle = (name: string) => (/^[0-9a-f]{64}$/.test(name) ? `registered ${name.slice(0, 12)}…` : name);

export const ARROW = { increase: '↑', decrease: '↓' } as const;
export const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
