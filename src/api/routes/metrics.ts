// GET /v1/jobs/:id/metrics, GET /v1/jobs/:id/metrics/names, GET /v1/metrics.
// Register with the /v1 prefix (GET /metrics without it is Prometheus's).
//
// Everything a request can get wrong is checked before the first byte of an answer
// (a CSV export included): the Accept header, the query (schema, integer spelling,
// metric names Postgres cannot hold, the cursor), then the job. Only a database
// failure in the middle of a streamed export can still break an answer, and that
// one breaks the transfer (see csvStream), it does not end it cleanly.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import {
  downsampledSeries, exportBatches, listMetricNames, MIN_MAX_POINTS, readPage, seriesNames,
  type MetricPointRow, type MetricSeries, type SeriesKey, type StepRange,
} from '../../db/metric-queries.js';
import { decodeNameStepCursor, encodeNameStepCursor, InvalidCursorError, type NameStepPosition } from '../../db/cursor.js';
import { findJobHeadline } from '../../db/repositories/job-access.js';
import { textProblem } from '../../spec/text.js';
import { ApiError, type ErrorDetail } from '../errors.js';
import { ErrorSchema, JsonNumberSchema, jsonNumber } from '../schemas.js';
import type { AppOptions } from '../app-context.js';
import type { ReadCache } from '../read-cache.js';
import { csvChunks, csvStream, seriesToCsv } from '../csv.js';
import { negotiate } from '../media-type.js';
import { checkQueryIntegers } from '../query-integers.js';
import { requestScope, requireJob } from '../scope.js';

const INT32 = { minimum: -2147483648, maximum: 2147483647 } as const;
const MAX_POINTS_LIMIT = 100_000;
const PAGE_LIMIT_DEFAULT = 1000;
const PAGE_LIMIT_MAX = 10_000;
const MULTI_JOB_MAX = 50;
const MULTI_JOB_MAX_POINTS_DEFAULT = 1000;
/** as long as a cursor may carry (src/db/cursor.ts) */
const NAME_MAX_LENGTH = 256;

const JSON_TYPE = 'application/json';
const CSV_TYPE = 'text/csv';

const UNKNOWN_NAMES =
  'A name the job has not recorded (yet), or one without points in the step range, is answered like any other: ' +
  'an empty series in JSON (points: []), no lines in CSV; never an error, so a dashboard may ask for a metric ' +
  'before its first point is written.';

const NameParam = Type.Array(Type.String({ minLength: 1, maxLength: NAME_MAX_LENGTH }), {
  maxItems: 200,
  description: 'metric name, e.g. val_loss or grad_norm/0; repeat for several; none: every name the job has recorded',
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

const HistoryQuery = Type.Object({
  name: Type.Optional(NameParam),
  from: Type.Optional(From),
  to: Type.Optional(To),
  maxPoints: Type.Optional(MaxPoints),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PAGE_LIMIT_MAX, description: `points per page (default ${PAGE_LIMIT_DEFAULT})` })),
  cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
  format: Type.Optional(Type.Enum(['json', 'csv'], { description: 'json or csv; overrides Accept. Without it: as Accept prefers (q-values honoured), JSON when both are equally welcome' })),
});

const MultiJobQuery = Type.Object({
  job: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: MULTI_JOB_MAX, description: `job id; repeat for several (up to ${MULTI_JOB_MAX})` }),
  name: Type.Optional(NameParam),
  from: Type.Optional(From),
  to: Type.Optional(To),
  maxPoints: Type.Optional(MaxPoints),
});

function badRequest(details: ErrorDetail[]): ApiError {
  return new ApiError(400, 'VALIDATION_FAILED', 'the querystring is invalid', details);
}

/** The answer's media type, or a 406 naming what the route can answer in. */
function mediaType(request: FastifyRequest, offered: readonly [string, ...string[]]): string {
  const chosen = negotiate(request.headers.accept, offered);
  if (chosen === null) {
    throw new ApiError(406, 'NOT_ACCEPTABLE', `this answer comes as ${offered.join(' or ')}, which Accept (${request.headers.accept}) refuses`, [
      { pointer: '', message: `send Accept: ${offered.join(', ')} (or */*)` },
    ]);
  }
  return chosen;
}

