// A real app for integration tests: a fresh migrated database, a unique BullMQ
// prefix on the shared Redis, real connections. Nothing is mocked.
//
//   const h = await createTestApp('api-jobs');
//   after(() => h.close());
//   const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: spec });
//
// Auth is on, as in production: the app gets a random TRAINYARD_ADMIN_KEY-style admin
// key (h.adminKey) and h.app.inject sends `authorization: Bearer <admin key>` with
// every request unless the request names its own authorization header — a value, or
// `authorization: undefined` for none. createTenant/createKey make other callers.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
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
  /** the admin key (tenant `default`) every h.app.inject request carries by default */
  adminKey: string;
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
    adminKey: randomBytes(32).toString('hex'),
    // tests make many requests and queue many jobs quickly; auth tests set their own limits
    rateLimitPerMinute: 1_000_000,
    tenantMaxActiveJobs: 1_000_000,
    ...overrides,
  };
}

export async function createTestApp(label: string, overrides: Partial<Config> = {}): Promise<TestApp> {
  const db = await createTestDatabase(label);
  const config = testConfig(db.url, overrides);
  const logger = silentLogger();
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1, connectionName: 'trainyard-test-api' });
  const queue = createTrainQueue(redis, config.queuePrefix);
  const app = authorize(await buildApp({ config, prisma: db.prisma, queue, redis, logger }), config.adminKey!);
  return {
    app, adminKey: config.adminKey!, config, db, prisma: db.prisma, queue, redis, logger,
    async close() {
      await app.close();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      redis.disconnect();
      await db.drop();
    },
  };
}

/**
 * Makes app.inject send `authorization: Bearer <key>` unless a request names its own
 * authorization header (`authorization: undefined`: none). Returns the same app.
 */
export function authorize(app: FastifyInstance, key: string): FastifyInstance {
  const inject = app.inject.bind(app) as (opts?: unknown) => unknown;
  const wrapped = (opts?: InjectOptions | string) => {
    if (opts === undefined) return inject(); // the chain API: callers set headers themselves
    const options: InjectOptions = typeof opts === 'string' ? { url: opts } : opts;
    const headers: Record<string, unknown> = { ...(options.headers as Record<string, unknown> | undefined) };
    const named = Object.keys(headers).find((h) => h.toLowerCase() === 'authorization');
    if (named === undefined) headers.authorization = `Bearer ${key}`;
    else if (headers[named] === undefined) delete headers[named];
    return inject({ ...options, headers });
  };
  (app as unknown as { inject: typeof wrapped }).inject = wrapped;
  return app;
}

/** `{ authorization: 'Bearer <key>' }`, for requests made as another key. */
export function bearer(key: string): { authorization: string } {
  return { authorization: `Bearer ${key}` };
}

/** POST /v1/tenants as the admin; returns the new tenant's id. */
export async function createTenant(h: Pick<TestApp, 'app'>, name = `t-${randomBytes(4).toString('hex')}`): Promise<string> {
  const res = await h.app.inject({ method: 'POST', url: '/v1/tenants', payload: { name } });
  if (res.statusCode !== 201) throw new Error(`POST /v1/tenants answered ${res.statusCode}: ${res.body}`);
  return (res.json() as { id: string }).id;
}

export interface TestKey {
  id: string;
  key: string;
  prefix: string;
  tenant: string;
}

/** POST /v1/keys as the admin. */
export async function createKey(h: Pick<TestApp, 'app'>, tenant: string, scopes: ('read' | 'submit' | 'admin')[] = ['submit'], name = 'test key'): Promise<TestKey> {
  const res = await h.app.inject({ method: 'POST', url: '/v1/keys', payload: { tenant, name, scopes } });
  if (res.statusCode !== 201) throw new Error(`POST /v1/keys answered ${res.statusCode}: ${res.body}`);
  return res.json() as TestKey;
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
