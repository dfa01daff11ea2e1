/**
 * Access, rate limits and the live-compute budget (issue #8), on the real worker in workerd:
 *
 * - scopes: the submitter's token (SUBMIT_TOKEN) can submit jobs and nothing of the runners'; the
 *   runner's token (RUNNER_TOKEN) can lease, report and fetch models and cannot submit; missing or
 *   equal secrets disable the scoped endpoints (403); every refusal is a problem+json naming the
 *   `authorization` field; the check comes before the body is parsed;
 * - CORS: write endpoints send no CORS headers and their preflights are refused;
 * - read rate limiting (the platform's ratelimit binding, simulated by Miniflare) per client IP:
 *   429 + Retry-After, other clients and the runners unaffected;
 * - the per-isolate live-compute limiter: saturated, live requests get 503 + Retry-After at once
 *   (never a timeout), cached answers still come, and it recovers;
 * - the limiter's queue logic (unit), and .dev.vars creation (unit).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveLimiter } from '../../src/worker/live-limit.js';
import { ensureDevVars, parseDevVars, describeDevVars } from '../../scripts/edge/dev-vars.js';
import { RUNNER_TOKEN, SUBMIT_TOKEN, problemOf } from './harness.js';
import { startConfiguredEdge, type ConfiguredEdge } from './configured-edge.js';

const json = { 'content-type': 'application/json' };
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const JOB = { kind: 'ranking-sums', seed: 4242, count: 64, shardSize: 32 };
const ORIGIN = { origin: 'https://dashboards.example' };

let edge: ConfiguredEdge; // both secrets; a small live-compute budget
let bare: ConfiguredEdge; // no secrets; a small read rate limit
let same: ConfiguredEdge; // both secrets equal

beforeAll(async () => {
  edge = await startConfiguredEdge(
    { RUNNER_TOKEN, SUBMIT_TOKEN, LIVE_MAX_INFLIGHT: '1', LIVE_MAX_QUEUE: '2', LIVE_MAX_WAIT_MS: '3000' },
    { limit: 1_000_000 },
  );
  bare = await startConfiguredEdge({}, { limit: 5, period: 10 });
  same = await startConfiguredEdge({ RUNNER_TOKEN: 'same-secret', SUBMIT_TOKEN: 'same-secret' }, { limit: 1_000_000 });
}, 240_000);

afterAll(async () => {
  await Promise.all([edge?.close(), bare?.close(), same?.close()]);
});

const post = (e: ConfiguredEdge, p: string, body: unknown, headers: Record<string, string> = {}) =>
  e.fetch(p, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) });

async function refusal(res: Response, status: number) {
  expect(res.status).toBe(status);
  const p = await problemOf(res);
  expect(p.field).toBe('authorization');
  expect(p.type).toBe(status === 401 ? '/problems/unauthorized' : '/problems/forbidden');
  return p;
}

describe('access scopes', () => {
  it('job submission needs the submitter token; the runner token and wrong tokens are refused', async () => {
    const none = await post(edge, '/v1/jobs', JOB);
    await refusal(none, 401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    await refusal(await post(edge, '/v1/jobs', JOB, bearer('wrong')), 401);
    await refusal(await post(edge, '/v1/jobs', JOB, bearer(`${SUBMIT_TOKEN}x`)), 401);
    await refusal(await post(edge, '/v1/jobs', JOB, { authorization: SUBMIT_TOKEN }), 401); // no scheme
    // A header that is not `Bearer <token68>` is refused like a missing token, on the runner scope too.
    const malformed = await refusal(
      await post(edge, '/v1/runner/lease', { runner: 'x' }, { authorization: `Basic ${RUNNER_TOKEN}` }),
      401,
    );
    expect(malformed.detail).toContain('RUNNER_TOKEN');
    const runnerTries = await refusal(await post(edge, '/v1/jobs', JOB, bearer(RUNNER_TOKEN)), 403);
    expect(runnerTries.detail).toContain('SUBMIT_TOKEN');
    // The scope is checked before the body is parsed: no validation detail for strangers.
    await refusal(await post(edge, '/v1/jobs', { kind: 'nonsense' }), 401);
    // Reading jobs stays public.
    expect((await edge.fetch('/v1/jobs')).status).toBe(200);

    const ok = await post(edge, '/v1/jobs', JOB, bearer(SUBMIT_TOKEN));
    expect(ok.status).toBe(202);
    expect(((await ok.json()) as { job: { status: string } }).job.status).toBe('queued');
  });

  it("the submitter token cannot do a runner's work; the runner token can", async () => {
    const sub = (await (await post(edge, '/v1/jobs', { ...JOB, seed: 4343 }, bearer(SUBMIT_TOKEN))).json()) as {
      job: { id: string };
    };
    const id = sub.job.id;
    const gid = edge.catalog.generator?.sha256 ?? edge.catalog.classifiers[0].sha256;
    const asSubmitter = bearer(SUBMIT_TOKEN);
    for (const [p, body] of [
      ['/v1/runner/lease', { runner: 'submitter' }],
      [`/v1/runner/jobs/${id}/heartbeat`, { runner: 'submitter', done: 1 }],
      [`/v1/runner/jobs/${id}/complete`, { runner: 'submitter', payload: {} }],
      [`/v1/runner/jobs/${id}/fail`, { runner: 'submitter', error: 'e' }],
      [`/v1/runner/jobs/${id}/release`, { runner: 'submitter' }],
    ] as const) {
      const p403 = await refusal(await post(edge, p, body, asSubmitter), 403);
      expect(p403.detail, p).toContain('RUNNER_TOKEN');
      await refusal(await post(edge, p, body), 401);
    }
    await refusal(await edge.fetch(`/v1/runner/models/${gid}/manifest`, { headers: asSubmitter }), 403);
    await refusal(await edge.fetch('/v1/runner/dead-letter', { headers: asSubmitter }), 403);
    // Nothing was leased by the submitter: the job is untouched.
    const job = (await (await edge.fetch(`/v1/jobs/${id}`)).json()) as { status: string; shards: { running: number } };
    expect(job.status).toBe('queued');

    // The runner token does the runner's work (and only that).
    const lease = await post(edge, '/v1/runner/lease', { runner: 'r1', leaseMs: 60_000 }, bearer(RUNNER_TOKEN));
    expect(lease.status).toBe(200);
    const leased = (await lease.json()) as { id: string; shard: { index: number; leaseToken: string } };
    expect(
      (
        await post(
          edge,
          `/v1/runner/jobs/${leased.id}/release`,
          { runner: 'r1', shard: leased.shard.index, lease: leased.shard.leaseToken },
          bearer(RUNNER_TOKEN),
        )
      ).status,
    ).toBe(200);
    expect((await edge.fetch(`/v1/runner/models/${gid}/manifest`, { headers: bearer(RUNNER_TOKEN) })).status).toBe(200);
  });

  it('missing secrets disable the scoped endpoints (403), whatever the token', async () => {
    const ip = { 'cf-connecting-ip': '203.0.113.50' }; // not the rate-limit test's address
    for (const t of [undefined, 'anything', SUBMIT_TOKEN]) {
      const p = await refusal(await post(bare, '/v1/jobs', JOB, { ...ip, ...(t ? bearer(t) : {}) }), 403);
      expect(p.detail).toContain('no SUBMIT_TOKEN');
    }
    for (const t of [undefined, RUNNER_TOKEN]) {
      const p = await refusal(await post(bare, '/v1/runner/lease', { runner: 'x' }, t ? bearer(t) : {}), 403);
      expect(p.detail).toContain('no RUNNER_TOKEN');
    }
  });

  it('equal secrets disable both scopes (they would not be separate)', async () => {
    expect((await refusal(await post(same, '/v1/jobs', JOB, bearer('same-secret')), 403)).detail).toContain(
      'SUBMIT_TOKEN equals RUNNER_TOKEN',
    );
    await refusal(await post(same, '/v1/runner/lease', { runner: 'x' }, bearer('same-secret')), 403);
  });

  it('the OpenAPI document declares both bearer schemes and which routes need them', async () => {
    const doc = (await (await edge.fetch('/openapi.json')).json()) as any;
    expect(doc.components.securitySchemes.submitToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.runnerToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/v1/jobs'].post.security).toEqual([{ submitToken: [] }]);
    expect(doc.paths['/v1/jobs'].get.security).toBeUndefined();
    expect(doc.paths['/v1/runner/lease'].post.security).toEqual([{ runnerToken: [] }]);
  });
});

describe('CORS only on reads', () => {
  it('write endpoints send no CORS headers and refuse preflights', async () => {
    for (const p of ['/v1/jobs', '/v1/runner/lease', '/v1/runner/jobs/00000000-0000-4000-8000-000000000000/complete']) {
      const pre = await edge.fetch(p, {
        method: 'OPTIONS',
        headers: {
          ...ORIGIN,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
      expect(pre.status, p).toBeGreaterThanOrEqual(400);
      for (const h of [
        'access-control-allow-origin',
        'access-control-allow-methods',
        'access-control-allow-headers',
        'access-control-allow-credentials',
      ])
        expect(pre.headers.get(h), `${p} ${h}`).toBeNull();
    }
    const accepted = await post(edge, '/v1/jobs', { ...JOB, seed: 4444 }, { ...ORIGIN, ...bearer(SUBMIT_TOKEN) });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('access-control-allow-origin')).toBeNull();
    const refused = await post(edge, '/v1/jobs', JOB, ORIGIN);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const lease = await post(edge, '/v1/runner/lease', { runner: 'x' }, { ...ORIGIN, ...bearer(RUNNER_TOKEN) });
    expect(lease.headers.get('access-control-allow-origin')).toBeNull();
    // Registering a classifier (a write on a path whose GET is a CORS read): no CORS on the POST.
    const register = await post(edge, '/v1/classifiers', {}, ORIGIN);
    expect(register.status).toBeGreaterThanOrEqual(400);
    expect(register.headers.get('access-control-allow-origin')).toBeNull();
    const registerPre = await edge.fetch('/v1/classifiers', {
      method: 'OPTIONS',
      headers: { ...ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(registerPre.headers.get('access-control-allow-methods') ?? '').not.toContain('POST');
    // A read endpoint's preflight allows reads only, and never the authorization header.
    const readPre = await edge.fetch('/v1/render', {
      method: 'OPTIONS',
      headers: {
        ...ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(readPre.headers.get('access-control-allow-methods')?.split(/,\s*/)).toEqual(['GET', 'HEAD']);
    expect(readPre.headers.get('access-control-allow-headers') ?? '').not.toContain('authorization');
  });
});

