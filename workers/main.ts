// The worker process: `npm run start:worker` (and the process `npm start` forks).
// SIGTERM/SIGINT: running jobs stop between two batches and go back to the queue
// (see training-worker.ts), connections close, exit 0.
// It also serves its Prometheus metrics (WORKER_METRICS_PORT) and runs the
// reconciler (src/queue/reconciler.ts), which re-queues jobs BullMQ lost.
import { createPrisma } from '../src/db/client.js';
import { createLogger } from '../src/logger.js';
import { createRedis } from '../src/queue/connection.js';
import { Reconciler } from '../src/queue/reconciler.js';
import { createTrainQueue } from '../src/queue/train-queue.js';
import { loadConfigOrExit, onShutdownSignal, prepareServices } from '../src/startup.js';
import { startMetricsServer } from './metrics-server.js';
import { TrainingWorker } from './training-worker.js';
import { WorkerMetrics } from './worker-metrics.js';

const config = loadConfigOrExit();
const logger = createLogger(config, { bindings: { service: 'worker' } });
// `npm start` migrates once in the parent before forking this process.
await prepareServices(config, logger, { migrateDatabase: process.env.TRAINYARD_SKIP_MIGRATE !== '1' });

const prisma = createPrisma(config.databaseUrl, { onPoolError: (err) => logger.warn({ err }, 'Postgres connection lost') });
const busy: { worker?: TrainingWorker } = {};
const metrics = new WorkerMetrics(() => busy.worker?.runningJobIds.length ?? 0);
const worker = await TrainingWorker.start({ config, prisma, logger, metrics });
busy.worker = worker;
const metricsServer = config.workerMetricsPort === 0 ? null : await startMetricsServer(metrics, config.host, config.workerMetricsPort, logger);

// its own connection, failing fast while Redis is down (the worker's retries forever)
const reconcilerRedis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1, connectionName: 'trainyard-worker-reconciler' });
reconcilerRedis.on('error', () => {}); // the worker's own connections log Redis outages
const reconcilerQueue = createTrainQueue(reconcilerRedis, config.queuePrefix);
reconcilerQueue.on('error', () => {});
const reconciler = new Reconciler({ prisma, databaseUrl: config.databaseUrl, queue: reconcilerQueue, logger, intervalMs: config.reconcileIntervalMs }).start();

logger.info(
  { concurrency: config.workerConcurrency, trainerThreads: config.trainerThreads, queuePrefix: config.queuePrefix },
  'worker waiting for jobs',
);

onShutdownSignal(logger, async () => {
  await reconciler.stop();
  await worker.close();
  await metricsServer?.close();
  await reconcilerQueue.close().catch(() => {});
  reconcilerRedis.disconnect();
  await prisma.$disconnect();
});
