/**
 * The MNIST requests whose replies must stay byte-identical when `?domain=` was added to every
 * endpoint (issue 15): one request per route that serves results or computes, and a few refusals.
 * Their replies on main before the change are committed in mnist-replies-main.json (status, the
 * headers a client or cache acts on, and the sha256 of the body); test/worker/domains-api.test.ts
 * replays them against the current worker. Recapture (only when a reply is meant to change):
 * `CAPTURE_MNIST_REPLIES=1 npx vitest run test/worker/domains-api.test.ts -t byte-identical`.
 */
import { createHash } from 'node:crypto';

export interface ReplayedRequest {
  method: 'GET' | 'POST';
  url: string;
  /** JSON body of a POST. */
  body?: unknown;
  /** Sent with the submitter token (POST /v1/jobs, /v1/explain). */
  submit?: boolean;
}

export interface RecordedReply {
  status: number;
  headers: Record<string, string | null>;
  bytes: number;
  sha256: string;
}

/** Headers that are part of the reply's meaning (the date and request ids are not). */
const KEPT_HEADERS = [
  'content-type',
  'etag',
  'cache-control',
  'location',
  'retry-after',
  'x-predicted-class',
  'x-p-true',
];

export async function recordReply(res: Response): Promise<RecordedReply> {
  const body = new Uint8Array(await res.arrayBuffer());
  return {
    status: res.status,
    headers: Object.fromEntries(KEPT_HEADERS.map((h) => [h, res.headers.get(h)])),
    bytes: body.byteLength,
    sha256: createHash('sha256').update(body).digest('hex'),
  };
}

/** A 32x32 grey PNG of a blank image (for the explain refusal), as base64. */
const BLANK_32_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAAAAABWESUoAAAAEUlEQVR4XmMYBaNgFIwCHAAABCAAAdOn7d0AAAAASUVORK5CYII=';

export const MNIST_REQUESTS: ReplayedRequest[] = [
  // Cached results (the seeded default sweep) and their views.
  { method: 'GET', url: '/v1/rankings' },
  { method: 'GET', url: '/v1/rankings?classifier=classifier-corrupted&class=3&top=5' },
  { method: 'GET', url: '/v1/histograms' },
  { method: 'GET', url: '/v1/accuracy-curves?classifier=classifier-corrupted' },
  { method: 'GET', url: '/v1/corner-cases?class=2' },
  { method: 'GET', url: '/v1/directions?class=4' },
  { method: 'GET', url: '/v1/results' },
  { method: 'GET', url: '/v1/rankings/rows?class=1&top=5' },
  { method: 'GET', url: '/v1/accuracy-curves/rows' },
  { method: 'GET', url: '/v1/embeddings?space=S' },
  // A sweep nobody computed: the 404 names the job to submit and the key (unchanged keys).
  { method: 'GET', url: '/v1/rankings?seed=5&count=100' },
  { method: 'GET', url: '/v1/corner-cases?seed=5&count=100' },
  { method: 'GET', url: '/v1/embeddings?seed=5&count=100' },
  // Live computations.
  { method: 'GET', url: '/v1/render?seed=7&class=3&scale=1' },
  { method: 'GET', url: '/v1/render?seed=7&class=3&format=png&scale=1' },
  {
    method: 'POST',
    url: '/v1/render',
    body: { seed: 7, class: 3, edits: [{ dim: 17, shift: 2 }], scale: 1 },
  },
  { method: 'POST', url: '/v1/classify', body: { images: [Array.from({ length: 1024 }, (_, i) => (i % 7) / 6)] } },
  { method: 'GET', url: '/v1/traversal?class=3&dim=17&frames=3&scale=1' },
  { method: 'GET', url: '/v1/corner-case?class=3&dim=17&maxSteps=4&scale=1' },
  { method: 'GET', url: '/v1/embeddings/sample?index=3&scale=1' },
  // A job whose result is seeded: answered 200 with its result URL (a new job would carry a fresh id).
  { method: 'POST', url: '/v1/jobs', body: { kind: 'histograms', seed: 1, count: 2000 }, submit: true },
  { method: 'POST', url: '/v1/explain', body: { image: BLANK_32_PNG, label: 12 }, submit: true },
  // Refusals. (Embed pages are not here: they name the widgets module by its content hash.)
  { method: 'GET', url: '/v1/traversal?class=3&dim=9999' },
  { method: 'GET', url: '/v1/rankings?classifier=nope' },
];

export function requestInit(r: ReplayedRequest, submitAuth: Record<string, string>): RequestInit {
  if (r.method === 'GET') return {};
  return {
    method: r.method,
    headers: { 'content-type': 'application/json', ...(r.submit ? submitAuth : {}) },
    body: JSON.stringify(r.body),
  };
}

export const MNIST_REPLIES_FIXTURE = 'test/worker/mnist-replies-main.json';
