/**
 * Registering users' own classifiers (issue #9; storage and checks in ../registered/):
 *
 * - `POST /v1/classifiers`, multipart/form-data: `model` (model.json), `weights` (each shard file,
 *   repeated), `adapter` (the adapter JSON), optional `name`. What `tensorflowjs_converter` or
 *   `model.save` wrote, sent with curl:
 *     curl -H "Authorization: Bearer $SUBMIT_TOKEN" -F model=@m/model.json -F weights=@m/group1-shard1of1.bin \
 *          -F adapter=@adapter.json -F name=my-mlp http://127.0.0.1:8787/v1/classifiers
 * - `POST /v1/classifiers`, application/json `{url, adapter, name?, domain?}`: model.json and its shards
 *   fetched from `url`, only under the operator's MODEL_URL_ALLOWLIST (else 403).
 *
 * The domain it classifies (a form field or JSON `domain`, or `?domain=`; default mnist) is checked
 * against the adapter (classes, colour channels) and fixes the generator its analyses and jobs use.
 *
 * 201 with the classifier (its id is the content hash) when new, 200 when the same content was
 * registered before. Needs the submitter scope (bearer SUBMIT_TOKEN, auth.ts). The runners fetch a
 * registered model through `GET /v1/runner/classifiers/{id}/{file}` (runner scope).
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { AdapterSanityCheckSchema, RegisteredClassifierSchema } from '../../protocol/worker-replies.js';
import { SECURITY, requireScope } from '../auth.js';
import { registeredInfo } from '../isolate-models.js';
import { DEFAULT_DOMAIN, getDomain } from '../../core/data/domain.js';
import { DomainName } from '../schemas.js';
import { fetchFromUrl } from '../registered/from-url.js';
import { UPLOAD_LIMITS } from '../registered/limits.js';
import { bucket, getRecord, storedFiles } from '../registered/records.js';
import { deleteClassifier, registerClassifier, type RegistrationInput } from '../registered/registration.js';
import { json, type AppContext, type AppEnv } from '../http.js';
import { forgetClassifierJobs } from '../jobs/board-client.js';
import { deleteResult } from '../result-cache.js';
import { ProblemError, errorResponses, problemContent } from '../problem.js';

const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;

const DisplayName = z
  .string()
  .min(1)
  .max(64)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what the pattern refuses.
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'name must be printable text')
  .openapi({ description: 'A label for people (not unique: the id is)', example: 'my-mlp' });

const DOMAIN_DOC =
  `The domain it classifies (GET /v1/domains), or \`?domain=\`; default ${DEFAULT_DOMAIN}. The adapter must map ` +
  "one output per class of the domain; a colour domain's images are RGB (adapter.input.channels 3). Its analyses " +
  "and jobs use the domain's generator.";

const AdapterDoc = z
  .record(z.string(), z.unknown())
  .openapi({ description: 'The adapter JSON (format faultlines-adapter/1; see docs/bring-your-own-model.md)' });

const UrlBody = z
  .object({
    url: z.string().min(1).max(2048).openapi({
      description:
        'URL of model.json; its weight shards are fetched relative to it. Must lie under an operator-allowed prefix (MODEL_URL_ALLOWLIST).',
      example: 'https://models.example.com/mlp/model.json',
    }),
    adapter: AdapterDoc,
    name: DisplayName.optional(),
    domain: DomainName.optional().openapi({ description: DOMAIN_DOC }),
  })
  .openapi('ClassifierFromUrl');

const UploadDoc = z
  .object({
    model: z.string().openapi({ format: 'binary', description: 'model.json' }),
    weights: z.array(z.string().openapi({ format: 'binary' })).openapi({
      description: "Every weight shard model.json's weightsManifest names (matched by file name), one part each",
    }),
    adapter: z.string().openapi({ format: 'binary', description: 'The adapter JSON' }),
    name: z.string().optional().openapi({ description: 'A label for people' }),
    domain: z.string().optional().openapi({ description: DOMAIN_DOC }),
  })
  .openapi('ClassifierUpload');

const RegisteredClassifier = RegisteredClassifierSchema.openapi('RegisteredClassifierInfo');

const Registered = z
  .object({
    created: z.boolean(),
    id: z.string(),
    sanityCheck: AdapterSanityCheckSchema.nullable().openapi({
      description:
        "The adapter on the edge's sample of real test images (500 clean, 500 corrupted): accuracy per split, plausible or not (null: skipped)",
    }),
    warning: z
      .string()
      .nullable()
      .openapi({ description: 'Set when the accuracy is implausible: which adapter fields to check' }),
    classifier: RegisteredClassifier,
  })
  .openapi('RegisteredClassifier');

const IdParam = z.object({
  id: z.string().regex(/^[0-9a-f]{64}$/, 'id must be a registered classifier id (64 hex digits)'),
});
const RunnerFileParam = z.object({
  id: z.string().regex(/^[0-9a-f]{64}$/, 'id must be a registered classifier id (64 hex digits)'),
  file: z.enum(['model', 'weights', 'adapter']),
});

const ALLOWED_FIELDS = new Set(['model', 'weights', 'adapter', 'name', 'domain']);

async function bytesOf(part: FormDataEntryValue): Promise<Uint8Array> {
  return typeof part === 'string' ? new TextEncoder().encode(part) : new Uint8Array(await part.arrayBuffer());
}

function jsonOf(bytes: Uint8Array, field: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new ProblemError(400, 'validation', `${field}: not JSON (${(err as Error).message})`, { field });
  }
}

/** An optional text field given at most once, parsed by `schema`; a 400 naming it otherwise. */
function optionalTextField<T>(form: FormData, field: string, schema: z.ZodType<T>): T | undefined {
  const parts = form.getAll(field);
  if (parts.length === 0) return undefined;
  const r = schema.safeParse(typeof parts[0] === 'string' ? parts[0] : '');
  if (parts.length > 1 || !r.success)
    throw new ProblemError(
      400,
      'validation',
      `${field}: ${r.success ? 'given more than once' : r.error.issues[0].message}`,
      { field },
    );
  return r.data;
}