describe('read rate limiting', () => {
  it('answers 429 problem+json with Retry-After past the limit, per client address; runners are not counted', async () => {
    const a = { 'cf-connecting-ip': '198.51.100.7', ...ORIGIN };
    const statuses: number[] = [];
    let limited: Response | null = null;
    // Limit 5 per 10 s window: 11 requests cross at most one window boundary, so one is refused.
    for (let i = 0; i < 11 && !limited; i++) {
      const res = await bare.fetch('/v1/models', { headers: a });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.arrayBuffer();
    }
    expect(limited, `statuses ${statuses.join(',')}`).not.toBeNull();
    expect(statuses.filter((s) => s !== 429).every((s) => s === 200)).toBe(true);
    expect(limited!.headers.get('retry-after')).toBe('10');
    expect(limited!.headers.get('access-control-allow-origin')).toBe('*'); // a widget can read it
    const p = await problemOf(limited!);
    expect(p).toMatchObject({ status: 429, type: '/problems/rate-limited' });
    // Still limited for that client; another client is not; the runners' endpoints are not counted.
    expect((await bare.fetch('/v1/health', { headers: a })).status).toBe(429);
    expect((await bare.fetch('/v1/health', { headers: { 'cf-connecting-ip': '198.51.100.8' } })).status).toBe(200);
    expect((await post(bare, '/v1/runner/lease', { runner: 'x' }, a)).status).toBe(403); // disabled here, but not 429
  });
});

