// GET /metrics in Prometheus text format (DESIGN.md "Prometheus"): request durations
// by method, route and status, jobs by status (counted in Postgres at scrape time),
// the BullMQ queue by state (asked of Redis at scrape time), and Node's process
// metrics. One registry per app, so tests can build many apps in one process.
// A scrape while Postgres or Redis is down still answers: the series of the service
// that did not answer are left out (Prometheus marks them stale) instead of the
// whole scrape failing.
import type { FastifyInstance } from 'fastify';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PrismaClient } from '../db/client.js';
import { countJobsByStatus } from '../db/repositories/jobs.js';
import { JOB_STATUSES } from '../db/repositories/job-status.js';
import type { TrainQueue } from '../queue/train-queue.js';

/** BullMQ's states that the queue gauge reports. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** A scrape waits at most this long for Postgres or Redis. */
const COLLECT_TIMEOUT_MS = 2000;

function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${COLLECT_TIMEOUT_MS} ms`)), COLLECT_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function installPrometheus(app: FastifyInstance, prisma: PrismaClient, queue: TrainQueue): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'trainyard_' });

  const duration = new Histogram({
    name: 'trainyard_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  new Gauge({
    name: 'trainyard_jobs',
    help: 'Jobs by status (Postgres)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await withTimeout(countJobsByStatus(prisma)).catch(() => null);
      if (counts) for (const status of JOB_STATUSES) this.set({ status }, counts[status] ?? 0);
    },
  });

  new Gauge({
    name: 'trainyard_queue_jobs',
    help: 'BullMQ jobs of the training queue by state (waiting, active, delayed, failed)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await withTimeout(queue.getJobCounts(...QUEUE_STATES)).catch(() => null);
      if (counts) for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    // the route pattern, not the URL: /v1/jobs/:id is one series, not one per job
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });

  return registry;
}
