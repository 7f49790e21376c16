// `npm start`: the API and one worker process on one machine. The worker is a
// forked child (training is CPU-bound and must not stall HTTP); signals are
// forwarded to it and the parent exits when both have stopped.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startApi } from './api/server.js';
import { createLogger } from './logger.js';
import { loadConfigOrExit, onShutdownSignal, prepareServices } from './startup.js';

const WORKER_ENTRY = fileURLToPath(new URL('../workers/main.js', import.meta.url));

const config = loadConfigOrExit();
const logger = createLogger(config, { bindings: { service: 'api' } });
await prepareServices(config, logger);

let stopping = false;
const worker: ChildProcess = fork(WORKER_ENTRY, [], {
  env: { ...process.env, TRAINYARD_SKIP_MIGRATE: '1' },
  stdio: 'inherit',
});
const workerExited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
const api = await startApi(config, logger);

worker.once('exit', (code, signal) => {
  if (stopping) return;
  logger.fatal({ code, signal }, 'the worker process exited; stopping the API too');
  void api.close().finally(() => process.exit(1));
});

onShutdownSignal(logger, async (signal) => {
  stopping = true;
  if (worker.exitCode === null) worker.kill(signal);
  await Promise.all([api.close(), workerExited]);
});