describe('live-compute budget', () => {
  it('saturated: live requests get 503 + Retry-After at once, cached answers still come, then it recovers', async () => {
    const S = 512;
    const warm = '/v1/traversal?class=2&dim=11&frames=5&range=3';
    const first = await edge.fetch(warm);
    expect(first.status).toBe(200); // computed (loads the models)
    await first.arrayBuffer();
    const burst = Array.from(
      { length: 14 },
      (_, i) => `/v1/traversal?class=${i % 10}&dim=${(i * 37 + 5) % S}&frames=9&mode=crossing&range=20&seed=${900 + i}`,
    );
    const pending = Promise.all(
      burst.map(async (p) => {
        const res = await edge.fetch(p);
        const body = res.status === 200 ? null : await problemOf(res);
        if (res.status === 200) await res.arrayBuffer();
        return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
      }),
    );
    // While the budget is exhausted, a cached live answer does not wait for it.
    await new Promise((r) => setTimeout(r, 30));
    const hit = await edge.fetch(warm);
    expect(hit.status).toBe(200);
    expect(hit.headers.get('x-faultlines-cache')).toBe('hit');
    await hit.arrayBuffer();
    const results = await pending;
    const statuses = results.map((r) => r.status);
    expect(
      statuses.every((s) => s === 200 || s === 503),
      statuses.join(','),
    ).toBe(true);
    const refused = results.filter((r) => r.status === 503);
    // 1 running + 2 queued at a time: most of the burst is refused (some may arrive after a slot freed).
    expect(refused.length, statuses.join(',')).toBeGreaterThanOrEqual(5);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number.isInteger(Number(r.retryAfter))).toBe(true);
      expect(r.body).toMatchObject({ status: 503, type: '/problems/overloaded' });
    }
    // Refused at admission (queue full or projected wait too long), not after waiting the bound:
    // the limiter says which, so this holds however slow the machine is.
    const atAdmission = refused.filter((r) => /queue is full|projected wait/.test(String(r.body?.detail)));
    expect(atAdmission.length, refused.map((r) => r.body?.detail).join(' | ')).toBeGreaterThanOrEqual(1);

    // Recovered: the refused requests compute when retried one at a time.
    for (const p of burst.filter((_, i) => results[i].status === 503).slice(0, 3)) {
      const res = await edge.fetch(p);
      expect(res.status, p).toBe(200);
      await res.arrayBuffer();
    }
  });

  it('clients that disconnect while queued or computing do not leak the budget', async () => {
    const ac = new AbortController();
    const gone = Array.from({ length: 10 }, (_, i) =>
      edge
        .fetch(
          `/v1/traversal?class=${i % 10}&dim=${(i * 41 + 3) % 512}&frames=9&mode=crossing&range=20&seed=${5000 + i}`,
          { signal: ac.signal },
        )
        .then(
          (r) => r.arrayBuffer().then(() => r.status),
          () => 'aborted',
        ),
    );
    await new Promise((r) => setTimeout(r, 40));
    ac.abort();
    await Promise.all(gone);
    // Stale queue entries are dropped within a second; then live requests compute again.
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 3; i++) {
      const res = await edge.fetch(
        `/v1/traversal?class=${i}&dim=${(i * 43 + 9) % 512}&frames=5&range=3&seed=${5100 + i}`,
      );
      const body = res.status === 200 ? '' : await res.text();
      expect(res.status, body).toBe(200);
      await res.arrayBuffer().catch(() => undefined);
    }
  });

  it('classify and render are within the same budget', async () => {
    const image = new Array(1024).fill(0);
    const calls = Array.from({ length: 10 }, (_, i) =>
      i % 2
        ? post(edge, '/v1/classify', { images: Array.from({ length: 16 }, () => image) })
        : post(edge, '/v1/render', { seed: 7000 + i, class: i % 10, edits: [{ dim: i, shift: 2 }] }),
    );
    const statuses = await Promise.all(
      calls.map(async (p) => {
        const r = await p;
        await r.arrayBuffer();
        return r.status;
      }),
    );
    expect(
      statuses.every((s) => s === 200 || s === 503),
      statuses.join(','),
    ).toBe(true);
  });
});

