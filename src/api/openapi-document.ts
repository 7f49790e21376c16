// The app's OpenAPI document without Postgres or Redis: `npm run build` turns it into
// src/generated/api-types.ts, the types the dashboard and the CLI are written against.
//
// It is the real buildApp on real clients, none of them asked to do anything:
// node-postgres opens a connection at the first query and none is sent; BullMQ's Queue
// does connect its Redis client when constructed, and when no Redis answers that
// attempt fails quietly (the error handlers below); with AUTH=off nothing writes the
// first admin key — building the routes and the document needs neither service. So the generated types come from exactly the schemas
// that serve requests (no second description to drift), and a route change that breaks
// a client fails the build.
import { loadConfig } from '../config.js';
import { createPrisma } from '../db/client.js';
import { silentLogger } from '../logger.js';
import { createRedis } from '../queue/connection.js';
import { createTrainQueue } from '../queue/train-queue.js';
import { buildApp } from './app.js';

export async function openApiDocument(): Promise<Record<string, unknown>> {
  // AUTH=off on loopback: no admin-key bootstrap (a Postgres write) and no key-change
  // subscriber; the routes and their schemas are the same either way.
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', AUTH: 'off', HOST: '127.0.0.1' });
  const prisma = createPrisma(config.databaseUrl);
  const redis = createRedis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => {}); // never connected; nothing to report
  const queue = createTrainQueue(redis, config.queuePrefix);
  queue.on('error', () => {});
  const app = await buildApp({ config, prisma, queue, redis, logger: silentLogger() });
  try {
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
    await queue.close().catch(() => {});
    redis.disconnect();
    await prisma.$disconnect();
  }
}
