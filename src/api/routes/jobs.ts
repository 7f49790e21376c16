// POST /v1/jobs, GET /v1/jobs, GET /v1/jobs/:id, POST /v1/jobs/:id/cancel.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifyRequest, FastifySchemaCompiler } from 'fastify';
import Type, { type TSchema } from 'typebox';
import type { Job as JobRow, Prisma } from '../../generated/prisma/client.js';
import { JobSpecSchema, specHash, validateJobSpec, type NormalizedJobSpec } from '../../spec/index.js';
import {
  cancelUnclaimedJob, checkpointExists, createJob, deleteJob, findJob, listJobs, QuotaExceededError, requestCancel, type JobListRow,
} from '../../db/repositories/jobs.js';
import { InvalidCursorError } from '../../db/cursor.js';
import { isFinished } from '../../db/repositories/job-status.js';
import { deleteFinishedJob } from '../../db/repositories/job-deletion.js';
import { enqueueTraining, removeQueuedTraining } from '../../queue/train-queue.js';
import { publishCancel } from '../../queue/cancel-channel.js';
import { publishJobEvents } from '../../queue/job-events-channel.js';
import { ApiError } from '../errors.js';
import { requestScope, requestTenant, requireJob } from '../scope.js';
import {
  ErrorSchema, JobListSchema, JobSchema, JobStatusSchema, type JobSummaryView, type JobView,
} from '../schemas.js';
import type { AppOptions } from '../app-context.js';
import type { ReadCache } from '../read-cache.js';

const JobParams = Type.Object({ id: Type.String({ description: 'job id (uuid)' }) });

/**
 * The spec body's validator is validateJobSpec, the one check of a job spec (the API
 * here, the worker before it trains): the JSON Schema decides, then the rules that
 * relate fields to each other. It is not Fastify's Ajv/TypeBox compile of the same
 * schema because a 400 must list EVERY problem with a pointer and a sentence, and
 * neither does: TypeBox's Errors() stops at the first failing union member and
 * Ajv's allErrors lists every branch of every union (a bad layer gets complaints
 * for dense, maxout and dropout at once). validate.ts walks the schema once to pick
 * the branch by its `type` and phrase each problem. On success the route gets the
 * normalized spec (every default filled in).
 */
const specBodyValidator: FastifySchemaCompiler<TSchema> = (route) => {
  if (route.httpPart !== 'body') return TypeBoxValidatorCompiler(route);
  return (value: unknown) => {
    const checked = validateJobSpec(value);
    if (checked.ok) return { value: checked.spec };
    return {
      error: new ApiError(400, 'INVALID_SPEC', `the job spec has ${checked.problems.length} ${checked.problems.length === 1 ? 'problem' : 'problems'}`, checked.problems),
    };
  };
};

/** The fields a job and a list item share: who it is, where it stands, when. */
function jobHeader(row: JobRow | JobListRow) {
  return {
    id: row.id,
    name: row.name,
    status: row.status as JobView['status'],
    attempt: row.attempt,
    cancelRequested: row.cancelRequested,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    // stored by the worker in this shape (schemas.ts checks the types at compile time)
    progress: (row.progress ?? null) as JobView['progress'],
  };
}

function toJobView(row: JobRow): JobView {
  return {
    ...jobHeader(row),
    spec: row.spec,
    result: (row.result ?? null) as JobView['result'],
    error: (row.error ?? null) as JobView['error'],
    diagnosis: (row.diagnosis ?? null) as JobView['diagnosis'],
    sweepId: row.sweepId,
  };
}

function toJobSummary(row: JobListRow): JobSummaryView {
  const result = row.result as JobView['result'];
  const error = row.error as JobView['error'];
  const diagnosis = row.diagnosis as JobView['diagnosis'];
  return {
    ...jobHeader(row),
    specSummary: row.specSummary,
    best: result?.best ?? null,
    error: error ? { code: error.code, message: error.message } : null,
    verdict: diagnosis?.verdict ?? null,
  };
}

