// A real worker process for crash tests: `node dist/workers/main.js` with its own
// environment, killed for real (SIGKILL, SIGTERM).
//
//   const w = await spawnWorker({ databaseUrl: db.url, queuePrefix: config.queuePrefix });
//   w.kill('SIGKILL'); await w.exited;
//
// Its stdout (pino JSON lines) is kept in `lines`; a test that fails prints them
// with `w.tail()`.
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../workers/main.js', import.meta.url));

export interface WorkerProcessOptions {
  databaseUrl: string;
  queuePrefix: string;
  redisUrl?: string;
  /**
   * BullMQ lock; short so a killed worker's job is taken over within seconds (default
   * 5000: at 2000 a live worker on a machine with load 15 missed its renewal and lost
   * its job to another worker, which the crash tests then counted as an extra attempt)
   */
  lockMs?: number;
  /** stall check interval (default 1500) */
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  trainerThreads?: number;
  /** more variables, e.g. WORKER_CONCURRENCY */
  env?: Record<string, string>;
  /** how long to wait for the ready line (default 15 s) */
  readyTimeoutMs?: number;
}

export interface LogLine {
  msg?: string;
  level?: number;
  jobId?: string;
  [key: string]: unknown;
}

export interface WorkerProcess {
  pid: number;
  child: ChildProcess;
  /** parsed stdout lines so far */
  lines: LogLine[];
  /** resolves when the process has exited */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  /** waits for a log line (already written or to come) */
  waitForLine(predicate: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** the last lines of stdout and stderr, for assertion messages */
  tail(n?: number): string;
}

/** Spawns a worker and resolves once it logged 'worker waiting for jobs'. */
export async function spawnWorker(opts: WorkerProcessOptions): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: opts.databaseUrl,
      REDIS_URL: opts.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: opts.queuePrefix,
      WORKER_LOCK_MS: String(opts.lockMs ?? 5000),
      WORKER_STALLED_INTERVAL_MS: String(opts.stalledIntervalMs ?? 1500),
      ...(opts.maxStalledCount !== undefined && { WORKER_MAX_STALLED_COUNT: String(opts.maxStalledCount) }),
      TRAINER_THREADS: String(opts.trainerThreads ?? 1),
      LOG_LEVEL: 'info',
      // the test database is migrated already
      TRAINYARD_SKIP_MIGRATE: '1',
      // every spawned Trainyard process gets an admin key (COMMON2.md); the worker ignores it
      TRAINYARD_ADMIN_KEY: process.env.TRAINYARD_ADMIN_KEY ?? randomBytes(32).toString('hex'),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const waiters = new Set<{ predicate: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      raw.push(text);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      lines.push(line);
      for (const w of waiters) {
        if (w.predicate(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => raw.push(`[stderr] ${chunk.trimEnd()}`));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const tail = (n = 30): string => raw.slice(-n).join('\n');
  const waitForLine = (predicate: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> => {
    const seen = lines.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`worker ${child.pid}: no matching log line within ${timeoutMs} ms; last output:\n${tail()}`));
      }, timeoutMs);
      waiters.add(waiter);
      void exited.then(({ code, signal }) => {
        if (!waiters.has(waiter)) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`worker ${child.pid} exited (code ${code}, signal ${signal}) before the expected log line; last output:\n${tail()}`));
      });
    });
  };

  const w: WorkerProcess = {
    pid: child.pid!,
    child,
    lines,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    waitForLine,
    tail,
  };
  try {
    await waitForLine((l) => l.msg === 'worker waiting for jobs', opts.readyTimeoutMs ?? 15_000);
  } catch (err) {
    w.kill('SIGKILL');
    throw err;
  }
  return w;
}

/** SIGKILLs every worker still running (for `after` hooks). */
export async function killAll(workers: WorkerProcess[]): Promise<void> {
  for (const w of workers) w.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
}
