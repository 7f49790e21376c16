// POST /v1/sweeps, GET /v1/sweeps, GET /v1/sweeps/:id, /trials, /decisions,
// POST /v1/sweeps/:id/cancel (DESIGN.md "Sweeps"). Trials are ordinary jobs: this
// file creates the first ones; workers create the rest as trials end
// (workers/sweep-trials.ts), all through advanceSweep's one transaction.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifyRequest, FastifySchemaCompiler } from 'fastify';
import Type, { type TSchema } from 'typebox';
import type { Sweep as SweepRow } from '../../generated/prisma/client.js';
import { SweepSpecSchema, trialSpec, validateSweep, type NormalizedSweep } from '../../sweeps/index.js';
import {
  activeTrials, advanceSweep, createSweep, findSweep, listDecisions, listSweeps, listTrials, markSweepCancelled, sweepSummary,
  type SweepSummary,
} from '../../db/repositories/sweeps.js';
import { cancelUnclaimedJob, checkpointExists, requestCancel } from '../../db/repositories/jobs.js';
import { InvalidCursorError } from '../../db/cursor.js';
import { enqueueTraining, removeQueuedTraining } from '../../queue/train-queue.js';
import { publishCancel } from '../../queue/cancel-channel.js';
import { publishJobEvents } from '../../queue/job-events-channel.js';
import { ApiError } from '../errors.js';
import { requestScope, requestTenant } from '../scope.js';
import { ErrorSchema } from '../schemas.js';
import {
  SweepDecisionListSchema, SweepListSchema, SweepSchema, TrialListSchema, type SweepSummaryView, type SweepView,
} from '../sweep-schemas.js';
import type { AppOptions } from '../app-context.js';

const SweepParams = Type.Object({ id: Type.String({ description: 'sweep id (uuid)' }) });

/** The body's validator is validateSweep: every problem at once, with pointers into the sweep body. */
const sweepBodyValidator: FastifySchemaCompiler<TSchema> = (route) => {
  if (route.httpPart !== 'body') return TypeBoxValidatorCompiler(route);
  return (value: unknown) => {
    const checked = validateSweep(value);
    if (checked.ok) return { value: checked.sweep };
    const n = checked.problems.length;
    return { error: new ApiError(400, 'INVALID_SWEEP', `the sweep has ${n} ${n === 1 ? 'problem' : 'problems'}`, checked.problems) };
  };
};