/** The distinct metric names asked for, in the order given; a name Postgres cannot hold is a 400 at its index. */
function metricNameList(names: string[] | undefined): string[] {
  const given = names ?? [];
  const problems = given.flatMap((n, i) => {
    const problem = textProblem(n);
    return problem === null ? [] : [{ pointer: `/name/${i}`, message: problem }];
  });
  if (problems.length > 0) throw badRequest(problems);
  return [...new Set(given)];
}

function stepRange(q: { from?: number; to?: number }): StepRange {
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
    throw badRequest([{ pointer: '/to', message: `must be at least from (${q.from})` }]);
  }
  return { from: q.from, to: q.to };
}

function pageCursor(text: string): NameStepPosition {
  try {
    return decodeNameStepCursor('metrics', text);
  } catch (err) {
    if (err instanceof InvalidCursorError) throw badRequest([{ pointer: '/cursor', message: err.message }]);
    throw err;
  }
}

function jsonPoint(p: MetricPointRow) {
  return { step: p.step, epoch: p.epoch, value: jsonNumber(p.value), time: p.time.toISOString() };
}

function jsonSeries(s: MetricSeries) {
  return { name: s.name, points: s.points.map(jsonPoint), downsampled: s.downsampled };
}

export const metricsRoutes: FastifyPluginAsyncTypebox<Pick<AppOptions, 'prisma'> & { readCache?: ReadCache }> = async (app, { prisma, readCache }) => {
  app.get(
    '/jobs/:id/metrics',
    {
      preValidation: checkQueryIntegers(HistoryQuery),
      schema: {
        summary: 'Metric history of a job',
        description:
          'Without maxPoints: every point in range, ordered by (name, step), in pages of `limit` (keyset cursor: ' +
          'points appended while paging are neither lost nor repeated); a series may continue on the next page. ' +
          'With maxPoints: each series whole or reduced to at most maxPoints points, no paging. Series are in name order. ' +
          `${UNKNOWN_NAMES} ` +
          'CSV (format=csv, or Accept preferring text/csv; columns name,step,epoch,value,time; numbers spelled as in JSON) ' +
          'streams the full export in constant memory, or the reduced series with maxPoints; cursor and limit do not apply ' +
          'to CSV. Every parameter is checked before the first byte; a database failure during a streamed export breaks ' +
          'the transfer rather than ending it early. An Accept header refusing both JSON and CSV is a 406.',
        tags: ['metrics'],
        params: JobParams,
        querystring: HistoryQuery,
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
          406: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const q = request.query;
      const csv = q.format !== undefined ? q.format === 'csv' : mediaType(request, [JSON_TYPE, CSV_TYPE]) === CSV_TYPE;
      reply.header('vary', 'Accept');
      const names = metricNameList(q.name);
      const range = stepRange(q);
      if (q.maxPoints !== undefined && q.cursor !== undefined) {
        throw badRequest([{ pointer: '/cursor', message: 'does not go with maxPoints: a reduced history comes in one answer' }]);
      }
      if (csv && (q.cursor !== undefined || q.limit !== undefined)) {
        const pointer = q.cursor !== undefined ? '/cursor' : '/limit';
        throw badRequest([{ pointer, message: 'does not apply to CSV, which is always the full export' }]);
      }
      const after = q.cursor !== undefined ? pageCursor(q.cursor) : undefined;
      const scope = requestScope(request);

      if (q.maxPoints !== undefined) {
        const maxPoints = q.maxPoints;
        const reduce = async () => {
          const found = await requireJob(prisma, request, id);
          const keys = (await seriesNames(prisma, scope, found.id, names)).map((name) => ({ jobId: found.id, name }));
          return { job: found, series: await downsampledSeries(prisma, scope, keys, range, maxPoints), json: undefined as string | undefined };
        };
        // what dashboards poll: served from memory for up to READ_CACHE_MS (read-cache.ts)
        const cacheKey = `metrics:${scope.tenantId ?? '*'}:${id}:${JSON.stringify({ names, range, maxPoints })}`;
        const reduced = await (readCache ? readCache.get(cacheKey, reduce) : reduce());
        const { job, series } = reduced;
        if (csv) {
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="${job.id}-metrics.csv"`)
            .send(seriesToCsv(series));
        }
        // serialized once per cached answer, by the route's own serializer (1000 points take longer
        // to write out than to serve); a string is sent as it is
        if (reduced.json === undefined) {
          const serializeJson = reply.getSerializationFunction('200', JSON_TYPE) as ((body: unknown) => string) | undefined;
          const body = { series: series.map(jsonSeries), nextCursor: null };
          reduced.json = serializeJson ? serializeJson(body) : JSON.stringify(body);
        }
        return reply.type('application/json; charset=utf-8').send(reduced.json as unknown as { series: []; nextCursor: null });
      }

      const job = await requireJob(prisma, request, id);
      if (csv) {
        // the first batch is read here, before anything is sent
        const batches = await exportBatches(prisma, scope, { jobId: job.id, names, range });
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${job.id}-metrics.csv"`)
          // A stream bypasses serialization; the schema's types only know strings.
          .send(csvStream(csvChunks(batches)) as unknown as string);
      }

      const page = await readPage(prisma, scope, { jobId: job.id, names, range, after, limit: q.limit ?? PAGE_LIMIT_DEFAULT });
      return {
        series: page.series.map((s) => ({ name: s.name, points: s.points.map(jsonPoint), downsampled: false })),
        nextCursor: page.next ? encodeNameStepCursor('metrics', page.next) : null,
      };
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
        response: { 200: MetricNamesSchema, 404: ErrorSchema, 406: ErrorSchema },
      },
    },
    async (request) => {
      mediaType(request, [JSON_TYPE]);
      const job = await requireJob(prisma, request, request.params.id);
      return { items: await listMetricNames(prisma, requestScope(request), job.id) };
    },
  );

  app.get(
    '/metrics',
    {
      preValidation: checkQueryIntegers(MultiJobQuery),
      schema: {
        summary: 'Metric histories of several jobs, for comparison',
        description:
          `Every (job, name) pair as one series carrying its jobId, reduced to at most maxPoints points (default ${MULTI_JOB_MAX_POINTS_DEFAULT}) ` +
          'as in GET /v1/jobs/{id}/metrics; jobs in the order given, each one\'s series in name order. Without name: every ' +
          `name each job has recorded. ${UNKNOWN_NAMES} An unknown job is a 404 naming each one. ` +
          'Full histories: GET /v1/jobs/{id}/metrics.',
        tags: ['metrics'],
        querystring: MultiJobQuery,
        response: { 200: MultiJobHistorySchema, 400: ErrorSchema, 404: ErrorSchema, 406: ErrorSchema },
      },
    },
    async (request) => {
      mediaType(request, [JSON_TYPE]);
      const q = request.query;
      const names = metricNameList(q.name);
      const range = stepRange(q);
      const scope = requestScope(request);
      const found = await Promise.all(q.job.map((id) => findJobHeadline(prisma, scope, id)));
      const missing = q.job.flatMap((id, i) => (found[i] === null ? [{ pointer: `/job/${i}`, message: `no job with id ${id}` }] : []));
      if (missing.length > 0) {
        throw new ApiError(404, 'NOT_FOUND', `no job with id ${q.job.filter((_, i) => found[i] === null).join(', ')}`, missing);
      }
      const jobs = [...new Set(found.map((j) => j!.id))];
      const keys: SeriesKey[] = [];
      for (const jobId of jobs) {
        for (const name of await seriesNames(prisma, scope, jobId, names)) keys.push({ jobId, name });
      }
      const series = await downsampledSeries(prisma, scope, keys, range, q.maxPoints ?? MULTI_JOB_MAX_POINTS_DEFAULT);
      return { series: series.map((s) => ({ jobId: s.jobId, ...jsonSeries(s) })) };
    },
  );
};
