// GET /v1/jobs/:id/early-stopping: every early-stopping decision of a job, with its reason.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { earlyStoppingDecisions } from '../../db/repositories/event-reads.js';
import { EarlyStoppingListSchema, ErrorSchema, jsonNumber } from '../schemas.js';
import type { AppOptions } from '../app-context.js';
import { requestScope, requireJob } from '../scope.js';

const JobParams = Type.Object({ id: Type.String({ description: 'job id (uuid)' }) });

export const earlyStoppingRoutes: FastifyPluginAsyncTypebox<Pick<AppOptions, 'prisma'>> = async (app, { prisma }) => {
  app.get(
    '/jobs/:id/early-stopping',
    {
      schema: {
        summary: 'Early-stopping decisions of a job, one per epoch',
        description:
          'Ordered by epoch. Each says what the monitored metric was, the best so far and when, how many epochs have passed ' +
          'without improvement (wait) and the decision: improved, continue or stop. Empty for a job without earlyStopping.',
        tags: ['jobs'],
        params: JobParams,
        response: { 200: EarlyStoppingListSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const job = await requireJob(prisma, request, request.params.id);
      const rows = await earlyStoppingDecisions(prisma, requestScope(request), job.id);
      return {
        items: rows.map((d) => ({
          epoch: d.epoch,
          monitor: d.monitor,
          value: jsonNumber(d.value),
          best: jsonNumber(d.best),
          bestEpoch: d.bestEpoch,
          wait: d.wait,
          decision: d.decision as 'improved' | 'continue' | 'stop',
          reason: d.reason,
          createdAt: d.createdAt.toISOString(),
        })),
      };
    },
  );
};
