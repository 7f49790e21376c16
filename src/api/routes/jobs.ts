// POST /v1/jobs, GET /v1/jobs, GET /v1/jobs/:id, POST /v1/jobs/:id/cancel.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifySchemaCompiler } from 'fastify';
import Type, { type TSchema } from 'typebox';
import type { Prisma } from '../../generated/prisma/client.js';
import { JobSpecSchema, specHash, validateJobSpec } from '../../spec/index.js';
import {
  cancelUnclaimedJob, checkpointExists, createJob, deleteJob, findJob, InvalidCursorError, listJobs,
  requestCancel, toJobView,
} from '../../db/repositories/jobs.js';
import { isFinished } from '../../db/repositories/job-status.js';
import { enqueueTraining, removeQueuedTraining } from '../../queue/train-queue.js';
import { publishCancel } from '../../queue/cancel-channel.js';
import { ApiError } from '../errors.js';
import { ErrorSchema, JobListSchema, JobSchema, JobStatusSchema } from '../schemas.js';
import type { AppOptions } from '../app-context.js';

const JobParams = Type.Object({ id: Type.String({ description: 'job id (uuid)' }) });

/**
 * The spec body is validated by validateJobSpec, which reports every problem with
 * a pointer and a sentence; the schema stays on the route for the OpenAPI document.
 */
const specBodyValidator: FastifySchemaCompiler<TSchema> = (route) =>
  route.httpPart === 'body' ? (value: unknown) => ({ value }) : TypeBoxValidatorCompiler(route);

function notFound(id: string): ApiError {
  return new ApiError(404, 'NOT_FOUND', `no job with id ${id}`);
}

export const jobsRoutes: FastifyPluginAsyncTypebox<Pick<AppOptions, 'prisma' | 'queue' | 'redis' | 'config'>> = async (
  app,
  { prisma, queue, redis, config },
) => {
  app.post(
    '/jobs',
    {
      validatorCompiler: specBodyValidator,
      schema: {
        summary: 'Submit a training job',
        description:
          'Validates the spec (400 lists every problem), stores the job and queues it. With an Idempotency-Key header a retried request answers with the job the first one created (200); the same key with a different spec is a 409.',
        tags: ['jobs'],
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
        }),
        body: JobSpecSchema,
        response: { 200: JobSchema, 201: JobSchema, 400: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      const checked = validateJobSpec(request.body as unknown);
      if (!checked.ok) {
        throw new ApiError(400, 'INVALID_SPEC', `the job spec has ${checked.problems.length} problem(s)`, checked.problems);
      }
      const spec = checked.spec;
      const checkpointId = spec.initialWeights?.checkpointId;
      if (checkpointId !== undefined && !(await checkpointExists(prisma, checkpointId))) {
        throw new ApiError(400, 'INVALID_SPEC', 'the job spec has 1 problem(s)', [
          {
            pointer: '/initialWeights/checkpointId',
            message: `there is no checkpoint with id ${checkpointId}; upload one with POST /v1/checkpoints or use a checkpoint id from GET /v1/jobs/{id}/checkpoints`,
          },
        ]);
      }

      const outcome = await createJob(prisma, {
        name: spec.name,
        spec: spec as unknown as Prisma.InputJsonValue,
        specHash: specHash(spec),
        idempotencyKey: request.headers['idempotency-key'],
      });
      if (outcome.kind === 'conflict') {
        throw new ApiError(
          409,
          'IDEMPOTENCY_KEY_REUSED',
          `Idempotency-Key was already used for job ${outcome.job.id} with a different spec`,
        );
      }
      try {
        // Also for an existing queued job: the request that created it may have died
        // before queueing; BullMQ ignores a second add with the same jobId.
        if (outcome.kind === 'created' || outcome.job.status === 'queued') await enqueueTraining(queue, outcome.job.id);
      } catch (err) {
        if (outcome.kind === 'created') await deleteJob(prisma, outcome.job.id);
        request.log.error({ err }, 'could not queue the job');
        throw new ApiError(503, 'QUEUE_UNAVAILABLE', 'the job queue (Redis) is not reachable; nothing was stored, try again');
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
        const page = await listJobs(prisma, { status, limit, cursor });
        return { items: page.items.map(toJobView), nextCursor: page.nextCursor };
      } catch (err) {
        if (err instanceof InvalidCursorError) {
          throw new ApiError(400, 'INVALID_CURSOR', err.message, [{ pointer: '/cursor', message: err.message }]);
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
    async (request) => {
      const job = await findJob(prisma, request.params.id);
      if (!job) throw notFound(request.params.id);
      return toJobView(job);
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
      const job = await findJob(prisma, id);
      if (!job) throw notFound(id);
      const finished = (status: string) =>
        new ApiError(409, 'JOB_FINISHED', `job ${id} is already ${status} and cannot be cancelled`);
      if (isFinished(job.status)) throw finished(job.status);

      // Not held by a worker (BullMQ refuses to remove an active job): cancel right here.
      if (await removeQueuedTraining(queue, id)) {
        if (await cancelUnclaimedJob(prisma, id)) {
          return reply.status(200).send(toJobView((await findJob(prisma, id))!));
        }
      }
      if (!(await requestCancel(prisma, id))) {
        const now = (await findJob(prisma, id))!;
        throw finished(now.status);
      }
      await publishCancel(redis, config.queuePrefix, id);
      return reply.status(202).send(toJobView((await findJob(prisma, id))!));
    },
  );
};