export const jobsRoutes: FastifyPluginAsyncTypebox<Pick<AppOptions, 'prisma' | 'queue' | 'redis' | 'config' | 'hooks'> & { readCache?: ReadCache }> = async (
  app,
  { prisma, queue, redis, config, hooks, readCache },
) => {
  /** The whole job; its absence is answered by requireJob, the one 404 for jobs. */
  async function loadJob(request: FastifyRequest, id: string): Promise<JobRow> {
    const job = await findJob(prisma, requestScope(request), id);
    if (job) return job;
    await requireJob(prisma, request, id);
    throw new Error(`job ${id} was missing and then found`);
  }

  app.post(
    '/jobs',
    {
      validatorCompiler: specBodyValidator,
      schema: {
        summary: 'Submit a training job',
        description:
          'Validates the spec (400 lists every problem, each with a JSON pointer), stores the job and queues it. ' +
          'With an Idempotency-Key header a retried request answers with the job the first one created (200); the same key with a different spec is a 409. ' +
          '503 when the queue (Redis) is unreachable: then no job was created (or, for a retried Idempotency-Key, the existing job is still waiting to be queued: retry).',
        tags: ['jobs'],
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
        }),
        body: JobSpecSchema,
        response: { 200: JobSchema, 201: JobSchema, 400: ErrorSchema, 409: ErrorSchema, 413: ErrorSchema, 415: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      const scope = requestScope(request);
      const spec = request.body as unknown as NormalizedJobSpec;
      const checkpointId = spec.initialWeights?.checkpointId;
      if (checkpointId !== undefined && !(await checkpointExists(prisma, scope, checkpointId))) {
        throw new ApiError(400, 'INVALID_SPEC', 'the job spec has 1 problem', [
          {
            pointer: '/initialWeights/checkpointId',
            message: `there is no checkpoint with id ${checkpointId}; upload one with POST /v1/checkpoints or use a checkpoint id from GET /v1/jobs/{id}/checkpoints`,
          },
        ]);
      }

      const outcome = await createJob(prisma, scope, {
        name: spec.name,
        spec: spec as unknown as Prisma.InputJsonValue,
        specHash: specHash(spec),
        idempotencyKey: request.headers['idempotency-key'],
        tenantId: requestTenant(request),
        maxActiveJobs: config.tenantMaxActiveJobs,
      }).catch((err: unknown) => {
        if (!(err instanceof QuotaExceededError)) throw err;
        throw new ApiError(429, 'QUOTA_EXCEEDED', `${err.message} (TENANT_MAX_ACTIVE_JOBS); wait for one to finish or cancel one`);
      });
      if (outcome.kind === 'conflict') {
        throw new ApiError(
          409,
          'IDEMPOTENCY_KEY_REUSED',
          `Idempotency-Key was already used for job ${outcome.job.id} with a different spec`,
        );
      }
      // a process that dies here leaves a queued row without a queue entry: the reconciler (src/queue/reconciler.ts) queues it
      if (outcome.kind === 'created') await hooks?.afterJobInsert?.(outcome.job.id);
      try {
        // Also for an existing queued job: the request that created it may have died
        // before queueing; BullMQ ignores a second add with the same jobId.
        if (outcome.kind === 'created' || outcome.job.status === 'queued') await enqueueTraining(queue, outcome.job.id);
      } catch (err) {
        request.log.error({ err, jobId: outcome.job.id }, 'could not queue the job');
        // All or nothing: a job this request created and could not queue is deleted
        // again (with its 'queued' event), so no row waits for a queue entry that
        // never comes. A retried Idempotency-Key's job belongs to the first request:
        // it stays, and the retry that reaches Redis queues it.
        if (outcome.kind === 'created') {
          await deleteJob(prisma, outcome.job.id);
          throw new ApiError(503, 'QUEUE_UNAVAILABLE', 'the job queue (Redis) is not reachable; no job was created, try again');
        }
        throw new ApiError(
          503,
          'QUEUE_UNAVAILABLE',
          `the job queue (Redis) is not reachable; job ${outcome.job.id} exists but is not queued yet: retry with the same Idempotency-Key`,
        );
      }
      reply.header('location', `/v1/jobs/${outcome.job.id}`);
      return reply.status(outcome.kind === 'created' ? 201 : 200).send(toJobView(outcome.job));
    },
  );

  app.get(
    '/jobs',
    {
      schema: {
        summary: 'List jobs, newest first',
        description:
          'Each item is a summary (no spec, result or diagnosis: a spec with inline data can be megabytes); GET /v1/jobs/{id} answers the whole job.',
        tags: ['jobs'],
        querystring: Type.Object({
          status: Type.Optional(JobStatusSchema),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'page size, default 20' })),
          cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
        }),
        response: { 200: JobListSchema, 400: ErrorSchema },
      },
    },
    async (request) => {
      const { status, limit = 20, cursor } = request.query;
      try {
        const page = await listJobs(prisma, requestScope(request), { status, limit, cursor });
        return { items: page.items.map(toJobSummary), nextCursor: page.nextCursor };
      } catch (err) {
        if (err instanceof InvalidCursorError) {
          throw new ApiError(400, 'INVALID_CURSOR', `the cursor ${err.message}`, [{ pointer: '/cursor', message: err.message }]);
        }
        throw err;
      }
    },
  );

  app.get(
    '/jobs/:id',
    {
      schema: {
        summary: 'A job: status, progress, result, error, diagnosis',
        tags: ['jobs'],
        params: JobParams,
        response: { 200: JobSchema, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!readCache) return toJobView(await loadJob(request, id));
      // Dashboards poll this: a status may be up to READ_CACHE_MS old (read-cache.ts). Kept
      // serialized (by the route's own serializer), so a hit costs no Postgres and no JSON writing.
      const body = await readCache.get(`job:${requestScope(request).tenantId ?? '*'}:${id}`, async () => reply.serialize(toJobView(await loadJob(request, id))) as string);
      // a string is sent as it is (the schema's serializer wrote it already)
      return reply.type('application/json; charset=utf-8').send(body as unknown as JobView);
    },
  );

  app.post(
    '/jobs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a queued or running job',
        description:
          'A queued job is cancelled at once (200). A running job is asked to stop (202, cancelRequested true); its worker stops within one batch and sets status cancelled. A finished job answers 409.',
        tags: ['jobs'],
        params: JobParams,
        response: { 200: JobSchema, 202: JobSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const scope = requestScope(request);
      const job = await requireJob(prisma, request, id);
      const finished = (status: string) =>
        new ApiError(409, 'JOB_FINISHED', `job ${id} is already ${status} and cannot be cancelled`);
      if (isFinished(job.status)) throw finished(job.status);
      readCache?.invalidate(id);
      const current = async () => {
        readCache?.invalidate(id);
        return toJobView(await loadJob(request, id));
      };

      // Not held by a worker (BullMQ refuses to remove an active job): cancel right here.
      if (await removeQueuedTraining(queue, id)) {
        if (await cancelUnclaimedJob(prisma, scope, id)) {
          // open event streams learn of the 'cancelled' event now, not at their next safety poll
          await publishJobEvents(redis, config.queuePrefix, id);
          return reply.status(200).send(await current());
        }
      }
      if (!(await requestCancel(prisma, scope, id))) {
        const now = await requireJob(prisma, request, id);
        throw finished(now.status);
      }
      await publishCancel(redis, config.queuePrefix, id);
      return reply.status(202).send(await current());
    },
  );

  app.delete(
    '/jobs/:id',
    {
      schema: {
        summary: 'Delete a finished job with its metrics, events, decisions and checkpoints',
        description:
          'One transaction: 204 and everything the job owns is gone. A queued or running job answers 409 JOB_NOT_FINISHED (cancel it first); ' +
          'a job whose checkpoint is the initialWeights of a queued or running job answers 409 CHECKPOINT_IN_USE. Uploaded checkpoints are never deleted with a job.',
        tags: ['jobs'],
        params: JobParams,
        response: { 204: Type.Null(), 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const outcome = await deleteFinishedJob(prisma, requestScope(request), id);
      switch (outcome.kind) {
        case 'not-found':
          await requireJob(prisma, request, id); // the one 404 for jobs
          throw new Error(`job ${id} was missing and then found`);
        case 'active':
          throw new ApiError(409, 'JOB_NOT_FINISHED', `job ${id} is ${outcome.status}; cancel it first (POST /v1/jobs/${id}/cancel), then delete it`);
        case 'in-use':
          throw new ApiError(
            409,
            'CHECKPOINT_IN_USE',
            `checkpoint ${outcome.checkpointId} of job ${id} is the initialWeights of ${outcome.jobIds.length === 1 ? 'job' : 'jobs'} ${outcome.jobIds.join(', ')}, ` +
              'which has not finished; delete this job once it has',
          );
        case 'deleted':
          readCache?.invalidate(id);
          return reply.status(204).send(null);
      }
    },
  );
};
