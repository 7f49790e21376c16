// API load benchmark: `npm run bench:api`. The real app (fresh database, real Redis)
// runs in a child process on a loopback port, autocannon drives it from this one (so
// the load generator does not eat the server's event loop). GET /health in the same
// run is the baseline (Fastify's floor on this machine), so each route's cost reads
// as a ratio, which survives a loaded machine better than req/s does. Then 200 SSE
// streams are held open on 2 jobs that a real worker process trains.
//   node dist/bench/api.js [--seconds 5] [--connections 10] [--streams 200]
// Targets (issue 12): status ≥ 0.4× /health with p99 < 25 ms; metric history
// (maxPoints 1000) ≥ 0.25× /health; every SSE stream held to its job's end.
import { fork, spawn } from 'node:child_process';
import { request } from 'node:http';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    streams: { type: 'string', default: '200' },
    serve: { type: 'boolean', default: false },
  },
});

const spec = {
  name: 'bench-spirals',
  dataset: { name: 'synthetic/spirals', n: 600, validationSplit: 0.2 },
  model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
  loss: 'cross-entropy',
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: 5, batchSize: 32, seed: 1 },
};

interface Ready { base: string; jobId: string; historyJobId: string; databaseUrl: string; queuePrefix: string; redisUrl: string }

/** The server half: builds the app, seeds jobs and a long metric series, reports over IPC. */
async function serve(): Promise<void> {
  const { buildApp } = await import('../src/api/app.js');
  const { loadConfig } = await import('../src/config.js');
  const { silentLogger } = await import('../src/logger.js');
  const { createRedis } = await import('../src/queue/connection.js');
  const { createTrainQueue } = await import('../src/queue/train-queue.js');
  const { createTestDatabase } = await import('../tests/helpers/db.js');
  const { upsertMetricPoints } = await import('../src/db/repositories/training-records.js');

  const db = await createTestDatabase('bench-api');
  const config = { ...loadConfig({ ...process.env, LOG_LEVEL: 'silent' }), databaseUrl: db.url, queuePrefix: `trainyard-bench-${process.pid}` };
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1, connectionName: 'trainyard-bench' });
  const queue = createTrainQueue(redis, config.queuePrefix);
  const app = await buildApp({ config, prisma: db.prisma, queue, redis, logger: silentLogger() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

  const created = await app.inject({ method: 'POST', url: '/v1/jobs', payload: spec });
  const jobId = (created.json() as { id: string }).id;
  for (let i = 0; i < 200; i++) await app.inject({ method: 'POST', url: '/v1/jobs', payload: { ...spec, name: `seed-${i}` } });
  // a long run's history: 20,000 steps of train_loss, written as the worker writes them
  const history = await app.inject({ method: 'POST', url: '/v1/jobs', payload: { ...spec, name: 'history' } });
  const historyJobId = (history.json() as { id: string }).id;
  await queue.remove(historyJobId).catch(() => {});
  for (let from = 1; from <= 20_000; from += 5000) {
    const points = Array.from({ length: 5000 }, (_, i) => ({ name: 'train_loss', step: from + i, epoch: Math.ceil((from + i) / 100), value: 1 / Math.sqrt(from + i) }));
    await upsertMetricPoints(db.prisma, historyJobId, points, new Date());
  }
  // the next bench job waits for the worker, not for the 200 seeds
  await queue.obliterate({ force: true });

  process.send!({ base, jobId, historyJobId, databaseUrl: db.url, queuePrefix: config.queuePrefix, redisUrl: config.redisUrl } satisfies Ready);
  process.once('message', async () => {
    await app.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    redis.disconnect();
    await db.drop();
    process.exit(0);
  });
}

interface Row { name: string; rps: number; p50: number; p99: number; errors: number; non2xx: number }

async function drive(): Promise<void> {
  const duration = Number(values.seconds), connections = Number(values.connections), streams = Number(values.streams);
  const server = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: 'inherit' });
  const ready = await new Promise<Ready>((resolve) => server.once('message', (m) => resolve(m as Ready)));
  const { base } = ready;

  async function run(name: string, path: string, opts: Partial<autocannon.Options> = {}): Promise<Row> {
    const r = await autocannon({ url: base + path, connections, duration, ...opts });
    return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
  }
  const invalid = { ...spec, model: { layers: [{ type: 'dense', units: 0, activation: 'relu' }, { type: 'dense', units: 7, activation: 'softmax' }] }, optimizer: { type: 'adam', learningrate: 1 } };
  let n = 0;
  const rows: Row[] = [];
  rows.push(await run('GET /health (baseline)', '/health'));
  rows.push(await run('GET /v1/jobs/:id (status)', `/v1/jobs/${ready.jobId}`));
  rows.push(await run('GET …/metrics maxPoints=1000 (20k)', `/v1/jobs/${ready.historyJobId}/metrics?name=train_loss&maxPoints=1000`));
  rows.push(await run('GET /v1/jobs?limit=20', '/v1/jobs?limit=20'));
  rows.push(await run('POST /v1/jobs invalid (400)', '/v1/jobs', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(invalid),
  }));
  rows.push(await run('POST /v1/jobs valid (201, queued)', '/v1/jobs', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    requests: [{
      setupRequest: (req: autocannon.Request) => ({ ...req, headers: { ...req.headers, 'idempotency-key': `bench-${process.pid}-${n++}` }, body: JSON.stringify(spec) }),
    }],
  }));
  const baseline = rows[0]!.rps;
  console.log(`\nAPI load: ${connections} connections, ${duration} s per scenario, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(['scenario'.padEnd(36), 'req/s'.padStart(9), 'vs /health'.padStart(11), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'errors'.padStart(7), 'non-2xx'.padStart(8)].join(' '));
  for (const r of rows) {
    console.log([r.name.padEnd(36), r.rps.toFixed(0).padStart(9), `${(r.rps / baseline).toFixed(2)}×`.padStart(11), String(r.p50).padStart(8), String(r.p99).padStart(8), String(r.errors).padStart(7), String(r.non2xx).padStart(8)].join(' '));
  }
  console.log('(the invalid POST is expected to answer 400: its non-2xx count is its request count; the valid POSTs queue jobs nobody trains)');
  const status = rows[1]!, historyRow = rows[2]!;
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log(`target status ≥ 0.4× /health and p99 < 25 ms: ${(status.rps / baseline).toFixed(2)}×, p99 ${status.p99} ms — ${verdict(status.rps >= 0.4 * baseline && status.p99 < 25)}`);
  console.log(`target metric history ≥ 0.25× /health: ${(historyRow.rps / baseline).toFixed(2)}× — ${verdict(historyRow.rps >= 0.25 * baseline)}`);

  console.log(`\nSSE: ${streams} streams on 2 jobs that a worker process trains`);
  console.log(await holdStreams(ready, streams));

  server.send('stop');
  await new Promise((resolve) => server.once('exit', resolve));
}

/** Opens `count` event streams over 2 training jobs and waits for each to see its job end. */
async function holdStreams(ready: Ready, count: number): Promise<string> {
  if (count === 0) return 'skipped (--streams 0)';
  const workerMain = fileURLToPath(new URL('../workers/main.js', import.meta.url));
  const worker = spawn(process.execPath, [workerMain], {
    env: {
      ...process.env, DATABASE_URL: ready.databaseUrl, REDIS_URL: ready.redisUrl, QUEUE_PREFIX: ready.queuePrefix,
      TRAINYARD_SKIP_MIGRATE: '1', WORKER_CONCURRENCY: '2', TRAINER_THREADS: '1', WORKER_METRICS_PORT: '0', LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const train = { ...spec, name: 'sse', training: { ...spec.training, epochs: 10 }, dataset: { ...spec.dataset, n: 2000 } };
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${ready.base}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...train, name: `sse-${i}` }) });
    ids.push(((await res.json()) as { id: string }).id);
  }
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: count }, (_, i) => stream(`${ready.base}/v1/jobs/${ids[i % 2]}/events`)));
  worker.kill('SIGTERM');
  await new Promise((resolve) => worker.once('exit', resolve));
  const held = results.filter((r) => r.status === 200 && r.terminal === 'succeeded').length;
  const epochs = results.map((r) => r.epochs);
  return `${held}/${count} streams held until their job succeeded (${((Date.now() - started) / 1000).toFixed(1)} s); epoch events per stream min ${Math.min(...epochs)} max ${Math.max(...epochs)} (10 epochs per job); ` +
    `failed streams: ${results.filter((r) => r.status !== 200 || r.terminal !== 'succeeded').length} — ${held === count ? 'met' : 'NOT met'}`;
}

function stream(url: string): Promise<{ status: number; epochs: number; terminal: string | null }> {
  return new Promise((resolve) => {
    let epochs = 0, terminal: string | null = null, buffered = '';
    const req = request(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const event = /^event: (.*)$/m.exec(buffered.slice(0, end))?.[1];
          buffered = buffered.slice(end + 2);
          if (event === 'epoch') epochs++;
          if (event === 'succeeded' || event === 'failed' || event === 'cancelled') terminal = event;
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, epochs, terminal }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, epochs, terminal }));
    });
    req.on('error', () => resolve({ status: 0, epochs, terminal }));
    req.end();
  });
}

if (values.serve) await serve();
else await drive();
