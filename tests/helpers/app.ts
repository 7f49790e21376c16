// A real app for integration tests: a fresh migrated database, a unique BullMQ
// prefix on the shared Redis, real connections. Nothing is mocked.
//
//   const h = await createTestApp('api-jobs');
//   after(() => h.close());
//   const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: spec });
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import type { PrismaClient } from '../../src/db/client.js';
import { createRedis } from '../../src/queue/connection.js';
import { createTrainQueue, type TrainQueue } from '../../src/queue/train-queue.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { TrainingWorker } from '../../workers/training-worker.js';

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  db: TestDatabase;
  prisma: PrismaClient;
  queue: TrainQueue;
  redis: Redis;
  logger: Logger;
  close(): Promise<void>;
}

export function testConfig(databaseUrl: string, overrides: Partial<Config> = {}): Config {
  const base = loadConfig({ ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
  return {
    ...base,
    databaseUrl,
    queuePrefix: `trainyard-test-${process.pid}-${randomBytes(4).toString('hex')}`,
    trainerThreads: 1,
    ...overrides,
  };
}

export async function createTestApp(label: string, overrides: Partial<Config> = {}): Promise<TestApp> {
  const db = await createTestDatabase(label);
  const config = testConfig(db.url, overrides);
  const logger = silentLogger();
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1, connectionName: 'trainyard-test-api' });
  const queue = createTrainQueue(redis, config.queuePrefix);
  const app = await buildApp({ config, prisma: db.prisma, queue, redis, logger });
  return {
    app, config, db, prisma: db.prisma, queue, redis, logger,
    async close() {
      await app.close();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      redis.disconnect();
      await db.drop();
    },
  };
}

/** A tiny job that trains in well under a second. */
export function tinySpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'tiny-xor',
    dataset: { name: 'synthetic/xor', n: 64, validationSplit: 0.25, seed: 1 },
    model: {
      layers: [
        { type: 'dense', units: 8, activation: 'tanh' },
        { type: 'dense', units: 2, activation: 'softmax' },
      ],
    },
    loss: 'cross-entropy',
    optimizer: { type: 'adam', learningRate: 0.01 },
    training: { epochs: 2, batchSize: 16, seed: 7 },
    ...overrides,
  };
}

/** Polls until predicate(value) or the deadline. */
export async function waitFor<T>(
  read: () => Promise<T>,
  predicate: (value: T) => boolean,
  { timeoutMs = 20_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** POST /v1/jobs, expecting 201; returns the new job's id. */
export async function submitJob(h: Pick<TestApp, 'app'>, spec: Record<string, unknown>): Promise<string> {
  const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: spec });
  if (res.statusCode !== 201) throw new Error(`POST /v1/jobs answered ${res.statusCode}: ${res.body}`);
  return (res.json() as { id: string }).id;
}

/** GET /v1/jobs/:id as parsed JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function fetchJob(h: Pick<TestApp, 'app'>, id: string): Promise<any> {
  return (await h.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json();
}

/** An in-process worker on the test app's database and queue (requeues after 100 ms). Close it in after(). */
export function startTestWorker(h: Pick<TestApp, 'config' | 'prisma' | 'logger'>): Promise<TrainingWorker> {
  return TrainingWorker.start({ config: h.config, prisma: h.prisma, logger: h.logger, requeueDelayMs: 100 });
}
