// The worker process: `npm run start:worker` (and the process `npm start` forks).
// SIGTERM/SIGINT: running jobs stop between two batches and go back to the queue
// (see training-worker.ts), connections close, exit 0.
import { createPrisma } from '../src/db/client.js';
import { createLogger } from '../src/logger.js';
import { loadConfigOrExit, onShutdownSignal, prepareServices } from '../src/startup.js';
import { TrainingWorker } from './training-worker.js';

const config = loadConfigOrExit();
const logger = createLogger(config, { bindings: { service: 'worker' } });
// `npm start` migrates once in the parent before forking this process.
await prepareServices(config, logger, { migrateDatabase: process.env.TRAINYARD_SKIP_MIGRATE !== '1' });

const prisma = createPrisma(config.databaseUrl, { onPoolError: (err) => logger.warn({ err }, 'Postgres connection lost') });
const worker = await TrainingWorker.start({ config, prisma, logger });
logger.info(
  { concurrency: config.workerConcurrency, trainerThreads: config.trainerThreads, queuePrefix: config.queuePrefix },
  'worker waiting for jobs',
);

onShutdownSignal(logger, async () => {
  await worker.close();
  await prisma.$disconnect();
});
