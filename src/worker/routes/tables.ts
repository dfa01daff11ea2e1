/**
 * Flat, row-shaped variants of the ranking and accuracy-curve results for dashboard data sources
 * that read tables (e.g. Grafana's Infinity plugin): a JSON array of flat objects, or CSV with a
 * header row. Same inputs, cache semantics (ETag / 304, never computed inline) and problem+json
 * errors as /v1/rankings and /v1/accuracy-curves.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AccuracyCurve } from '../../core/analysis/accuracy-curve.js';
import type { ResultKind, StoredResult } from '../../protocol/result-keys.js';
import type { StyleLayout } from '../../core/generator/style-layout.js';
import { getResult, rankingOfStoredSums, resultEtag } from '../result-cache.js';
import { REVALIDATE, notModified, type AppContext, type AppEnv } from '../http.js';
import { errorResponses } from '../problem.js';
import { ClassParam, ClassifierParam, DomainParam, SweepQuery, topParam } from '../schemas.js';
import { locate, missResponse, pendingResultResponse } from '../services/result-lookup.js';
import {
  AccuracyCurveRowSchema,
  RankingRowSchema,
  type AccuracyCurveRow,
  type RankingRow,
} from '../../protocol/worker-replies.js';

type Row = RankingRow | AccuracyCurveRow;

const TableFormat = z
  .enum(['json', 'csv'])
  .default('json')
  .openapi({ description: 'json: an array of flat rows; csv: the same rows as text/csv with a header' });

const RankingRowsQuery = z.object({
  domain: DomainParam,
  classifier: ClassifierParam,
  ...SweepQuery,
  class: ClassParam.optional().openapi({ description: 'Ranking of one class (default: all classes)' }),
  top: topParam('Rows (most influential dims first)'),
  format: TableFormat,
});
const CurveRowsQuery = z.object({
  domain: DomainParam,
  classifier: ClassifierParam,
  ...SweepQuery,
  format: TableFormat,
});

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function toCsv(rows: Row[], columns: string[]): string {
  return (
    [
      columns.join(','),
      ...rows.map((r) =>
        columns.map((c) => csvCell((r as Record<string, string | number | boolean | null>)[c] ?? null)).join(','),
      ),
    ].join('\r\n') + '\r\n'
  );
}

function table(rows: Row[], columns: string[], format: 'json' | 'csv', etag: string, filename: string): Response {
  const headers: Record<string, string> = { etag, 'cache-control': REVALIDATE };
  if (format === 'csv') {
    return new Response(toCsv(rows, columns), {
      headers: {
        ...headers,
        'content-type': 'text/csv; charset=utf-8; header=present',
        'content-disposition': `inline; filename="${filename}.csv"`,
      },
    });
  }
  return new Response(JSON.stringify(rows), {
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
  });
}

async function cached(
  c: AppContext,
  kind: ResultKind,
  q: { domain: string; classifier?: string; seed: number; count: number },
  view: unknown[],
): Promise<{
  etag: string;
  r: StoredResult | null;
  layout: StyleLayout;
  miss: () => Promise<Response>;
  nm: Response | null;
}> {
  const { key, spec, layout } = await locate(c, kind, q.classifier, { seed: q.seed, count: q.count }, q.domain);
  // The key is the domain's (resultKey), so the ETag is too.
  const etag = resultEtag(kind, key, 'rows', ...view);
  const nm = notModified(c, etag, REVALIDATE);
  if (nm) return { etag, r: null, layout, miss: async () => nm, nm };
  return { etag, r: await getResult(c.env, key), layout, miss: () => missResponse(c, key, spec), nm: null };
}

const tableResponses = (description: string, row: z.ZodType) => ({
  200: {
    description,
    content: {
      'application/json': { schema: z.array(row) },
      'text/csv': { schema: z.string() },
    },
  },
  202: pendingResultResponse,
  304: { description: 'Not modified (If-None-Match)' },
  ...errorResponses(400, 404, 409),
});

/** The CSV columns: the row schema's keys, in order. */
const RANKING_COLUMNS = Object.keys(RankingRowSchema.shape);
const CURVE_COLUMNS = Object.keys(AccuracyCurveRowSchema.shape);

export function registerTables(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rankings/rows',
      tags: ['tables'],
      summary: 'The ranking as flat rows (JSON array or CSV), one per dim',
      request: { query: RankingRowsQuery },
      responses: tableResponses('One row per dim', RankingRowSchema.openapi('RankingRow')),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { etag, r, layout, miss, nm } = await cached(c, 'ranking-sums', q, [q.class ?? 'all', q.top, q.format]);
      if (nm) return nm;
      if (r === null) return miss();
      const ranking = rankingOfStoredSums(r, layout, q.class ?? null);
      const rows: RankingRow[] = ranking.dims.slice(0, q.top).map((d) => ({
        classifier: r.classifier,
        class: q.class === undefined ? 'all' : q.class,
        rank: d.rank,
        dim: d.index,
        layer: d.layer,
        channel: d.channel,
        direction: d.direction,
        score: d.score,
        meanGradient: d.meanGradient,
        standardError: d.standardError,
        mean: d.mean,
        std: d.std,
      }));
      return table(rows, RANKING_COLUMNS, q.format, etag, `ranking-${r.classifier}`);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/accuracy-curves/rows',
      tags: ['tables'],
      summary:
        'The accuracy curves as flat rows (JSON array or CSV), one per (classifier, ' +
        'distance bin), then one per classifier for the samples beyond the scale (lo 1, hi null)',
      request: { query: CurveRowsQuery },
      responses: tableResponses('One row per classifier and bin', AccuracyCurveRowSchema.openapi('AccuracyCurveRow')),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { etag, r, miss, nm } = await cached(c, 'accuracy-curves', q, [q.format]);
      if (nm) return nm;
      if (r === null) return miss();
      const p = r.payload as { curves: AccuracyCurve[] };
      const rows: AccuracyCurveRow[] = p.curves.flatMap((curve) =>
        [...curve.bins, { ...curve.beyond, lo: 1, hi: null }].map((b, i) => ({
          reference: r.classifier,
          classifier: curve.classifier,
          bin: i,
          lo: b.lo,
          hi: b.hi,
          mid: b.hi === null ? null : Math.round(((b.lo + b.hi) / 2) * 1e6) / 1e6,
          count: b.count,
          correct: b.correct,
          accuracy: b.accuracy,
          ciLow: b.ciLow,
          ciHigh: b.ciHigh,
          sparse: b.sparse,
          robustness: curve.robustness.score,
          robustnessLow: curve.robustness.ciLow,
          robustnessHigh: curve.robustness.ciHigh,
          overallAccuracy: curve.accuracy,
        })),
      );
      return table(rows, CURVE_COLUMNS, q.format, etag, `accuracy-curves-${r.classifier}`);
    },
  );
}
