// Soak: `npm run bench:soak`. 300 small jobs through 2 real worker processes, on a
// fresh database and its own queue prefix. Passes when every job succeeded, each
// worker's RSS after warm-up (the first third of the jobs) stays flat (the mean of the
// last quarter of the samples within ±10% of the first quarter's), and the database's
// Postgres connections make no new high after warm-up. Prints the samples it judged by.
//   node dist/bench/soak.js [--jobs 300] [--workers 2]
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { buildApp } from '../src/api/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { createRedis } from '../src/queue/connection.js';
import { createTrainQueue } from '../src/queue/train-queue.js';
import { createTestDatabase } from '../tests/helpers/db.js';
import { freePort } from '../tests/helpers/own-services.js';

/** The worker's V8 heap in use (its own /metrics), in MiB; NaN while it does not answer. */
async function heapMiB(port: number): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '');
  return Number(/^trainyard_worker_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN) / 2 ** 20;
}

// --heap-limit MiB: run the workers with --max-old-space-size, so V8 collects before it
// grows the heap (garbage then cannot pass for a leak; a real leak ends in an out-of-memory crash)
const { values } = parseArgs({ options: { jobs: { type: 'string', default: '300' }, workers: { type: 'string', default: '2' }, 'heap-limit': { type: 'string' } } });
const JOBS = Number(values.jobs), WORKERS = Number(values.workers);
const WARM_UP = Math.ceil(JOBS / 3);

const spec = (i: number) => ({
  name: `soak-${i}`,
  dataset: { name: 'synthetic/xor', n: 512, validationSplit: 0.25, seed: i },
  model: { layers: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dense', units: 2, activation: 'softmax' }] },
  loss: 'cross-entropy',
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: 10, batchSize: 16, seed: i },
  checkpoints: { everyEpochs: 1, keepLast: 1 },
});

/** VmRSS of a process in MiB (Linux /proc). */
function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return kb / 1024;
}

const db = await createTestDatabase('bench-soak');
const config = { ...loadConfig({ ...process.env, LOG_LEVEL: 'silent' }), databaseUrl: db.url, queuePrefix: `trainyard-soak-${process.pid}` };
const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1, connectionName: 'trainyard-soak' });
const queue = createTrainQueue(redis, config.queuePrefix);
const app = await buildApp({ config, prisma: db.prisma, queue, redis, logger: silentLogger() });
const watcher = new pg.Client({ connectionString: db.url });
await watcher.connect();

const workerMain = fileURLToPath(new URL('../workers/main.js', import.meta.url));
const metricsPorts = await Promise.all(Array.from({ length: WORKERS }, () => freePort()));
const nodeFlags = values['heap-limit'] ? [`--max-old-space-size=${Number(values['heap-limit'])}`] : [];
const workers: ChildProcess[] = metricsPorts.map((port) => spawn(process.execPath, [...nodeFlags, workerMain], {
  env: {
    ...process.env, DATABASE_URL: db.url, REDIS_URL: config.redisUrl, QUEUE_PREFIX: config.queuePrefix, TRAINYARD_SKIP_MIGRATE: '1',
    WORKER_CONCURRENCY: '1', TRAINER_THREADS: '1', WORKER_METRICS_PORT: String(port), LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
}));

const started = Date.now();
for (let i = 0; i < JOBS; i++) {
  const res = await app.inject({ method: 'POST', url: '/v1/jobs', payload: spec(i) });
  if (res.statusCode !== 201) throw new Error(`POST /v1/jobs answered ${res.statusCode}: ${res.body}`);
}

interface Sample { seconds: number; finished: number; rss: number[]; heap: number[]; connections: number }
const samples: Sample[] = [];
let warm: Sample | undefined;
for (;;) {
  const { rows } = await watcher.query<{ finished: string }>(`SELECT count(*) AS finished FROM jobs WHERE status NOT IN ('queued', 'running')`);
  // the watcher's own connection is not counted
  const conns = await watcher.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  const sample: Sample = {
    seconds: (Date.now() - started) / 1000, finished: Number(rows[0]!.finished),
    rss: workers.map((w) => rssMiB(w.pid!)), heap: await Promise.all(metricsPorts.map(heapMiB)), connections: Number(conns.rows[0]!.n),
  };
  samples.push(sample);
  if (!warm && sample.finished >= WARM_UP) warm = sample;
  if (sample.finished >= JOBS) break;
  if (workers.some((w) => w.exitCode !== null)) throw new Error('a worker process exited during the soak');
  await new Promise((r) => setTimeout(r, 1000));
}

const statuses = await watcher.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM jobs GROUP BY status ORDER BY status');
for (const w of workers) w.kill('SIGTERM');
await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));

