/**
 * A registered classifier's life on workerd (issue 21): the adapter sanity check in the
 * registration response (on the committed sample of real test images, data/sanity), errors that say
 * what to fix, and DELETE /v1/classifiers/{id} (submitter token, idempotent, removes the record, the
 * files, the jobs and the stored results).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalWorkerd } from '../../scripts/edge/local-workerd.js';
import { kvKey } from '../../src/worker/result-cache.js';
import { RESULT_SCHEMA } from '../../src/protocol/result-keys.js';
import { classifierUpload as upload, ensureBuilt, fixture, problemOf, SECRETS, SUBMIT_AUTH } from './harness.js';

let mf: Miniflare;
let api: URL;
let assets: string;
const call = (p: string, init?: RequestInit) => fetch(new URL(p, api), init);
const register = (form: FormData, auth: Record<string, string> = SUBMIT_AUTH) =>
  call('/v1/classifiers', { method: 'POST', headers: auth, body: form });
const normalisedAdapter = () => JSON.parse(readFileSync(fixture('mlp-normalised/adapter.json'), 'utf8'));

beforeAll(async () => {
  await ensureBuilt();
  assets = mkdtempSync(path.join(os.tmpdir(), 'faultlines-edge-'));
  cpSync('dist/edge-assets', assets, { recursive: true });
  ({ mf, url: api } = await startLocalWorkerd(assets, SECRETS));
}, 600_000);

afterAll(async () => {
  await mf?.dispose();
  if (assets) rmSync(assets, { recursive: true, force: true });
});

describe('a registered classifier: checked, told back, deleted', () => {
  let id = '';

  it('answers registration with the adapter check on real test images, and warns about an implausible adapter', async () => {
    const t0 = Date.now();
    const res = await register(
      upload(fixture('mlp-normalised/model'), { adapter: normalisedAdapter(), name: 'mlp-normalised' }),
    );
    const seconds = (Date.now() - t0) / 1000;
    expect(res.status, await res.clone().text()).toBe(201);
    const body = (await res.json()) as Record<string, any>;
    id = body.id;
    expect(body.warning).toBeNull();
    expect(body.sanityCheck).toMatchObject({ plausible: true, warning: null, classes: 10 });
    expect(body.sanityCheck.splits.map((s: { split: string; count: number }) => [s.split, s.count])).toEqual([
      ['clean', 500],
      ['corrupted', 500],
    ]);
    expect(body.sanityCheck.splits[0].accuracy).toBeGreaterThan(0.9);
    expect(body.sanityCheck.data).toMatch(/the edge's sample/);
    // Recorded: the classifier's page says it too.
    const info = (await (await call(`/v1/classifiers/${id}`)).json()) as Record<string, any>;
    expect(info.sanityCheck).toEqual(body.sanityCheck);

    const a = normalisedAdapter();
    const t1 = Date.now();
    const wrong = await register(
      upload(fixture('mlp-normalised/model'), { adapter: { ...a, input: { ...a.input, mean: [0], std: [1] } } }),
    );
    const wrongSeconds = (Date.now() - t1) / 1000;
    expect(wrong.status).toBe(201);
    const w = (await wrong.json()) as Record<string, any>;
    expect(w.sanityCheck.plausible).toBe(false);
    expect(w.warning).toMatch(/accuracy on 500 real clean test images \(far below the 50\.0%/);
    expect(w.warning).toMatch(/check adapter\.input\.range, adapter\.input\.mean, adapter\.input\.std/);
    console.log(
      `registration with the check (workerd, wasm): ${seconds.toFixed(2)} s and ${wrongSeconds.toFixed(2)} s; accuracies right ` +
        `${JSON.stringify(body.sanityCheck.splits.map((s: { accuracy: number }) => s.accuracy))}, wrong ` +
        `${JSON.stringify(w.sanityCheck.splits.map((s: { accuracy: number }) => s.accuracy))}; load ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
    );
  });

  it('names a dangling graph input and a mean of the wrong length', async () => {
    const m = JSON.parse(readFileSync(fixture('mlp-graph/model.json'), 'utf8'));
    m.modelTopology.node.find((n: { name: string }) => n.name === 'hidden/MatMul').input[0] = 'flatten/Reshaped';
    const form = upload(fixture('mlp-graph'));
    form.set('model', new Blob([JSON.stringify(m)]), 'model.json');
    const dangling = await register(form);
    expect(dangling.status).toBe(422);
    const p = await problemOf(dangling);
    expect(p.field).toBe('model');
    expect(p.detail).toMatch(
      /graph node "hidden\/MatMul" \(MatMul\) takes input "flatten\/Reshaped", but the graph has no node/,
    );

    const a = normalisedAdapter();
    const mean = await register(
      upload(fixture('mlp-normalised/model'), { adapter: { ...a, input: { ...a.input, mean: [0.1, 0.1, 0.1] } } }),
    );
    expect(mean.status).toBe(400);
    expect(await problemOf(mean)).toMatchObject({
      field: 'adapter.input.mean',
      detail: 'adapter.input.mean: needs 1 value for channels 1, got 3',
    });
  });

  it('deletes it with the submitter token: record, files, jobs and results; idempotent', async () => {
    const job = await call('/v1/jobs', {
      method: 'POST',
      headers: { ...SUBMIT_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'ranking-sums', classifier: id, seed: 1, count: 64 }),
    });
    expect(job.status, await job.clone().text()).toBeLessThan(300);
    const { job: j } = (await job.json()) as { job: { id: string; key: string } };
    // A result stored for it, as a runner's completed job writes it.
    const kv = (await mf.getKVNamespace('RESULTS')) as unknown as {
      put(key: string, value: string): Promise<void>;
      get(key: string): Promise<string | null>;
    };
    await kv.put(
      kvKey(j.key),
      JSON.stringify({ schema: RESULT_SCHEMA, key: j.key, kind: 'ranking-sums', classifierId: id, payload: {} }),
    );
    expect((await call(`/v1/results/${j.key}`)).status).toBe(200);

    const none = await call(`/v1/classifiers/${id}`, { method: 'DELETE' });
    expect(none.status).toBe(401);
    expect(await problemOf(none)).toMatchObject({ field: 'authorization' });
    const runner = await call(`/v1/classifiers/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${SECRETS.RUNNER_TOKEN}` },
    });
    expect(runner.status).toBe(403);
    const badId = await call('/v1/classifiers/not-an-id', { method: 'DELETE', headers: SUBMIT_AUTH });
    expect(badId.status).toBe(400);
    expect(await problemOf(badId)).toMatchObject({ field: 'id' });

    const del = await call(`/v1/classifiers/${id}`, { method: 'DELETE', headers: SUBMIT_AUTH });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ id, deleted: true, jobsForgotten: 1, resultsDeleted: 1 });
    expect((await call(`/v1/classifiers/${id}`)).status).toBe(404);
    expect((await call(`/v1/jobs/${j.id}`)).status).toBe(404);
    expect((await call(`/v1/results/${j.key}`)).status).toBe(404);
    expect(await kv.get(kvKey(j.key))).toBeNull();
    const bucket = (await mf.getR2Bucket('CLASSIFIERS')) as unknown as {
      list(o: { prefix: string }): Promise<{ objects: unknown[] }>;
    };
    expect((await bucket.list({ prefix: `classifiers/${id}/` })).objects).toHaveLength(0);
    const listed = (await (await call('/v1/classifiers')).json()) as { classifiers?: Array<{ name: string }> };
    expect(JSON.stringify(listed)).not.toContain(id);

    const again = await call(`/v1/classifiers/${id}`, { method: 'DELETE', headers: SUBMIT_AUTH });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id, deleted: false, jobsForgotten: 0, resultsDeleted: 0 });
    // Registering it again works (a fresh record).
    const back = await register(upload(fixture('mlp-normalised/model'), { adapter: normalisedAdapter() }));
    expect(back.status).toBe(201);
    expect(((await back.json()) as { id: string }).id).toBe(id);
  });
});
