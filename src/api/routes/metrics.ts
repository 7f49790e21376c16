// GET /v1/jobs/:id/metrics, GET /v1/jobs/:id/metrics/names, GET /v1/metrics.
// Register with the /v1 prefix (GET /metrics without it is Prometheus's).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import {
  csvChunks, downsampledSeries, jobExists, listMetricNames, metricNames, MIN_MAX_POINTS, missingJobs, readPage,
  type MetricCursor, type MetricPointRow, type MetricSeries, type StepRange,
} from '../../db/metric-queries.js';
import { ApiError, type ErrorDetail } from '../errors.js';
import { ErrorSchema, JsonNumberSchema, jsonNumber } from '../schemas.js';
import type { AppOptions } from '../app-context.js';
import { csvStream, seriesToCsv } from '../csv.js';

const INT32 = { minimum: -2147483648, maximum: 2147483647 } as const;
const MAX_POINTS_LIMIT = 100_000;
const PAGE_LIMIT_DEFAULT = 1000;
const PAGE_LIMIT_MAX = 10_000;
const MULTI_JOB_MAX = 50;
const MULTI_JOB_MAX_POINTS_DEFAULT = 1000;

const NameParam = Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { maxItems: 200 })], {
  description: 'metric name, e.g. val_loss or grad_norm/0; repeat for several; none: every name',
});
const From = Type.Integer({ ...INT32, description: 'first step (inclusive)' });
const To = Type.Integer({ ...INT32, description: 'last step (inclusive)' });
const MaxPoints = Type.Integer({
  minimum: MIN_MAX_POINTS,
  maximum: MAX_POINTS_LIMIT,
  description:
    'at most this many points per series. A longer series is reduced in Postgres (M4): its step range is cut into ' +
    'floor(maxPoints/4) buckets, each keeping its first, last, minimum and maximum point, so the first and last ' +
    'point and every spike survive. (Where a bucket would span 1024 steps or more, buckets are whole blocks of 1024 ' +
    'steps, block = floor(step/1024), dealt out evenly, and are read from per-block rollups.) NaN never counts as a minimum or maximum (±Infinity do); a bucket holding NaN keeps ' +
    'its first NaN point as well (the series is then reduced to floor(maxPoints/5) buckets if that is needed to stay within maxPoints).',
});

const PointSchema = Type.Object({
  step: Type.Integer({ description: 'global optimizer step' }),
  epoch: Type.Integer(),
  value: JsonNumberSchema,
  time: Type.String({ format: 'date-time' }),
});
const seriesFields = {
  name: Type.String(),
  points: Type.Array(PointSchema, { description: 'ordered by step' }),
  downsampled: Type.Boolean({ description: 'true when the series had more than maxPoints points in range and was reduced' }),
};
const NextCursor = Type.Union([Type.String(), Type.Null()], {
  description: 'pass as `cursor` for the next page; null on the last page (and always with maxPoints)',
});
const MetricHistorySchema = Type.Object(
  { series: Type.Array(Type.Object(seriesFields)), nextCursor: NextCursor },
  { title: 'MetricHistory' },
);
const MultiJobHistorySchema = Type.Object(
  { series: Type.Array(Type.Object({ jobId: Type.String({ format: 'uuid' }), ...seriesFields })) },
  { title: 'MultiJobMetricHistory' },
);
const MetricNamesSchema = Type.Object(
  {
    items: Type.Array(
      Type.Object({ name: Type.String(), count: Type.Integer(), minStep: Type.Integer(), maxStep: Type.Integer() }),
    ),
  },
  { title: 'MetricNames' },
);

const JobParams = Type.Object({ id: Type.String({ description: 'job id (uuid)' }) });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function notFound(id: string): ApiError {
  return new ApiError(404, 'NOT_FOUND', `no job with id ${id}`);
}

function badRequest(details: ErrorDetail[]): ApiError {
  return new ApiError(400, 'VALIDATION_FAILED', 'the querystring is invalid', details);
}

function list(name: string | string[] | undefined): string[] {
  if (name === undefined) return [];
  return [...new Set(Array.isArray(name) ? name : [name])];
}

function stepRange(q: { from?: number; to?: number }): StepRange {
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
    throw badRequest([{ pointer: '/to', message: `must be at least from (${q.from})` }]);
  }
  return { from: q.from, to: q.to };
}

function encodeCursor(c: MetricCursor): string {
  return Buffer.from(JSON.stringify([c.name, c.step])).toString('base64url');
}

function decodeCursor(text: string): MetricCursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && Number.isInteger(v[1])) {
      return { name: v[0], step: v[1] as number };
    }
  } catch {
    // reported below
  }
  throw badRequest([{ pointer: '/cursor', message: 'is not a cursor this API returned; pass nextCursor from the previous page' }]);
}


function jsonPoint(p: MetricPointRow) {
  return { step: p.step, epoch: p.epoch, value: jsonNumber(p.value), time: p.time.toISOString() };
}

function jsonSeries(s: MetricSeries) {
  return { name: s.name, points: s.points.map(jsonPoint), downsampled: s.downsampled };
}

function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  if (format !== undefined) return format === 'csv';
  return accept !== undefined && /(^|,)\s*text\/csv\b/i.test(accept);
}