/** The files of a multipart upload, with the offending field named on every refusal. */
async function uploadInput(c: AppContext): Promise<RegistrationInput> {
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch (err) {
    throw new ProblemError(400, 'malformed-body', `the multipart body cannot be read: ${(err as Error).message}`, {
      field: 'body',
    });
  }
  const unknown: string[] = [];
  form.forEach((_, key) => void (ALLOWED_FIELDS.has(key) || unknown.push(key)));
  if (unknown.length > 0)
    throw new ProblemError(
      400,
      'validation',
      `${unknown[0]}: unknown form field (expected model, weights, adapter, name, domain)`,
      { field: unknown[0] },
    );
  const models = form.getAll('model');
  if (models.length !== 1)
    throw new ProblemError(
      400,
      'validation',
      `model: ${models.length === 0 ? 'missing' : 'given more than once'}: one model.json (curl -F model=@model.json)`,
      { field: 'model' },
    );
  const modelJson = await bytesOf(models[0]);
  if (modelJson.byteLength > UPLOAD_LIMITS.modelJsonBytes)
    throw new ProblemError(
      413,
      'body-too-large',
      `model: model.json has ${modelJson.byteLength} bytes; at most ${UPLOAD_LIMITS.modelJsonBytes} (${MiB(UPLOAD_LIMITS.modelJsonBytes)})`,
      { field: 'model', limit: UPLOAD_LIMITS.modelJsonBytes },
    );
  const adapters = form.getAll('adapter');
  if (adapters.length !== 1)
    throw new ProblemError(
      400,
      'validation',
      `adapter: ${adapters.length === 0 ? 'missing' : 'given more than once'}: one adapter JSON (curl -F adapter=@adapter.json)`,
      { field: 'adapter' },
    );
  const adapterBytes = await bytesOf(adapters[0]);
  if (adapterBytes.byteLength > UPLOAD_LIMITS.adapterBytes)
    throw new ProblemError(
      413,
      'body-too-large',
      `adapter: ${adapterBytes.byteLength} bytes; at most ${UPLOAD_LIMITS.adapterBytes}`,
      { field: 'adapter', limit: UPLOAD_LIMITS.adapterBytes },
    );
  const shards = new Map<string, Uint8Array>();
  const parts = form.getAll('weights');
  if (parts.length > UPLOAD_LIMITS.shards)
    throw new ProblemError(400, 'validation', `weights: ${parts.length} files; at most ${UPLOAD_LIMITS.shards}`, {
      field: 'weights',
    });
  for (const part of parts) {
    if (typeof part === 'string')
      throw new ProblemError(
        400,
        'validation',
        'weights: each weight shard must be a file part (curl -F weights=@group1-shard1of1.bin)',
        { field: 'weights' },
      );
    if (!part.name)
      throw new ProblemError(
        400,
        'validation',
        'weights: a weight file part has no file name (it is matched to weightsManifest by name)',
        { field: 'weights' },
      );
    if (shards.has(part.name))
      throw new ProblemError(400, 'validation', `weights: "${part.name}" given more than once`, { field: 'weights' });
    shards.set(part.name, new Uint8Array(await part.arrayBuffer()));
  }
  const displayName = optionalTextField(form, 'name', DisplayName);
  const domain = optionalTextField(form, 'domain', DomainName);
  return {
    modelJson,
    shards,
    adapter: jsonOf(adapterBytes, 'adapter'),
    displayName,
    origin: { kind: 'upload' },
    domain,
  };
}

