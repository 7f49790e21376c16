// GET /metrics in Prometheus text format: request durations by route and status,
// jobs by status (counted in Postgres at scrape time), and Node's process metrics.
// One registry per app, so tests can build many apps in one process.
import type { FastifyInstance } from 'fastify';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PrismaClient } from '../db/client.js';
import { countJobsByStatus } from '../db/repositories/jobs.js';
import { JOB_STATUSES } from '../db/repositories/job-status.js';

export function installPrometheus(app: FastifyInstance, prisma: PrismaClient): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'trainyard_' });

  const duration = new Histogram({
    name: 'trainyard_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  new Gauge({
    name: 'trainyard_jobs',
    help: 'Jobs by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await countJobsByStatus(prisma);
      for (const status of JOB_STATUSES) this.set({ status }, counts[status] ?? 0);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    // the route pattern, not the URL: /v1/jobs/:id is one series, not one per job
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });

  return registry;
}
