// buildApp: the whole HTTP API as one Fastify instance, without opening a port.
// Tests drive it with app.inject(); src/main.ts calls listen().
import Fastify, { type FastifyInstance } from 'fastify';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { AppOptions } from './app-context.js';
import { clientErrorHandler, frameworkErrors, installErrorHandling } from './errors.js';
import { installOpenApi } from './openapi.js';
import { installPrometheus } from './prometheus.js';
import { healthRoutes } from './routes/health.js';
import { jobsRoutes } from './routes/jobs.js';
import { metricsRoutes } from './routes/metrics.js';
import { checkpointsRoutes } from './routes/checkpoints.js';
import { predictRoutes } from './routes/predict.js';
import { eventsRoutes } from './routes/events.js';
import { earlyStoppingRoutes } from './routes/early-stopping.js';
import { installAuth } from './auth/plugin.js';
import { installRateLimit } from './auth/rate-limit.js';
import { installBrowserSafety } from './auth/browser-safety.js';
import { installSafeJsonParser } from './auth/safe-json.js';
import { keysRoutes } from './routes/keys.js';
import { tenantsRoutes } from './routes/tenants.js';
import { sweepsRoutes } from './routes/sweeps.js';
import { installDashboard } from './dashboard.js';
import { ReadCache } from './read-cache.js';

export type { AppOptions };

/** Inline datasets travel in the spec, so the body limit is above Fastify's 1 MiB. */
const BODY_LIMIT = 32 * 1024 * 1024;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, prisma, queue, redis, logger } = options;
  // Route plugins get the TypeBox type provider from FastifyPluginAsyncTypebox.
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT,
    frameworkErrors,
    clientErrorHandler,
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // Every body is JSON or raw bytes (checkpoint upload). Fastify's default text/plain
  // parser would hand a JSON spec sent as text/plain to the route as one string
  // ("must be an object"); without it the answer is a 415 that names the fix.
  app.removeContentTypeParser('text/plain');
  installSafeJsonParser(app);

  installErrorHandling(app);
  // before every route: security headers, then the key check, then the per-key budget
  await installBrowserSafety(app, config);
  await installAuth(app, { config, prisma, logger });
  await installRateLimit(app, config, redis);
  await installOpenApi(app);
  installPrometheus(app, prisma, queue);

  await app.register(healthRoutes, { prisma, redis });
  // one per app: the jobs routes drop a job's entries when they change it
  const readCache = new ReadCache({ ttlMs: config.readCacheMs });
  await app.register(jobsRoutes, { prefix: '/v1', prisma, queue, redis, config, hooks: options.hooks, readCache });
  await app.register(metricsRoutes, { prefix: '/v1', prisma, readCache });
  await app.register(checkpointsRoutes, { prefix: '/v1', prisma, uploadLimit: config.uploadBodyLimit });
  await app.register(predictRoutes, { prefix: '/v1', prisma, bodyLimit: config.predictBodyLimit });
  await app.register(eventsRoutes, { prefix: '/v1', prisma, config, events: options.events, readCache });
  await app.register(earlyStoppingRoutes, { prefix: '/v1', prisma });
  await app.register(sweepsRoutes, { prefix: '/v1', prisma, queue, redis, config });
  await installDashboard(app);
  await app.register(tenantsRoutes, { prefix: '/v1', prisma });
  await app.register(keysRoutes, { prefix: '/v1', prisma, redis, config });

  await app.ready();
  return app;
}
