// The whole service as real processes for CLI and browser tests: a fresh database,
// `node dist/src/api/server.js` on a free port (PORT=0) and a real worker process
// (tests/helpers/worker-process.ts), sharing a unique BullMQ prefix.
//
//   const svc = await startService('cli');
//   after(() => svc.close());
//   fetch(`${svc.url}/v1/jobs`, { headers: { authorization: `Bearer ${svc.apiKey}` } });
//
// Processes get TRAINYARD_ADMIN_KEY (COMMON rules: clients send it as a Bearer key,
// a server without auth ignores it).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { withDatabase } from '../../src/db/ensure-database.js';
import { createRedis } from '../../src/queue/connection.js';
import { createTrainQueue } from '../../src/queue/train-queue.js';
import { dropDatabase, testServerUrl, uniqueDatabaseName } from './db.js';
import { spawnWorker, type WorkerProcess } from './worker-process.js';

const API_MAIN = fileURLToPath(new URL('../../src/api/server.js', import.meta.url));

export interface ServiceProcesses {
  url: string;
  apiKey: string;
  databaseUrl: string;
  queuePrefix: string;
  worker: WorkerProcess;
  /** the API's stdout and stderr so far */
  apiOutput(): string;
  close(): Promise<void>;
}

export async function startService(label: string, { workerEnv = {} as Record<string, string> } = {}): Promise<ServiceProcesses> {
  const databaseUrl = withDatabase(testServerUrl(), uniqueDatabaseName(label));
  const queuePrefix = `trainyard-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  const apiKey = randomBytes(32).toString('hex');
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: queuePrefix,
    TRAINYARD_ADMIN_KEY: apiKey,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
  const api = spawn(process.execPath, [API_MAIN], {
    // a test machine may be loaded: a slow connect is not an outage here
    env: { DATABASE_CONNECT_TIMEOUT_MS: '10000', ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => api.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the API did not start within 30 s:\n${output}`)), 30_000);
    api.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const m = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    api.stderr!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the API exited before listening:\n${output}`));
    });
  });
  let worker: WorkerProcess;
  try {
    worker = await spawnWorker({ databaseUrl, queuePrefix, env: { TRAINYARD_ADMIN_KEY: apiKey, ...workerEnv } });
  } catch (err) {
    api.kill('SIGKILL');
    throw err;
  }
  return {
    url, apiKey, databaseUrl, queuePrefix, worker,
    apiOutput: () => output,
    async close() {
      worker.kill('SIGKILL');
      if (api.exitCode === null && api.signalCode === null) api.kill('SIGTERM');
      await Promise.all([worker.exited, exited]);
      const redis = createRedis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
      const queue = createTrainQueue(redis, queuePrefix);
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      redis.disconnect();
      await dropDatabase(databaseUrl).catch(() => {});
    },
  };
}
