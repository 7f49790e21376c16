// The API process: `npm run start:api` (and the API half of `npm start`).
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { createPrisma } from '../db/client.js';
import { createLogger, type Logger } from '../logger.js';
import { createRedis } from '../queue/connection.js';
import { createTrainQueue } from '../queue/train-queue.js';
import { Reconciler } from '../queue/reconciler.js';
import { loadConfigOrExit, onShutdownSignal, prepareServices } from '../startup.js';
import { buildApp } from './app.js';

export interface RunningApi {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Builds the app on real connections and listens on config.host:config.port. */
export async function startApi(config: Config, logger: Logger): Promise<RunningApi> {
  // connectTimeoutMs: while Postgres is down a request answers 503 within about a second instead of hanging
  const prisma = createPrisma(config.databaseUrl, { connectTimeoutMs: config.databaseConnectTimeoutMs, onPoolError: (err) => logger.warn({ err }, 'Postgres connection lost') });
  // maxRetriesPerRequest 1: while Redis is down a request fails fast (503) instead of hanging
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1, connectionName: 'trainyard-api' });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'Redis connection error'));
  const queue = createTrainQueue(redis, config.queuePrefix);
  queue.on('error', (err) => logger.warn({ err: err.message }, 'queue error'));
  const app = await buildApp({ config, prisma, queue, redis, logger });
  await app.listen({ port: config.port, host: config.host });
  // heals jobs stranded between the insert and the enqueue of a request that died (and jobs Redis lost)
  const reconciler = new Reconciler({ prisma, databaseUrl: config.databaseUrl, queue, logger, intervalMs: config.reconcileIntervalMs }).start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, docs: `${url}/docs` }, `Trainyard API listening on ${url} (OpenAPI UI: ${url}/docs)`);
  return {
    app,
    url,
    async close() {
      await reconciler.stop();
      await app.close();
      await queue.close();
      redis.disconnect();
      await prisma.$disconnect();
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config, { bindings: { service: 'api' } });
  await prepareServices(config, logger);
  const api = await startApi(config, logger);
  onShutdownSignal(logger, () => api.close());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
