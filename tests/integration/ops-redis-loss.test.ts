// Postgres is the truth, BullMQ only delivers: a Redis that loses its data (FLUSHALL,
// a restart without persistence), or an API that dies between its insert and its
// enqueue, must not strand a job. The reconciler re-queues what Postgres holds as
// queued or running; a job that was running resumes from its checkpoint.
// The Redis here is the test's own server (its own port), flushed and restarted for real.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../src/api/app.js';
import { Reconciler } from '../../src/queue/reconciler.js';
import { authorize, createTestApp, fetchJob, startTestWorker, submitJob, waitFor, type TestApp } from '../helpers/app.js';
import { startOwnRedis, type OwnRedis } from '../helpers/own-services.js';
import type { TrainingWorker } from '../../workers/training-worker.js';

const EPOCHS = 8;
/** the job running at the FLUSHALL trains long enough for its worker to notice the lost lock */
const LONG_EPOCHS = 60;
const N = 1600;
const VALIDATION = 0.25;
const BATCH = 16;
/** optimizer steps per epoch: ceil(train samples / batch) */
const BATCHES = Math.ceil((N * (1 - VALIDATION)) / BATCH);

function spec(name: string, epochs = EPOCHS): Record<string, unknown> {
  return {
    name,
    dataset: { name: 'synthetic/spirals', n: N, validationSplit: VALIDATION, seed: 3 },
    model: { layers: [{ type: 'dense', units: 128, activation: 'tanh' }, { type: 'dense', units: 128, activation: 'tanh' }, { type: 'dense', units: 3, activation: 'softmax' }] },
    loss: 'cross-entropy',
    optimizer: { type: 'adam', learningRate: 0.01 },
    training: { epochs, batchSize: BATCH, seed: 5 },
    checkpoints: { everyEpochs: 1, keepLast: 2 },
  };
}

let redis: OwnRedis;
let h: TestApp;
let worker: TrainingWorker;
let reconciler: Reconciler;

before(async () => {
  redis = await startOwnRedis();
  // a short lock, so the worker notices within a second that Redis forgot its job
  h = await createTestApp('ops-redis-loss', { redisUrl: redis.url, workerLockMs: 1000, workerStalledIntervalMs: 1000 });
  worker = await startTestWorker(h);
  h.queue.on('error', () => {}); // Redis goes away on purpose here
  reconciler = new Reconciler({ prisma: h.prisma, databaseUrl: h.db.url, queue: h.queue, logger: h.logger, intervalMs: 300 }).start();
});

after(async () => {
  await reconciler?.stop();
  await worker?.close();
  await h?.close();
  await redis?.destroy();
});

const succeeded = (ids: string[]) =>
  waitFor(
    () => h.prisma.job.findMany({ where: { id: { in: ids } }, select: { id: true, status: true, error: true } }),
    (rows) => rows.length === ids.length && rows.every((r) => r.status === 'succeeded' || r.status === 'failed'),
    { timeoutMs: 120_000, intervalMs: 200, what: 'every job to finish' },
  );

/** Every per-epoch metric once per epoch at step epoch × batches, every epoch event once. */
async function assertEachPointOnce(jobId: string, epochs = EPOCHS): Promise<void> {
  for (const name of ['train_loss', 'val_loss', 'learning_rate']) {
    const points = await h.prisma.metricPoint.findMany({ where: { jobId, name }, orderBy: { step: 'asc' }, select: { step: true, epoch: true } });
    assert.deepEqual(points, Array.from({ length: epochs }, (_, i) => ({ step: (i + 1) * BATCHES, epoch: i + 1 })), `${name} of ${jobId}`);
  }
  const epochEvents = await h.prisma.jobEvent.findMany({ where: { jobId, type: 'epoch' }, select: { data: true }, orderBy: { id: 'asc' } });
  assert.deepEqual(epochEvents.map((e) => (e.data as { epoch: number }).epoch), Array.from({ length: epochs }, (_, i) => i + 1));
}

