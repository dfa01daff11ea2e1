/**
 * Registration from a URL: model.json and its shards fetched only under the operator's allow-list
 * (MODEL_URL_ALLOWLIST), redirects refused, every read capped by the registration's limits.
 */
import type { Env } from '../env.js';
import { ProblemError } from '../problem.js';
import { UPLOAD_LIMITS } from './limits.js';
import { checkedModelJson, type RegistrationInput } from './registration.js';

/** The operator's allowed URL prefixes (MODEL_URL_ALLOWLIST: space- or comma-separated). */
function allowList(env: Env): string[] {
  return (env.MODEL_URL_ALLOWLIST ?? '')
    .split(/[\s,]+/)
    .filter((p) => p.length > 0)
    .flatMap((p) => {
      try {
        const u = new URL(p);
        return u.protocol === 'https:' || u.protocol === 'http:' ? [u.href] : [];
      } catch {
        return [];
      }
    });
}

/**
 * Whether `href` (normalised, so `..` cannot climb out) lies under an allowed prefix. A prefix
 * matches at a path boundary only: `https://host/models` allows `https://host/models/x.json`,
 * not `https://host/models-evil/x.json` nor `https://host/modelsx`.
 */
function urlAllowed(href: string, prefixes: string[]): boolean {
  return prefixes.some(
    (p) => href.startsWith(p) && (p.endsWith('/') || href.length === p.length || '/?#'.includes(href[p.length])),
  );
}

async function readCapped(res: Response, cap: number, what: string, used: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  const tooLarge = () =>
    new ProblemError(
      413,
      'body-too-large',
      `${what} exceeds the registration limit of ${UPLOAD_LIMITS.bodyBytes} bytes in all (model.json at most ${UPLOAD_LIMITS.modelJsonBytes})`,
      { field: 'url', limit: UPLOAD_LIMITS.bodyBytes },
    );
  if (Number.isFinite(declared) && (declared > cap || used + declared > UPLOAD_LIMITS.bodyBytes)) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const reader = res.body?.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.byteLength;
      if (n > cap || used + n > UPLOAD_LIMITS.bodyBytes) {
        await reader.cancel();
        throw tooLarge();
      }
      parts.push(value);
    }
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

async function fetchAllowed(
  href: string,
  prefixes: string[],
  cap: number,
  used: number,
  what: string,
): Promise<Uint8Array> {
  if (!urlAllowed(href, prefixes)) {
    throw new ProblemError(
      403,
      'forbidden',
      `${what} ${href} is not under an operator-allowed prefix (MODEL_URL_ALLOWLIST)`,
      { field: 'url', url: href },
    );
  }
  let res: Response;
  try {
    // Redirects are not followed: the target could lie outside the allow-list.
    res = await fetch(href, { redirect: 'manual', headers: { accept: 'application/json, application/octet-stream' } });
  } catch (err) {
    throw new ProblemError(422, 'model-refused', `${what} ${href} could not be fetched: ${(err as Error).message}`, {
      field: 'url',
      url: href,
    });
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    throw new ProblemError(
      422,
      'model-refused',
      `${what} ${href} answered a redirect (HTTP ${res.status} to ${res.headers.get('location') ?? '?'}); redirects are not followed: register the final URL`,
      { field: 'url', url: href },
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ProblemError(422, 'model-refused', `${what} ${href} answered HTTP ${res.status}`, {
      field: 'url',
      url: href,
    });
  }
  return readCapped(res, cap, `${what} ${href}`, used);
}

/** Fetches model.json and its shards (resolved against model.json's URL, each checked against the allow-list). */
export async function fetchFromUrl(env: Env, url: string): Promise<Pick<RegistrationInput, 'modelJson' | 'shards'>> {
  const prefixes = allowList(env);
  if (prefixes.length === 0) {
    throw new ProblemError(
      403,
      'forbidden',
      'registration from URLs is disabled: the operator has allowed no URL prefixes (MODEL_URL_ALLOWLIST)',
      { field: 'url' },
    );
  }
  let href: string;
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('only http and https');
    if (u.username || u.password) throw new Error('no credentials in URLs');
    u.hash = '';
    href = u.href;
  } catch (err) {
    throw new ProblemError(400, 'validation', `url: not an http(s) URL of a model.json (${(err as Error).message})`, {
      field: 'url',
    });
  }
  const modelJson = await fetchAllowed(href, prefixes, UPLOAD_LIMITS.modelJsonBytes, 0, 'model.json at');
  const { paths } = checkedModelJson(modelJson, href);
  const shards = new Map<string, Uint8Array>();
  let used = modelJson.byteLength;
  for (const p of paths) {
    const shardUrl = new URL(p, href);
    shardUrl.hash = '';
    const bytes = await fetchAllowed(shardUrl.href, prefixes, UPLOAD_LIMITS.bodyBytes, used, `weight shard "${p}" at`);
    used += bytes.byteLength;
    shards.set(p, bytes);
  }
  return { modelJson, shards };
}
