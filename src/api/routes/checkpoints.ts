// GET /v1/jobs/:id/checkpoints, GET /v1/checkpoints/:id (download), POST /v1/checkpoints (upload).
// Checkpoints are safetensors files in PyTorch's nn.Linear layout (DESIGN.md).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifySchemaCompiler } from 'fastify';
import Type, { type TSchema } from 'typebox';
import { decodeSafetensors, SafetensorsError, type DecodedTensor } from '../../core/safetensors.js';
import {
  checkpointBytes, findCheckpointMeta, listCheckpoints, storeUpload, type CheckpointMeta,
} from '../../db/repositories/checkpoint-reads.js';
import { InvalidCursorError } from '../../db/cursor.js';
import { ApiError, type ErrorDetail } from '../errors.js';
import { requestScope, requestTenant, requireJob } from '../scope.js';
import { ifNoneMatchHits } from './if-none-match.js';
import { CheckpointListSchema, ErrorSchema, UploadedCheckpointSchema } from '../schemas.js';
import type { AppOptions } from '../app-context.js';

export interface CheckpointsRoutesOptions extends Pick<AppOptions, 'prisma'> {
  /** largest upload accepted, in bytes (default UPLOAD_LIMIT_DEFAULT) */
  uploadLimit?: number;
}

export const UPLOAD_LIMIT_DEFAULT = 256 * 1024 * 1024;

const OCTET_STREAM = 'application/octet-stream';
/** any tensor under layers.: the core loads every one of them, so each must be one it knows */
const LAYER_ANY = /^layers\./;
/** canonical: the index as PyTorch writes it (no leading zeros), and a part the core loads */
const LAYER_TENSOR = /^layers\.(0|[1-9]\d*)\.(weight|bias|alpha)$/;
const MAX_LISTED = 20;

const JobParams = Type.Object({ id: Type.String({ description: 'job id (uuid)' }) });
const CheckpointParams = Type.Object({ id: Type.String({ description: 'checkpoint id (uuid)' }) });
const Binary = Type.String({ format: 'binary' });

/** The raw upload is checked by validateUpload (decodeSafetensors); the schema is there for OpenAPI. */
const rawBodyValidator: FastifySchemaCompiler<TSchema> = (route) =>
  route.httpPart === 'body' ? (value: unknown) => ({ value }) : TypeBoxValidatorCompiler(route);

function checkpointView(c: CheckpointMeta, bestId: string | null) {
  return {
    id: c.id,
    kind: c.kind,
    epoch: c.epoch,
    step: c.step,
    metrics: (c.metrics ?? null) as Record<string, number | null> | null,
    size: c.size,
    sha256: c.sha256,
    best: c.id === bestId,
    createdAt: c.createdAt.toISOString(),
  };
}

/**
 * A header-safe file name: `<job name>-epoch<N>.safetensors` (final weights:
 * `-epoch<N>-final`; a resume checkpoint inside an epoch: `-step<S>-resume`), or
 * `<id>.safetensors` for an upload.
 */
function fileName(c: CheckpointMeta & { jobName: string | null }): string {
  if (c.jobName === null || c.epoch === null) return `${c.id}.safetensors`;
  const name = c.jobName.replace(/[^A-Za-z0-9._-]+/g, '_') || 'checkpoint';
  if (c.kind === 'resume') return `${name}-step${c.step ?? 0}-resume.safetensors`;
  return `${name}-epoch${c.epoch}${c.kind === 'final' ? '-final' : ''}.safetensors`;
}

interface TensorInfo { name: string; shape: number[]; dtype: string }

const shapeText = (t: DecodedTensor) => `[${t.shape.join(', ')}]`;

/** Where the first NaN or ±Infinity of a float tensor is ("NaN at [3, 1]"), or null. */
function nonFinite(t: DecodedTensor): string | null {
  if (t.dtype !== 'F32' && t.dtype !== 'F64') return null;
  const data = t.data as Float32Array | Float64Array;
  for (let k = 0; k < data.length; k++) {
    if (Number.isFinite(data[k])) continue;
    const at: number[] = [];
    let rest = k;
    for (let d = t.shape.length - 1; d >= 0; d--) { at.unshift(rest % t.shape[d]!); rest = Math.floor(rest / t.shape[d]!); }
    return `${data[k]} at [${at.join(', ')}]`;
  }
  return null;
}

/**
 * Every reason an upload cannot serve as initialWeights, each pointing into the
 * safetensors header (e.g. /layers.1.bias). Layer tensors must be F32 or F64 (what
 * the core loads), finite, named canonically, weight [out, in] with bias [out] and
 * alpha (PReLU) [out], no dimension 0. The stored layers must start at layers.0 (the
 * input), or at layers.1 when layer 0 is an input dropout (which stores nothing, as in
 * PyTorch's nn.Sequential(Dropout, Linear, …)), and chain: a layer's input width is the previous stored layer's output, which
 * is its row count for dense, or rows / pieces for maxout (indices between them are
 * dropout layers, which keep the width) — so rows must be a multiple of the next input.
 * Other tensors (a Trainyard resume checkpoint's optimizer.*, best.*) are kept and ignored.
 */