async function urlInput(c: AppContext): Promise<RegistrationInput> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch (err) {
    throw new ProblemError(400, 'malformed-body', `the JSON body cannot be parsed: ${(err as Error).message}`, {
      field: 'body',
    });
  }
  const r = UrlBody.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue.path.map(String).join('.') || 'body';
    throw new ProblemError(400, 'validation', `${field}: ${issue.message}`, { field });
  }
  const { modelJson, shards } = await fetchFromUrl(c.env, r.data.url);
  return {
    modelJson,
    shards,
    adapter: r.data.adapter,
    displayName: r.data.name,
    origin: { kind: 'url', url: r.data.url },
    domain: r.data.domain,
  };
}

/** The domain of a registration: the body's or the query's (never disagreeing), default mnist. */
function requestDomain(c: AppContext, body: string | undefined): string {
  const raw = c.req.query('domain');
  const q = raw === undefined || raw === '' ? undefined : DomainName.safeParse(raw);
  if (q && !q.success) throw new ProblemError(400, 'validation', q.error.issues[0].message, { field: 'domain' });
  if (body !== undefined && q !== undefined && body !== q.data)
    throw new ProblemError(
      400,
      'validation',
      `domain: the body says "${body}", the query "${q.data}"; give one, or the same in both`,
      { field: 'domain' },
    );
  return body ?? q?.data ?? DEFAULT_DOMAIN;
}

