/**
 * Every early reply leaves the connection healthy (issue 16, item 1): requests refused before their
 * body is read — no token, a runner route without the runner token, a route that does not exist,
 * a body over the limit — each followed by an ordinary request on the same keep-alive connection.
 * None may answer 5xx, reset the connection or hang, and the server must still answer afterwards.
 */
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { edgeForFile } from './harness.js';

const edgeOf = edgeForFile();

const JOB = JSON.stringify({ kind: 'ranking-sums', seed: 1, count: 10 });
const BIG = 'x'.repeat(70_000); // over the 64 KiB limit of public routes

interface Refused {
  name: string;
  method: 'POST' | 'PUT';
  path: string;
  body: string;
  headers?: Record<string, string>;
  /** Send the body chunked (no content-length), so the limit is found while reading. */
  chunked?: boolean;
  status: number;
}

const REFUSED: Refused[] = [
  {
    name: 'job without a token',
    method: 'POST',
    path: '/v1/jobs',
    body: JOB,
    headers: { 'content-type': 'application/json' },
    status: 401,
  },
  {
    name: 'job with a wrong token',
    method: 'POST',
    path: '/v1/jobs',
    body: JOB,
    headers: { 'content-type': 'application/json', authorization: 'Bearer nope' },
    status: 401,
  },
  {
    name: 'runner lease without a token',
    method: 'POST',
    path: '/v1/runner/lease',
    body: JSON.stringify({ runner: 'x' }),
    headers: { 'content-type': 'application/json' },
    status: 401,
  },
  {
    name: 'no such route',
    method: 'POST',
    path: '/v1/no-such-route',
    body: JOB,
    headers: { 'content-type': 'application/json' },
    status: 404,
  },
  {
    name: 'body over the limit',
    method: 'POST',
    path: '/v1/render',
    body: BIG,
    headers: { 'content-type': 'application/json' },
    status: 413,
  },
  {
    name: 'chunked body over the limit',
    method: 'POST',
    path: '/v1/render',
    body: BIG,
    headers: { 'content-type': 'application/json' },
    chunked: true,
    status: 413,
  },
];

/** A body the client streams in pieces: no content-length, so the server finds the size by reading. */
function chunkedBody(text: string): Readable {
  const bytes = Buffer.from(text);
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += 8192) yield bytes.subarray(i, i + 8192);
    })(),
  );
}

describe('early replies', () => {
  it('500 refused requests, each followed by a normal one on the same connection: no 5xx, no reset, no hang', async () => {
    // One connection (pipelining off): a refused request that poisons it shows on the next one.
    const agent = new Agent({ connections: 1, pipelining: 1, keepAliveTimeout: 30_000 });
    const failures: string[] = [];
    const seen = new Map<string, number>();
    try {
      for (let i = 0; i < 500; i++) {
        const r = REFUSED[i % REFUSED.length];
        try {
          const res = await request(new URL(r.path, edgeOf().url), {
            method: r.method,
            headers: r.headers,
            body: r.chunked ? chunkedBody(r.body) : r.body,
            dispatcher: agent,
            headersTimeout: 20_000,
            bodyTimeout: 20_000,
          });
          const text = await res.body.text();
          seen.set(`${r.name}: ${res.statusCode}`, (seen.get(`${r.name}: ${res.statusCode}`) ?? 0) + 1);
          if (res.statusCode !== r.status) failures.push(`${i} ${r.name}: ${res.statusCode} ${text.slice(0, 120)}`);
        } catch (err) {
          failures.push(`${i} ${r.name}: ${(err as Error).message}`);
        }
        try {
          const res = await request(new URL('/v1/models', edgeOf().url), {
            dispatcher: agent,
            headersTimeout: 20_000,
            bodyTimeout: 20_000,
          });
          await res.body.text();
          if (res.statusCode !== 200) failures.push(`${i} GET /v1/models after ${r.name}: ${res.statusCode}`);
        } catch (err) {
          failures.push(`${i} GET /v1/models after ${r.name}: ${(err as Error).message}`);
        }
        if (failures.length > 20) break;
      }
    } finally {
      await agent.close();
    }
    console.log([...seen].map(([k, v]) => `${k} x${v}`).join('; '));
    expect(failures).toEqual([]);
    const after = await edgeOf().fetch('/v1/models');
    expect(after.status).toBe(200);
  }, 600_000);
});
