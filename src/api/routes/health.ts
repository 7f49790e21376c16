// GET /health (liveness: the process answers) and GET /ready (readiness: Postgres
// and Redis answer). A load balancer sends traffic only while /ready is 200.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { pingRedis } from '../../queue/connection.js';
import type { AppOptions } from '../app-context.js';

const CHECK_TIMEOUT_MS = 2000;

const Check = Type.Object({
  ok: Type.Boolean(),
  error: Type.Optional(Type.String()),
});

const ReadySchema = Type.Object({
  status: Type.Enum(['ready', 'unavailable']),
  checks: Type.Object({ postgres: Check, redis: Check }),
});

async function check(probe: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: FastifyPluginAsyncTypebox<Pick<AppOptions, 'prisma' | 'redis'>> = async (app, { prisma, redis }) => {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness: the API process is up',
        tags: ['operations'],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      schema: {
        summary: 'Readiness: Postgres (SELECT 1) and Redis (PING) answer',
        description: '503 names the service that is down.',
        tags: ['operations'],
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (request, reply) => {
      const [postgres, redisCheck] = await Promise.all([
        check(() => prisma.$queryRaw`SELECT 1`),
        check(() => pingRedis(redis, CHECK_TIMEOUT_MS)),
      ]);
      const ready = postgres.ok && redisCheck.ok;
      if (!ready) request.log.warn({ postgres, redis: redisCheck }, 'not ready');
      return reply
        .status(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'unavailable', checks: { postgres, redis: redisCheck } });
    },
  );
};