export const metricsRoutes: FastifyPluginAsyncTypebox<Pick<AppOptions, 'prisma'>> = async (app, { prisma }) => {
  async function requireJob(id: string): Promise<void> {
    if (!UUID.test(id) || !(await jobExists(prisma, id))) throw notFound(id);
  }

  app.get(
    '/jobs/:id/metrics',
    {
      schema: {
        summary: 'Metric history of a job',
        description:
          'Without maxPoints: every point in range, ordered by (name, step), in pages of `limit` (keyset cursor: ' +
          'points appended while paging are neither lost nor repeated); a series may continue on the next page. ' +
          'With maxPoints: each series whole or reduced to at most maxPoints points, no paging. ' +
          'CSV (format=csv or Accept: text/csv; columns name,step,epoch,value,time) streams the full export in ' +
          'constant memory, or the reduced series with maxPoints; cursor and limit do not apply to CSV.',
        tags: ['metrics'],
        params: JobParams,
        querystring: Type.Object({
          name: Type.Optional(NameParam),
          from: Type.Optional(From),
          to: Type.Optional(To),
          maxPoints: Type.Optional(MaxPoints),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PAGE_LIMIT_MAX, description: `points per page (default ${PAGE_LIMIT_DEFAULT})` })),
          cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
          format: Type.Optional(Type.Enum(['json', 'csv'], { description: 'default json, or csv when Accept asks for text/csv' })),
        }),
        response: {
          200: {
            description: 'JSON history, or CSV (text/csv)',
            content: {
              'application/json': { schema: MetricHistorySchema },
              'text/csv': { schema: Type.String() },
            },
          },
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const q = request.query;
      const range = stepRange(q);
      const csv = wantsCsv(q.format, request.headers.accept);
      if (q.maxPoints !== undefined && q.cursor !== undefined) {
        throw badRequest([{ pointer: '/cursor', message: 'does not go with maxPoints: a reduced history comes in one answer' }]);
      }
      if (csv && (q.cursor !== undefined || q.limit !== undefined)) {
        const pointer = q.cursor !== undefined ? '/cursor' : '/limit';
        throw badRequest([{ pointer, message: 'does not apply to CSV, which is always the full export' }]);
      }
      const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
      await requireJob(id);
      const names = list(q.name);

      if (q.maxPoints !== undefined) {
        const keys = (names.length > 0 ? names : await metricNames(prisma, id)).map((name) => ({ jobId: id, name }));
        const series = await downsampledSeries(prisma, keys, range, q.maxPoints);
        if (csv) return reply.type('text/csv; charset=utf-8').send(seriesToCsv(series));
        return { series: series.map(jsonSeries), nextCursor: null };
      }

      if (csv) {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${id}-metrics.csv"`)
          // A stream bypasses serialization; the schema's types only know strings.
          .send(csvStream(csvChunks(prisma, { jobId: id, names, range })) as unknown as string);
      }

      const page = await readPage(prisma, { jobId: id, names, range, after, limit: q.limit ?? PAGE_LIMIT_DEFAULT });
      const series: ReturnType<typeof jsonSeries>[] = [];
      for (const row of page.rows) {
        let last = series[series.length - 1];
        if (last === undefined || last.name !== row.name) {
          last = { name: row.name, points: [], downsampled: false };
          series.push(last);
        }
        last.points.push(jsonPoint(row));
      }
      return { series, nextCursor: page.next ? encodeCursor(page.next) : null };
    },
  );

  app.get(
    '/jobs/:id/metrics/names',
    {
      schema: {
        summary: 'Metric names a job has recorded',
        description: 'Each name with its number of points and its first and last step.',
        tags: ['metrics'],
        params: JobParams,
        response: { 200: MetricNamesSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      await requireJob(request.params.id);
      return { items: await listMetricNames(prisma, request.params.id) };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Metric histories of several jobs, for comparison',
        description:
          `Every (job, name) pair as one series carrying its jobId, reduced to at most maxPoints points (default ${MULTI_JOB_MAX_POINTS_DEFAULT}) ` +
          'as in GET /v1/jobs/{id}/metrics. Without name: every name of each job. Full histories: GET /v1/jobs/{id}/metrics.',
        tags: ['metrics'],
        querystring: Type.Object({
          job: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1, maxItems: MULTI_JOB_MAX })], {
            description: `job id; repeat for several (up to ${MULTI_JOB_MAX})`,
          }),
          name: Type.Optional(NameParam),
          from: Type.Optional(From),
          to: Type.Optional(To),
          maxPoints: Type.Optional(MaxPoints),
        }),
        response: { 200: MultiJobHistorySchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const q = request.query;
      const range = stepRange(q);
      const jobs = list(q.job);
      const unknown = new Set([...jobs.filter((j) => !UUID.test(j)), ...(await missingJobs(prisma, jobs.filter((j) => UUID.test(j))))]);
      if (unknown.size > 0) {
        const raw = Array.isArray(q.job) ? q.job : [q.job];
        throw new ApiError(
          404,
          'NOT_FOUND',
          `no job with id ${[...unknown].join(', ')}`,
          raw.flatMap((j, i) => (unknown.has(j.toLowerCase()) || unknown.has(j) ? [{ pointer: Array.isArray(q.job) ? `/job/${i}` : '/job', message: `no job with id ${j}` }] : [])),
        );
      }
      const names = list(q.name);
      const keys = [];
      for (const jobId of jobs) {
        for (const name of names.length > 0 ? names : await metricNames(prisma, jobId)) keys.push({ jobId, name });
      }
      const series = await downsampledSeries(prisma, keys, range, q.maxPoints ?? MULTI_JOB_MAX_POINTS_DEFAULT);
      return { series: series.map((s) => ({ jobId: s.jobId, ...jsonSeries(s) })) };
    },
  );
};
