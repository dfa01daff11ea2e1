/**
 * `/embed/{widget}?...`: one widget on an otherwise empty HTML page, for dashboards that can only
 * show an iframe (the page runs the widgets module itself). The query picks what the widget's
 * attributes would; it is validated like any API input. A refusal (bad parameter, unknown
 * classifier) is problem+json for API clients, and a readable HTML page naming the parameter for
 * browsers (an iframe would otherwise show raw JSON).
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { classifierEntry, getCatalog } from '../isolate-models.js';
import { REVALIDATE, type AppEnv } from '../http.js';
import { EXPLAIN_LIMITS } from '../../protocol/explain.js';
import { LIMITS } from '../limits.js';
import { badField, errorResponses } from '../problem.js';
import { ClassParam, ClassifierParam, DimParam, DomainParam, SeedParam } from '../schemas.js';
import { DEFAULT_DOMAIN } from '../../core/data/domain.js';
import { catalogLayout } from '../services/result-lookup.js';
import { widgetsManifest } from '../services/widgets-manifest.js';

const EMBED_WIDGETS = ['corner-cases', 'traversal', 'ranking', 'accuracy-curve', 'directions', 'explain'] as const;

const WidgetParam = z.object({ widget: z.enum(EMBED_WIDGETS).openapi({ description: 'Which widget' }) });
const EmbedQuery = z.object({
  domain: DomainParam,
  classifier: ClassifierParam,
  class: ClassParam.optional().openapi({
    description:
      'corner-cases, ranking: one class (default all); directions: one class (default the global top dims); traversal: the class (default 0)',
  }),
  dim: DimParam.optional().openapi({ description: 'traversal: the dim (required)' }),
  seed: SeedParam.optional().openapi({
    description: 'traversal: start from the sample (seed, class) instead of the class average',
  }),
  range: z.coerce
    .number()
    .min(0.5)
    .max(LIMITS.maxSteps)
    .optional()
    .openapi({ description: 'traversal: slider range in std (default 4)' }),
  top: z.coerce.number().int().min(1).max(50).optional().openapi({
    description:
      'ranking: dims shown (default 10); directions: dims shown (default all described); explain with submit: deviating dims of a submission',
  }),
  compare: z
    .string()
    .max(200)
    .regex(
      /^(none|[a-z0-9][a-z0-9-]*(,[a-z0-9][a-z0-9-]*)*)$/,
      'compare must be "none" or classifier names separated by commas',
    )
    .optional()
    .openapi({ description: 'accuracy-curve: the other classifiers to show (default all)' }),
  key: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'key must be the 64 hex digits POST /v1/explain answered')
    .optional()
    .openapi({ description: 'explain: the explanation (required unless submit)' }),
  submit: z.enum(['1', 'true']).optional().openapi({
    description:
      'explain: a drop zone that submits an image (POST /v1/explain with the submitter token, typed in the page and never kept) and shows its explanation',
  }),
  steps: z.coerce
    .number()
    .int()
    .min(0)
    .max(EXPLAIN_LIMITS.steps)
    .optional()
    .openapi({ description: "explain with submit: projection steps of a submission (default the API's)" }),
  theme: z.enum(['light', 'dark']).default('light'),
});

const escapeAttr = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function embedHtml(opts: {
  widget: (typeof EMBED_WIDGETS)[number];
  api: string;
  moduleUrl: string;
  attrs: Record<string, string | number | undefined>;
  theme: 'light' | 'dark';
}): string {
  const tag = `faultlines-${opts.widget}`;
  // heading-level 2: the widget's title comes right under the page's (visually hidden) h1.
  const attrs = Object.entries({ api: opts.api, 'heading-level': 2, ...opts.attrs })
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}="${escapeAttr(String(v))}"`)
    .join(' ');
  const dark = opts.theme === 'dark';
  return (
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Faultlines — ${opts.widget}</title><link rel="icon" href="data:,">
<style>html,body{margin:0;padding:0;background:${dark ? '#111418' : 'transparent'}}${tag}{border:none;` +
    `${dark ? '--faultlines-bg:#111418;--faultlines-fg:#e6e9ef;--faultlines-border:#2a303a;--faultlines-muted:#9aa3b2;--faultlines-grid:#4a5363;' : ''}}</style>
<script type="module" src="${escapeAttr(opts.moduleUrl)}"></script>
</head><body><main><h1 style="position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 ` +
    `0 0 0)">Faultlines: ${opts.widget}</h1><${tag} ${attrs}></${tag}></main>
<noscript>This Faultlines widget needs JavaScript; the data is also available as JSON/CSV from the API.</noscript></body></html>`
  );
}

/** The HTML page of a refused embed: what was wrong, in words, and which parameter. */
function embedErrorHtml(p: { status: number; title?: string; detail?: string; field?: string }): string {
  const e = (v: string) => escapeAttr(v);
  return (
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Faultlines embed: ${e(p.title ?? `HTTP ${p.status}`)}</title><link rel="icon" href="data:,">
<style>body{margin:0;padding:12px;font:14px/1.4 system-ui,sans-serif;color:#1d2433}.error{color:#8a1c1c;background:#fdecec;border:1px ` +
    `solid #f3b6b6;border-radius:6px;padding:8px 10px}</style>
</head><body><main><div class="error" role="alert"><strong>This Faultlines embed cannot be shown</strong> (${e(p.title ?? `HTTP ${p.status}`)}): ` +
    `${e(p.detail ?? '')}${p.field ? ` Check the <code>${e(p.field)}</code> parameter of the embed's URL.` : ''}</div></main></body></html>`
  );
}

export function registerEmbed(app: OpenAPIHono<AppEnv>): void {
  // Before the route, so it sees the route's refusals (validation hook and thrown problems alike).
  app.use('/embed/*', async (c, next) => {
    await next();
    const res = c.res;
    if (
      res.status < 400 ||
      !(res.headers.get('content-type') ?? '').includes('problem+json') ||
      !(c.req.header('accept') ?? '').includes('text/html')
    )
      return;
    const p = (await res
      .clone()
      .json()
      .catch(() => ({}))) as { title?: string; detail?: string; field?: string };
    const headers = new Headers(res.headers);
    headers.set('content-type', 'text/html; charset=utf-8');
    headers.set('vary', 'accept');
    c.res = new Response(embedErrorHtml({ status: res.status, ...p }), { status: res.status, headers });
  });
  app.openapi(
    createRoute({
      method: 'get',
      path: '/embed/{widget}',
      tags: ['embeds'],
      summary: 'One widget as an HTML page for an iframe',
      request: { params: WidgetParam, query: EmbedQuery },
      responses: {
        200: { description: 'The page', content: { 'text/html': { schema: z.string() } } },
        ...errorResponses(400, 404, 503),
      },
    }),
    async (c) => {
      const { widget } = c.req.valid('param');
      const q = c.req.valid('query');
      const entry = await classifierEntry(c.env, q.classifier, q.domain);
      // The widget's `domain` attribute outside the default domain (the default's pages are unchanged).
      const attrs: Record<string, string | number | undefined> = {
        ...(q.domain === DEFAULT_DOMAIN ? {} : { domain: q.domain }),
        classifier: entry.name,
      };
      if (widget === 'traversal') {
        if (q.dim === undefined) throw badField('dim', 'validation', 'the traversal embed needs dim');
        const S = catalogLayout(await getCatalog(c.env), q.domain).size;
        if (q.dim >= S) throw badField('dim', 'out-of-range', `dim must be < S = ${S}, got ${q.dim}`);
        Object.assign(attrs, { class: q.class ?? 0, dim: q.dim, seed: q.seed, range: q.range });
      } else if (widget === 'ranking' || widget === 'directions') Object.assign(attrs, { class: q.class, top: q.top });
      else if (widget === 'corner-cases') Object.assign(attrs, { class: q.class });
      else if (widget === 'explain') {
        if (q.key === undefined && q.submit === undefined)
          throw badField('key', 'validation', 'the explain embed needs key (or submit=1, a drop zone)');
        Object.assign(attrs, { key: q.key, submit: q.submit && 'submit', steps: q.steps, top: q.top });
      } else Object.assign(attrs, { compare: q.compare });
      const m = await widgetsManifest(c.env);
      // No API origin in the page: the widget takes the origin its module was served from, which
      // is the origin the browser actually used. Writing one from the request would echo the
      // client's Host header into a publicly cacheable page.
      return new Response(embedHtml({ widget, api: '', moduleUrl: m.widgets.hashed, attrs, theme: q.theme }), {
        headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': REVALIDATE },
      });
    },
  );
}