test('after FLUSHALL with jobs queued and one running, every job succeeds, the running one resumed from its checkpoint, each point once', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push(await submitJob(h, spec(`flush-${i}`, i === 0 ? LONG_EPOCHS : EPOCHS)));
  // the first job is running and has committed an epoch checkpoint; the others wait in the queue
  await waitFor(() => h.prisma.checkpoint.count({ where: { jobId: ids[0], kind: 'epoch' } }), (n) => n >= 1, { timeoutMs: 60_000, what: 'a checkpoint of the first job' });
  assert.equal((await fetchJob(h, ids[0]!)).status, 'running');
  assert.equal((await fetchJob(h, ids[3]!)).status, 'queued');

  await redis.flushAll();

  const rows = await succeeded(ids);
  for (const r of rows) assert.equal(r.status, 'succeeded', `${r.id}: ${JSON.stringify(r.error)}`);
  for (const [i, id] of ids.entries()) await assertEachPointOnce(id, i === 0 ? LONG_EPOCHS : EPOCHS);
  const resumed = await h.prisma.jobEvent.findMany({ where: { jobId: ids[0], type: 'resumed' } });
  assert.equal(resumed.length, 1, 'the running job resumed once, from its checkpoint');
  assert.match(resumed[0]!.message, /^resumed from epoch [1-9]/);
});

test('Redis down: submits answer 503 with nothing written, Postgres reads work; after a restart without data every job succeeds', async () => {
  const before = [await submitJob(h, spec('restart-0')), await submitJob(h, spec('restart-1'))];
  await redis.stop();

  const jobsBefore = await h.prisma.job.count();
  const refused = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: spec('while-down') });
  assert.equal(refused.statusCode, 503);
  assert.equal(refused.json().error.code, 'QUEUE_UNAVAILABLE');
  assert.equal(await h.prisma.job.count(), jobsBefore, 'no half-written job');
  assert.equal((await h.app.inject({ method: 'GET', url: `/v1/jobs/${before[1]}` })).statusCode, 200);
  assert.equal((await h.app.inject({ method: 'GET', url: '/v1/jobs?limit=5' })).statusCode, 200);

  await redis.start(); // empty: what a restart without persistence does
  const afterRestart = await waitFor(
    () => h.app.inject({ method: 'POST', url: '/v1/jobs', payload: spec('after-restart') }),
    (res) => res.statusCode === 201,
    { timeoutMs: 30_000, intervalMs: 250, what: 'the API to queue again' },
  );
  const ids = [...before, afterRestart.json().id as string];
  const rows = await succeeded(ids);
  for (const r of rows) assert.equal(r.status, 'succeeded', `${r.id}: ${JSON.stringify(r.error)}`);
  for (const id of ids) await assertEachPointOnce(id);
});

test('an API that dies between the insert and the enqueue leaves a queued row; the reconciler queues it and it trains', async () => {
  // rounds on demand from here on, so the stranded row can be seen before it is healed
  await reconciler.stop();
  const crashing = authorize(await buildApp({
    config: h.config, prisma: h.prisma, queue: h.queue, redis: h.redis, logger: h.logger,
    hooks: { afterJobInsert: async () => { throw new Error('the process died here'); } },
  }), h.adminKey);
  try {
    const res = await crashing.inject({ method: 'POST', url: '/v1/jobs', payload: spec('gap') });
    assert.equal(res.statusCode, 500);
  } finally {
    await crashing.close();
  }
  const row = await h.prisma.job.findFirstOrThrow({ where: { name: 'gap' } });
  assert.equal(row.status, 'queued');
  assert.equal(await h.queue.getJob(row.id), undefined, 'the queue never heard of it');
  const report = await reconciler.reconcile();
  assert.deepEqual(report, { ran: true, enqueued: [row.id], replaced: [] });
  const [done] = await succeeded([row.id]);
  assert.equal(done!.status, 'succeeded');
  await assertEachPointOnce(row.id);
});
