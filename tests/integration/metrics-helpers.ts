// Shared by the metrics-*.test.ts files: a bare Fastify app with the metrics routes
// wired the way buildApp wires them (TypeBox validation, the one error handler,
// /v1 prefix), and fast point inserts.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { PrismaClient } from '../../src/db/client.js';
import { installErrorHandling } from '../../src/api/errors.js';
import { metricsRoutes } from '../../src/api/routes/metrics.js';

export async function metricsApp(prisma: PrismaClient): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  installErrorHandling(app);
  await app.register(metricsRoutes, { prefix: '/v1', prisma });
  await app.ready();
  return app;
}

export async function insertJob(prisma: PrismaClient, id: string = randomUUID()): Promise<string> {
  await prisma.$executeRaw`
    INSERT INTO jobs (id, name, status, spec, spec_hash) VALUES (${id}::uuid, 'metrics-test', 'running', '{}'::jsonb, 'x')`;
  return id;
}

/** Points with the given values at the given steps (epoch = step / 100). Values may be NaN or ±Infinity. */
export async function insertPoints(prisma: PrismaClient, jobId: string, name: string, steps: number[], values: number[]): Promise<void> {
  for (let i = 0; i < steps.length; i += 50_000) {
    const s = steps.slice(i, i + 50_000);
    const v = values.slice(i, i + 50_000).map((x) => (Number.isNaN(x) ? 'NaN' : String(x)));
    await prisma.$executeRaw`
      INSERT INTO metric_points (job_id, name, step, epoch, value, time)
      SELECT ${jobId}::uuid, ${name}, t.step, t.step / 100, t.value::float8, timestamptz '2026-01-01' + t.step * interval '1 second'
      FROM unnest(${s}::int[], ${v}::text[]) AS t(step, value)`;
  }
}

export function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

export type JsonValue = number | 'NaN' | 'Infinity' | '-Infinity';

export interface JsonPoint {
  step: number;
  epoch: number;
  value: JsonValue;
  time: string;
}

export interface JsonSeries {
  jobId?: string;
  name: string;
  points: JsonPoint[];
  downsampled: boolean;
}

export function toNumber(v: JsonValue): number {
  return typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity;
}