function uploadProblems(tensors: Map<string, DecodedTensor>): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const layers = new Map<number, Map<string, DecodedTensor>>();
  for (const [name, t] of tensors) {
    if (!LAYER_ANY.test(name)) continue;
    const m = LAYER_TENSOR.exec(name);
    if (!m) {
      problems.push({
        pointer: `/${name}`,
        message: 'is not a layer tensor Trainyard loads: layers.<i>.weight, layers.<i>.bias or layers.<i>.alpha, <i> written without leading zeros',
      });
      continue;
    }
    const i = Number(m[1]);
    if (!layers.has(i)) layers.set(i, new Map());
    layers.get(i)!.set(m[2]!, t);
    if (t.dtype !== 'F32' && t.dtype !== 'F64') problems.push({ pointer: `/${name}`, message: `has dtype ${t.dtype}; F32 or F64 expected` });
    else if (t.shape.includes(0)) problems.push({ pointer: `/${name}`, message: `has shape ${shapeText(t)}; a layer has at least one unit and one input` });
    else {
      const bad = nonFinite(t);
      if (bad !== null) problems.push({ pointer: `/${name}`, message: `holds ${bad}; weights must be finite numbers` });
    }
  }
  if (layers.size === 0) {
    problems.push({ pointer: '', message: 'the file has no layers.<i>.weight / layers.<i>.bias tensors (PyTorch nn.Linear layout, <i> = the layer index in spec.model.layers)' });
    return problems;
  }
  const ordered = [...layers].sort((a, b) => a[0] - b[0]);
  if (ordered[0]![0] > 1) {
    problems.push({
      pointer: '/layers.0.weight',
      message: `is missing: the stored layers start at layers.${ordered[0]![0]}, but the first layer of a model takes the input (only an input dropout at layers.0 may precede it)`,
    });
  }
  let previous: { i: number; rows: number } | null = null;
  for (const [i, parts] of ordered) {
    const weight = parts.get('weight'), bias = parts.get('bias'), alpha = parts.get('alpha');
    const matrix = weight?.shape.length === 2 ? weight : undefined;
    if (!weight) problems.push({ pointer: `/layers.${i}.weight`, message: `is missing (layers.${i} has ${[...parts.keys()].join(', ')})` });
    else if (!matrix) problems.push({ pointer: `/layers.${i}.weight`, message: `has shape ${shapeText(weight)}; [out, in] expected` });
    if (!bias) problems.push({ pointer: `/layers.${i}.bias`, message: `is missing (layers.${i} has ${[...parts.keys()].join(', ')})` });
    else if (bias.shape.length !== 1) problems.push({ pointer: `/layers.${i}.bias`, message: `has shape ${shapeText(bias)}; [out] expected` });
    else if (matrix && bias.shape[0] !== matrix.shape[0]) {
      problems.push({ pointer: `/layers.${i}.bias`, message: `has ${bias.shape[0]} values but layers.${i}.weight has ${matrix.shape[0]} rows` });
    }
    if (alpha && alpha.shape.length !== 1) problems.push({ pointer: `/layers.${i}.alpha`, message: `has shape ${shapeText(alpha)}; [units] expected` });
    if (!matrix) { previous = null; continue; }
    const [rows, inputs] = matrix.shape as [number, number];
    if (previous && inputs > 0 && previous.rows % inputs !== 0) {
      problems.push({
        pointer: `/layers.${i}.weight`,
        message: `takes ${inputs} inputs but layers.${previous.i} puts out ${previous.rows} (weight [${previous.rows}, …]); ` +
          `a layer's inputs are the previous layer's units (rows, or rows / pieces for maxout)`,
      });
    }
    previous = { i, rows };
  }
  return problems;
}

function uploadTooLarge(limit: number): ApiError {
  const message = `the file is larger than the upload limit of ${limit} bytes (${(limit / 2 ** 20).toFixed(0)} MiB)`;
  return new ApiError(413, 'BODY_TOO_LARGE', message, [{ pointer: '', message }]);
}

function validateUpload(bytes: Uint8Array): TensorInfo[] {
  let file;
  try {
    file = decodeSafetensors(bytes);
  } catch (err) {
    const message = (err as Error).message;
    const pointer = err instanceof SafetensorsError && err.tensor !== undefined ? `/${err.tensor}` : '';
    throw new ApiError(400, 'INVALID_CHECKPOINT', `the body is not a valid safetensors file: ${message}`, [{ pointer, message }]);
  }
  const problems = uploadProblems(file.tensors);
  if (problems.length > 0) {
    const listed = problems.slice(0, MAX_LISTED);
    if (problems.length > MAX_LISTED) listed.push({ pointer: '', message: `and ${problems.length - MAX_LISTED} more problem(s)` });
    throw new ApiError(400, 'INVALID_CHECKPOINT', `the safetensors file cannot be used as weights: ${problems.length} problem(s)`, listed);
  }
  return [...file.tensors].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype }));
}