function toSummaryView(s: SweepSummary): SweepSummaryView {
  const r = s.row;
  return {
    id: r.id,
    name: r.name,
    status: r.status as SweepView['status'],
    parameters: r.parameters as SweepView['parameters'],
    method: r.method as SweepView['method'],
    maxTrials: r.maxTrials,
    parallelism: r.parallelism,
    seed: Number(r.seed),
    objective: r.objective as SweepView['objective'],
    pruner: r.pruner as SweepView['pruner'],
    counts: s.counts,
    best: s.best,
    createdAt: r.createdAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

function cursorError(err: unknown): never {
  if (err instanceof InvalidCursorError) {
    throw new ApiError(400, 'INVALID_CURSOR', `the cursor ${err.message}`, [{ pointer: '/cursor', message: err.message }]);
  }
  throw err;
}

export const sweepsRoutes: FastifyPluginAsyncTypebox<Pick<AppOptions, 'prisma' | 'queue' | 'redis' | 'config'>> = async (
  app,
  { prisma, queue, redis, config },
) => {
  async function requireSweep(request: FastifyRequest, id: string): Promise<SweepRow> {
    const sweep = await findSweep(prisma, requestScope(request), id);
    if (!sweep) throw new ApiError(404, 'NOT_FOUND', `no sweep with id ${id}`);
    return sweep;
  }
  const view = async (row: SweepRow): Promise<SweepView> => ({ ...toSummaryView(await sweepSummary(prisma, row)), spec: row.spec });

  app.post(
    '/sweeps',
    {
      validatorCompiler: sweepBodyValidator,
      schema: {
        summary: 'Start a sweep: many trials of one spec, the bad ones pruned',
        description:
          'Validates the whole space first (400 lists every problem with a pointer into the sweep body: unknown parameter pointers, empty ranges, ' +
          'a grid larger than maxTrials, and any trial spec the job validator refuses, mapped back to the parameter that produced it). ' +
          'Trials are ordinary jobs, at most `parallelism` queued or running at once.',
        tags: ['sweeps'],
        body: SweepSpecSchema,
        response: { 201: SweepSchema, 400: ErrorSchema, 413: ErrorSchema, 415: ErrorSchema },
      },
    },
    async (request, reply) => {
      const sweep = request.body as unknown as NormalizedSweep;
      const scope = requestScope(request);
      // as POST /v1/jobs: initial weights must exist (and be readable in the scope)
      const checkpointIds = new Set(sweep.trials.map((t) => (trialSpec(sweep.spec, t).spec.initialWeights as { checkpointId?: string } | undefined)?.checkpointId));
      for (const id of checkpointIds) {
        if (id !== undefined && !(await checkpointExists(prisma, scope, id))) {
          throw new ApiError(400, 'INVALID_SWEEP', 'the sweep has 1 problem', [
            { pointer: '/spec/initialWeights/checkpointId', message: `there is no checkpoint with id ${id}; upload one with POST /v1/checkpoints or use a checkpoint id from GET /v1/jobs/{id}/checkpoints` },
          ]);
        }
      }
      const row = await createSweep(prisma, requestTenant(request), sweep);
      try {
        const advance = await advanceSweep(prisma, row.id);
        for (const jobId of advance?.queued ?? []) await enqueueTraining(queue, jobId);
      } catch (err) {
        // the sweep and its plan are stored: a worker's reconcile creates and queues its trials
        request.log.error({ err, sweepId: row.id }, 'could not queue the first trials; the workers\' reconcile will');
      }
      reply.header('location', `/v1/sweeps/${row.id}`);
      return reply.status(201).send(await view(row));
    },
  );

  app.get(
    '/sweeps',
    {
      schema: {
        summary: 'List sweeps, newest first',
        tags: ['sweeps'],
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'page size, default 20' })),
          cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
        }),
        response: { 200: SweepListSchema, 400: ErrorSchema },
      },
    },
    async (request) => {
      const { limit = 20, cursor } = request.query;
      const page = await listSweeps(prisma, requestScope(request), { limit, cursor }).catch(cursorError);
      return { items: page.items.map(toSummaryView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/sweeps/:id',
    {
      schema: {
        summary: 'A sweep: status, trial counts, the best trial',
        tags: ['sweeps'],
        params: SweepParams,
        response: { 200: SweepSchema, 404: ErrorSchema },
      },
    },
    async (request) => view(await requireSweep(request, request.params.id)),
  );

  app.get(
    '/sweeps/:id/trials',
    {
      schema: {
        summary: "A sweep's trials with their parameters and best objective",
        description: 'sort=index (default) or objective (best first; trials without a value last). Each trial is a job: GET /v1/jobs/{jobId}.',
        tags: ['sweeps'],
        params: SweepParams,
        querystring: Type.Object({
          sort: Type.Optional(Type.Enum(['index', 'objective'])),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'page size, default 100' })),
          cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page (of the same sort)' })),
        }),
        response: { 200: TrialListSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const sweep = await requireSweep(request, request.params.id);
      const { sort = 'index', limit = 100, cursor } = request.query;
      return listTrials(prisma, sweep, { sort, limit, cursor }).catch(cursorError);
    },
  );

  app.get(
    '/sweeps/:id/decisions',
    {
      schema: {
        summary: "Every pruner decision of a sweep, with the numbers it compared and why",
        tags: ['sweeps'],
        params: SweepParams,
        response: { 200: SweepDecisionListSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const sweep = await requireSweep(request, request.params.id);
      const rows = await listDecisions(prisma, sweep.id);
      return {
        items: rows.map((d) => ({
          jobId: d.jobId, epoch: d.epoch, rung: d.rung, value: d.value, threshold: d.threshold,
          decision: d.decision as 'continue' | 'prune' | 'promote', reason: d.reason, createdAt: d.createdAt.toISOString(),
        })),
      };
    },
  );

  app.post(
    '/sweeps/:id/cancel',
    {
      schema: {
        summary: 'Cancel a sweep and every queued or running trial',
        description: 'The sweep ends cancelled at once and creates no more trials (202); queued trials are cancelled, running ones stop within one batch. An ended sweep answers 409.',
        tags: ['sweeps'],
        params: SweepParams,
        response: { 202: SweepSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      const scope = requestScope(request);
      const sweep = await requireSweep(request, request.params.id);
      if (!(await markSweepCancelled(prisma, sweep.id))) {
        const now = await requireSweep(request, sweep.id);
        throw new ApiError(409, 'SWEEP_FINISHED', `sweep ${sweep.id} is already ${now.status} and cannot be cancelled`);
      }
      // advanceSweep holds the sweep row while it creates trials: once the update
      // above committed, no trial can appear that this list misses
      for (const jobId of await activeTrials(prisma, sweep.id)) {
        if ((await removeQueuedTraining(queue, jobId)) && (await cancelUnclaimedJob(prisma, scope, jobId))) {
          await publishJobEvents(redis, config.queuePrefix, jobId);
          continue;
        }
        if (await requestCancel(prisma, scope, jobId)) await publishCancel(redis, config.queuePrefix, jobId);
      }
      return reply.status(202).send(await view(await requireSweep(request, sweep.id)));
    },
  );
};