export function registerClassifiers(app: OpenAPIHono<AppEnv>): void {
  // Submitter scope (auth.ts), checked before the body is parsed (the runner scope: app.ts).
  app.use('/v1/classifiers', async (c, next) => {
    if (c.req.method === 'POST') {
      // A refused upload's body is read and dropped by drain-body.ts, as every early reply's.
      await requireScope(c, 'submit');
    }
    return next();
  });

  // Documented here, handled below: the body is multipart or JSON, read by the handler itself.
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/v1/classifiers',
    tags: ['models'],
    security: SECURITY.submit,
    summary:
      `Register your own TF.js classifier (LayersModel or GraphModel) with its adapter: uploaded (multipart, at most ` +
      `${MiB(UPLOAD_LIMITS.bodyBytes)} in all) or fetched from an operator-allowed URL; checked at once, stored under its content hash`,
    request: {
      query: z.object({ domain: DomainName.optional().openapi({ description: "Or the body's `domain`" }) }),
      body: {
        required: true,
        content: {
          'multipart/form-data': { schema: UploadDoc },
          'application/json': { schema: UrlBody },
        },
      },
    },
    responses: {
      201: {
        description: 'Registered: the classifier, whose id works as `classifier` everywhere',
        content: { 'application/json': { schema: Registered } },
      },
      200: {
        description: 'Already registered (same model and adapter): the same id',
        content: { 'application/json': { schema: Registered } },
      },
      415: { description: 'Neither multipart/form-data nor application/json', content: problemContent },
      ...errorResponses(400, 401, 403, 409, 413, 422, 503),
    },
  });

  app.post('/v1/classifiers', async (c) => {
    const type = (c.req.header('content-type') ?? '').toLowerCase();
    let input: RegistrationInput;
    bucket(c.env); // 503 before any work when storage is missing
    if (type.startsWith('multipart/form-data')) input = await uploadInput(c);
    else if (type.startsWith('application/json')) input = await urlInput(c);
    else
      throw new ProblemError(
        415,
        'unsupported-media-type',
        'upload the model as multipart/form-data (model, weights, adapter, name), ' +
          'or send application/json {url, adapter, name} to fetch it from an allowed URL',
        { field: 'content-type' },
      );
    const { record, created } = await registerClassifier(c.env, input, getDomain(requestDomain(c, input.domain)));
    const location = `/v1/classifiers/${record.id}`;
    // The adapter check up front: a wrong adapter registers (it is the user's to fix) but says so.
    const sanity = record.sanityCheck ?? null;
    return json(
      {
        created,
        id: record.id,
        sanityCheck: sanity,
        warning: sanity && !sanity.plausible ? sanity.warning : null,
        classifier: registeredInfo(record),
      },
      { status: created ? 201 : 200, headers: { location } },
    );
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/classifiers/{id}',
      tags: ['models'],
      summary: 'A registered classifier: what registration found (format, shapes, differentiability, sizes, adapter)',
      request: { params: IdParam },
      responses: {
        200: {
          description: 'The classifier',
          content: { 'application/json': { schema: RegisteredClassifier } },
        },
        ...errorResponses(400, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const record = await getRecord(c.env, id);
      if (!record) throw new ProblemError(404, 'not-found', `no registered classifier ${id}`, { field: 'id' });
      return json(registeredInfo(record), { etag: `"${id}"`, cacheControl: 'public, max-age=31536000, immutable' });
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/classifiers/{id}',
      tags: ['models'],
      security: SECURITY.submit,
      summary:
        'Delete a registered classifier (submitter token): its record and files, its jobs and every result they stored',
      description:
        'Idempotent: deleting an unknown or already deleted id answers 200 with `deleted: false`. Built-in classifiers are not ' +
        'registered and cannot be deleted. Clients and caches may still hold results they fetched before (results are served as immutable).',
      request: { params: IdParam },
      responses: {
        200: {
          description: 'What was removed',
          content: {
            'application/json': {
              schema: z
                .object({
                  id: z.string(),
                  deleted: z.boolean().openapi({ description: 'Whether it was registered' }),
                  jobsForgotten: z.number().int(),
                  resultsDeleted: z.number().int(),
                })
                .openapi('DeletedClassifier'),
            },
          },
        },
        ...errorResponses(400, 401, 403, 503),
      },
    }),
    async (c) => {
      await requireScope(c, 'submit');
      const { id } = c.req.valid('param');
      bucket(c.env); // 503 before any work when storage is missing
      // The record goes first: from then on nothing computes for it, and its results can go.
      const deleted = await deleteClassifier(c.env, id);
      const keys = await forgetClassifierJobs(c.env, id);
      let resultsDeleted = 0;
      for (const key of keys) if (await deleteResult(c.env, key)) resultsDeleted++;
      return json({ id, deleted, jobsForgotten: keys.length, resultsDeleted });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/runner/classifiers/{id}/{file}',
      tags: ['runner'],
      security: SECURITY.runner,
      summary:
        "A registered classifier's model.json, weights (the shards concatenated in manifest " +
        'order) or adapter, as stored (verify: tfjsClassifierId(sha256(model ‖ weights), adapter) = id)',
      request: { params: RunnerFileParam },
      responses: { 200: { description: 'The file' }, ...errorResponses(400, 401, 403, 404, 503) },
    }),
    async (c) => {
      const { id, file } = c.req.valid('param');
      const record = await getRecord(c.env, id);
      if (!record) throw new ProblemError(404, 'not-found', `no registered classifier ${id}`, { field: 'id' });
      const files = await storedFiles(c.env, record);
      const headers = { 'cache-control': 'private, max-age=3600' };
      if (file === 'adapter')
        return new Response(JSON.stringify(files.adapter), {
          headers: { ...headers, 'content-type': 'application/json' },
        });
      if (file === 'model')
        return new Response(files.modelJson as unknown as BodyInit, {
          headers: { ...headers, 'content-type': 'application/json' },
        });
      return new Response(files.weights as unknown as BodyInit, {
        headers: { ...headers, 'content-type': 'application/octet-stream', 'x-model-sha256': record.modelSha256 },
      });
    },
  );
}