const after = samples.filter((s) => s.finished >= WARM_UP);
const last = samples.at(-1)!;
console.log(`\nSoak: ${JOBS} jobs through ${WORKERS} worker processes${nodeFlags.length ? ` (${nodeFlags.join(' ')})` : ''} in ${last.seconds.toFixed(0)} s; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`jobs by status: ${statuses.rows.map((r) => `${r.status} ${r.n}`).join(', ')}`);
console.log('seconds  finished  ' + workers.map((_, i) => `rss${i} MiB`.padStart(10) + `heap${i} MiB`.padStart(11)).join(' ') + '  pg connections');
const step = Math.max(1, Math.floor(samples.length / 15));
for (const s of samples.filter((_, i) => i % step === 0 || i === samples.length - 1)) {
  console.log(`${s.seconds.toFixed(0).padStart(7)}  ${String(s.finished).padStart(8)}  ${s.rss.map((r, i) => r.toFixed(1).padStart(10) + s.heap[i]!.toFixed(1).padStart(11)).join(' ')}  ${String(s.connections).padStart(14)}`);
}
const succeeded = Number(statuses.rows.find((r) => r.status === 'succeeded')?.n ?? 0);
// RSS saws up and down with V8's collections, so the trend is judged on means: the
// first quarter of the samples after warm-up against the last quarter.
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const quarter = Math.max(1, Math.floor(after.length / 4));
const rssOk = workers.map((_, i) => {
  const values = after.map((s) => s.rss[i]!);
  const early = mean(values.slice(0, quarter)), late = mean(values.slice(-quarter));
  const change = (late - early) / early;
  const ok = Math.abs(change) <= 0.1;
  console.log(`worker ${i}: RSS after warm-up ${early.toFixed(1)} MiB (mean of the first quarter), at the end ${late.toFixed(1)} MiB (last quarter): ` +
    `${(change * 100).toFixed(1)}%; range ${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)} MiB — ${ok ? 'flat' : 'NOT flat'}`);
  return ok;
});
// The V8 heap in use saws between collections too; its floor (the lowest value in a
// quarter) is what a leak raises.
workers.forEach((_, i) => {
  const values = after.map((s) => s.heap[i]!).filter(Number.isFinite);
  if (values.length < 4) return;
  const q = Math.max(1, Math.floor(values.length / 4));
  console.log(`worker ${i}: V8 heap in use after warm-up: floor ${Math.min(...values.slice(0, q)).toFixed(1)} MiB in the first quarter, ${Math.min(...values.slice(-q)).toFixed(1)} MiB in the last`);
});
// Pools open and idle out connections as load comes and goes, and each reconciler round
// holds one more for its advisory lock; a leak grows past every pool's ceiling
// (10 per worker's pool + 1 reconciler lock each) and does not come back down.
const before = samples.filter((s) => s.finished < WARM_UP);
const connsWarm = Math.max(...before.map((s) => s.connections), warm!.connections);
const connsAfter = Math.max(...after.map((s) => s.connections));
const ceiling = WORKERS * 11;
const connsOk = connsAfter <= ceiling && last.connections <= connsWarm;
console.log(`Postgres connections: at most ${connsWarm} during warm-up, at most ${connsAfter} after it (ceiling ${ceiling}), ${last.connections} at the end — ${connsOk ? 'not growing' : 'GROWING'}`);
console.log(`all ${JOBS} succeeded: ${succeeded === JOBS ? 'yes' : `NO (${succeeded})`}`);

await app.close();
await queue.obliterate({ force: true }).catch(() => {});
await queue.close();
redis.disconnect();
await watcher.end();
await db.drop();
process.exit(succeeded === JOBS && rssOk.every(Boolean) && connsOk ? 0 : 1);