describe('LiveLimiter (unit)', () => {
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('admits maxInFlight, queues up to maxQueue in order, refuses the rest with Retry-After', async () => {
    const lim = new LiveLimiter();
    const limits = { maxInFlight: 1, maxQueue: 2, maxWaitMs: 60_000 };
    const gates = [deferred(), deferred(), deferred()];
    const order: number[] = [];
    const runs = gates.map((g, i) =>
      lim.run(limits, async () => {
        order.push(i);
        await g.promise;
        return i;
      }),
    );
    await Promise.resolve();
    expect(lim.stats()).toMatchObject({ inFlight: 1, queued: 2 });
    const refused = await lim
      .run(limits, async () => 99)
      .catch((e: unknown) => e as { problem: { status: number; type: string }; headers: Record<string, string> });
    expect(refused).toMatchObject({ problem: { status: 503, type: '/problems/overloaded' } });
    expect(Number((refused as { headers: Record<string, string> }).headers['retry-after'])).toBeGreaterThanOrEqual(1);
    gates.forEach((g) => g.resolve());
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(order).toEqual([0, 1, 2]);
    expect(lim.stats()).toMatchObject({ inFlight: 0, queued: 0, admitted: 3, refused: 1 });
    // A failing computation frees its slot too.
    await expect(
      lim.run(limits, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await lim.run(limits, async () => 'free')).toBe('free');
  });

  it('a queued request that waits maxWaitMs is refused (503), and one whose projected wait is too long is refused at once', async () => {
    const lim = new LiveLimiter();
    const gate = deferred();
    const running = lim.run({ maxInFlight: 1, maxQueue: 8, maxWaitMs: 50 }, () => gate.promise);
    const t0 = Date.now();
    const waited = await lim
      .run({ maxInFlight: 1, maxQueue: 8, maxWaitMs: 50 }, async () => 'ran')
      .catch((e: { problem: { status: number; detail: string } }) => e.problem);
    expect(waited).toMatchObject({ status: 503 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    // Mean computation time 50 ms (initial estimate): with maxWaitMs 10 the projected wait is over.
    const projected = await lim
      .run({ maxInFlight: 1, maxQueue: 8, maxWaitMs: 10 }, async () => 'ran')
      .catch((e: { problem: { detail: string } }) => e.problem);
    expect((projected as { detail: string }).detail).toContain('projected wait');
    gate.resolve();
    await running;
    expect(lim.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });
});

describe('.dev.vars (local secrets)', () => {
  it('is created with two different random tokens, completed when one is missing, never overwritten', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'faultlines-devvars-'));
    try {
      const file = path.join(dir, '.dev.vars');
      const first = ensureDevVars(file);
      expect(first.created).toEqual(['SUBMIT_TOKEN', 'RUNNER_TOKEN']);
      const vars = parseDevVars(readFileSync(file, 'utf8'));
      expect(vars.SUBMIT_TOKEN).toMatch(/^[0-9a-f]{64}$/);
      expect(vars.RUNNER_TOKEN).toMatch(/^[0-9a-f]{64}$/);
      expect(vars.SUBMIT_TOKEN).not.toBe(vars.RUNNER_TOKEN);
      expect(statSync(file).mode & 0o077).toBe(0);
      expect(describeDevVars(first)).toContain('--token "$RUNNER_TOKEN"');
      expect(ensureDevVars(file).created).toEqual([]);
      expect(parseDevVars(readFileSync(file, 'utf8'))).toEqual(vars);
      writeFileSync(file, `# mine\nRUNNER_TOKEN='kept'\nOTHER=1`);
      const again = ensureDevVars(file);
      expect(again.created).toEqual(['SUBMIT_TOKEN']);
      const after = parseDevVars(readFileSync(file, 'utf8'));
      expect(after).toMatchObject({ RUNNER_TOKEN: 'kept', OTHER: '1' });
      expect(after.SUBMIT_TOKEN).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is git-ignored', () => {
    expect(readFileSync('.gitignore', 'utf8').split('\n')).toContain('.dev.vars');
  });
});
