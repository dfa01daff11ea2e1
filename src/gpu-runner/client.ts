/**
 * The runner's HTTP client for the edge's runner endpoints (bearer token). Transient failures
 * (network errors, 5xx, 429) are retried with exponential backoff, except refused model weights;
 * 4xx answers are returned to the caller, which decides (a 409 means the lease is gone).
 */

// The lease, shard and job spec are the protocol's (src/protocol/job.ts, the schemas the edge
// answers with), not re-declared here.
import type { LeaseView } from '../protocol/job.js';
export type { LeaseView } from '../protocol/job.js';

export class EdgeError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${problemDetail(body) ?? body.slice(0, 500)}`);
  }
}

/** The `detail` of a problem+json body (what the edge says went wrong), if it is one. */
function problemDetail(body: string): string | null {
  try {
    const p = JSON.parse(body) as { type?: unknown; detail?: unknown };
    return typeof p.type === 'string' && typeof p.detail === 'string' ? `${p.type}: ${p.detail.slice(0, 1000)}` : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A 503 that retrying will not heal: the edge refused a model's weights (a file that fails its
 * checksum stays refused until someone replaces it). The shard fails at once, naming the problem.
 */
async function lasting(res: Response): Promise<boolean> {
  if (res.status !== 503 || !res.headers.get('content-type')?.startsWith('application/problem+json')) return false;
  try {
    return ((await res.clone().json()) as { type?: unknown }).type === '/problems/weights-refused';
  } catch {
    return false;
  }
}

export class EdgeClient {
  readonly base: string;

  constructor(
    api: string,
    private readonly token: string,
    /**
     * retryForMs: how long transient failures are retried (backoff 0.25 s doubling to 10 s) before
     * giving up; a restarted edge took 21 s to answer again, and a computed shard result is worth
     * waiting a whole lease for (the default, 120 s). retries: a cap on attempts (default none).
     */
    private readonly opts: {
      retries?: number;
      retryForMs?: number;
      log?: (line: string) => void;
      giveUp?: () => boolean;
    } = {},
  ) {
    this.base = api.replace(/\/+$/, '');
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    const retries = this.opts.retries ?? Infinity;
    const deadline = Date.now() + (this.opts.retryForMs ?? 120_000);
    for (let attempt = 0; ; attempt++) {
      let res: Response | null = null;
      let err: unknown = null;
      try {
        res = await fetch(this.base + path, {
          method,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (e) {
        err = e;
      }
      const transient = res === null || ((res.status >= 500 || res.status === 429) && !(await lasting(res)));
      if (!transient || attempt >= retries || Date.now() >= deadline || this.opts.giveUp?.()) {
        if (res === null) throw err;
        return res;
      }
      if (res) await res.body?.cancel();
      const wait = Math.max(0, Math.min(10_000, 250 * 2 ** attempt, deadline - Date.now()));
      this.opts.log?.(
        `${method} ${path}: ${res ? `HTTP ${res.status}` : (err as Error).message}; retrying in ${wait} ms`,
      );
      await sleep(wait);
    }
  }

  private async jsonOrThrow<T>(res: Response, what: string): Promise<T> {
    const text = await res.text();
    if (!res.ok) throw new EdgeError(res.status, text, what);
    return JSON.parse(text) as T;
  }

  /** The next shard, or null when there is nothing to do. */
  async lease(runner: string, leaseMs: number, kinds: string[]): Promise<LeaseView | null> {
    const res = await this.request('POST', '/v1/runner/lease', { runner, leaseMs, kinds });
    if (res.status === 204) return null;
    return this.jsonOrThrow<LeaseView>(res, 'lease');
  }

  async heartbeat(
    jobId: string,
    body: {
      runner: string;
      shard: number;
      lease: string;
      done: number;
      total: number;
      samplesPerSecond?: number;
      etaSeconds?: number;
      leaseMs: number;
    },
  ): Promise<void> {
    await this.jsonOrThrow(await this.request('POST', `/v1/runner/jobs/${jobId}/heartbeat`, body), 'heartbeat');
  }

  async complete(
    jobId: string,
    body: { runner: string; shard: number; lease: string; payload: unknown; computed: Record<string, unknown> },
  ): Promise<{ status: string }> {
    return this.jsonOrThrow(await this.request('POST', `/v1/runner/jobs/${jobId}/complete`, body), 'complete');
  }

  async fail(jobId: string, body: { runner: string; shard: number; lease: string; error: string }): Promise<void> {
    await this.jsonOrThrow(await this.request('POST', `/v1/runner/jobs/${jobId}/fail`, body), 'fail');
  }

  async release(jobId: string, body: { runner: string; shard: number; lease: string }): Promise<void> {
    await this.jsonOrThrow(await this.request('POST', `/v1/runner/jobs/${jobId}/release`, body), 'release');
  }

  /** A registered classifier's model.json, weights (shards concatenated) or adapter, as the edge stores them. */
  async classifierFile(id: string, file: 'model' | 'weights' | 'adapter'): Promise<Uint8Array> {
    const res = await this.request('GET', `/v1/runner/classifiers/${encodeURIComponent(id)}/${file}`);
    if (!res.ok) throw new EdgeError(res.status, await res.text(), `classifier ${id} ${file}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** A stored result (GET /v1/results/{key}, immutable): what it was computed from and its payload. */
  async result<T = unknown>(
    key: string,
  ): Promise<{
    key: string;
    kind: string;
    generatorId: string;
    classifierId: string;
    sweep: { seed: number; count: number };
    payload: T;
  }> {
    return this.jsonOrThrow(await this.request('GET', `/v1/results/${encodeURIComponent(key)}`), `result ${key}`);
  }

  /** A model's manifest or weights bytes as the edge holds them. */
  async modelFile(id: string, file: 'manifest' | 'weights'): Promise<Uint8Array> {
    const res = await this.request('GET', `/v1/runner/models/${encodeURIComponent(id)}/${file}`);
    if (!res.ok) throw new EdgeError(res.status, await res.text(), `model ${id} ${file}`);
    return new Uint8Array(await res.arrayBuffer());
  }
}