export const checkpointsRoutes: FastifyPluginAsyncTypebox<CheckpointsRoutesOptions> = async (app, { prisma, uploadLimit }) => {
  const bodyLimit = uploadLimit ?? UPLOAD_LIMIT_DEFAULT;
  // Encapsulated: only this plugin's routes take raw bytes.
  app.addContentTypeParser(OCTET_STREAM, { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

  app.get(
    '/jobs/:id/checkpoints',
    {
      schema: {
        summary: "A job's checkpoints (without their bytes)",
        description: 'Oldest first. `best` marks the one POST /v1/jobs/{id}/predict uses with weights=best. Download one with GET /v1/checkpoints/{id}.',
        tags: ['checkpoints'],
        params: JobParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'page size, default 100' })),
          cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
        }),
        response: { 200: CheckpointListSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { limit = 100, cursor } = request.query;
      await requireJob(prisma, request, id);
      try {
        const page = await listCheckpoints(prisma, requestScope(request), id, { limit, cursor });
        return { items: page.items.map((c) => checkpointView(c, page.bestId)), nextCursor: page.nextCursor };
      } catch (err) {
        if (err instanceof InvalidCursorError) {
          throw new ApiError(400, 'INVALID_CURSOR', err.message, [{ pointer: '/cursor', message: err.message }]);
        }
        throw err;
      }
    },
  );

  app.get(
    '/checkpoints/:id',
    {
      schema: {
        summary: 'Download a checkpoint (.safetensors)',
        description:
          'The file as stored: loads into PyTorch with safetensors.torch.load_file (layers.<i>.weight [out, in], layers.<i>.bias). ' +
          'ETag is its SHA-256; If-None-Match with it (weak or strong, alone or in a list) or with * answers 304.',
        tags: ['checkpoints'],
        params: CheckpointParams,
        response: {
          200: { description: 'the safetensors file', content: { [OCTET_STREAM]: { schema: Binary } } },
          304: { description: 'not modified (If-None-Match matched the ETag)', type: 'null' },
          404: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const scope = requestScope(request);
      const meta = await findCheckpointMeta(prisma, scope, id);
      if (!meta) throw new ApiError(404, 'NOT_FOUND', `no checkpoint with id ${id}`);
      const etag = `"${meta.sha256}"`;
      reply.header('etag', etag).header('cache-control', 'private, max-age=0, must-revalidate');
      if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.status(304).send(null);
      const bytes = await checkpointBytes(prisma, scope, id);
      if (!bytes) throw new ApiError(404, 'NOT_FOUND', `no checkpoint with id ${id}`); // pruned meanwhile
      return reply
        .type(OCTET_STREAM)
        .header('content-disposition', `attachment; filename="${fileName(meta)}"`)
        .header('content-length', bytes.byteLength)
        // a Buffer bypasses serialization; the schema's types only know strings
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as string);
    },
  );

  app.post(
    '/checkpoints',
    {
      bodyLimit,
      config: { bodyContentType: 'application/octet-stream' },
      validatorCompiler: rawBodyValidator,
      // Fastify's own 413 says only "Request body is too large"; this one names the limit
      errorHandler: (err, request, reply) => {
        const tooLarge = (err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE';
        return app.errorHandler(tooLarge ? uploadTooLarge(bodyLimit) : err, request, reply);
      },
      schema: {
        summary: 'Upload a .safetensors file (for initialWeights)',
        description:
          `The raw file as the body (Content-Type: ${OCTET_STREAM}, at most ${bodyLimit} bytes), with layers.<i>.weight [out, in] and ` +
          'layers.<i>.bias [out] tensors (F32 or F64; PReLU slopes layers.<i>.alpha), <i> being the layer index in spec.model.layers. ' +
          'Answers its id: submit a job with "initialWeights": { "checkpointId": id } to train from these weights ' +
          '(shapes are checked against the job\'s model when it starts).',
        tags: ['checkpoints'],
        body: { content: { [OCTET_STREAM]: { schema: Binary } } },
        response: { 201: UploadedCheckpointSchema, 400: ErrorSchema, 413: ErrorSchema, 415: ErrorSchema },
      },
    },
    async (request, reply) => {
      const bytes = request.body as unknown;
      if (!Buffer.isBuffer(bytes)) {
        throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `send the file as the raw body with Content-Type: ${OCTET_STREAM}`);
      }
      const tensors = validateUpload(bytes);
      // uploads belong to no job, and to the caller's tenant
      const row = await storeUpload(prisma, requestTenant(request), bytes);
      reply.header('location', `/v1/checkpoints/${row.id}`);
      return reply.status(201).send({
        id: row.id,
        kind: 'upload' as const,
        size: row.size,
        sha256: row.sha256,
        tensors,
        createdAt: row.createdAt.toISOString(),
      });
    },
  );
};
