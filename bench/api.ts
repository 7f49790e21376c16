// API load benchmark: `npm run bench:api`. Starts the real app (fresh database, real
// Redis, no worker) on a loopback port and drives it with autocannon; GET /health in
// the same run is the baseline (Fastify's floor on this machine), so each route's cost
// reads as a ratio. Bounded: each scenario runs a fixed number of seconds.
//   node dist/bench/api.js [--seconds 5] [--connections 10]
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { buildApp } from '../src/api/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { createRedis } from '../src/queue/connection.js';
import { createTrainQueue } from '../src/queue/train-queue.js';
import { createTestDatabase } from '../tests/helpers/db.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '10' } } });
const duration = Number(values.seconds), connections = Number(values.connections);

const spec = {
  name: 'bench-spirals',
  dataset: { name: 'synthetic/spirals', n: 600, validationSplit: 0.2 },
  model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
  loss: 'cross-entropy',
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: 5, batchSize: 32, seed: 1 },
};
const invalid = { ...spec, model: { layers: [{ type: 'dense', units: 0, activation: 'relu' }, { type: 'dense', units: 7, activation: 'softmax' }] }, optimizer: { type: 'adam', learningrate: 1 } };

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

interface Row { name: string; rps: number; p50: number; p99: number; errors: number; non2xx: number }
async function run(name: string, path: string, opts: Partial<autocannon.Options> = {}): Promise<Row> {
  const r = await autocannon({ url: base + path, connections, duration, ...opts });
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

let n = 0;
const rows: Row[] = [];
rows.push(await run('GET /health (baseline)', '/health'));
rows.push(await run('GET /v1/jobs/:id', `/v1/jobs/${jobId}`));
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

const baseline = rows[0].rps;
console.log(`\nAPI load: ${connections} connections, ${duration} s per scenario, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(['scenario'.padEnd(34), 'req/s'.padStart(9), 'vs /health'.padStart(11), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'errors'.padStart(7), 'non-2xx'.padStart(8)].join(' '));
for (const r of rows) {
  console.log([r.name.padEnd(34), r.rps.toFixed(0).padStart(9), `${(r.rps / baseline).toFixed(2)}×`.padStart(11), String(r.p50).padStart(8), String(r.p99).padStart(8), String(r.errors).padStart(7), String(r.non2xx).padStart(8)].join(' '));
}
console.log('(the invalid POST is expected to answer 400: its non-2xx count is its request count)');

await app.close();
await queue.obliterate({ force: true }).catch(() => {});
await queue.close();
redis.disconnect();
await db.drop();
