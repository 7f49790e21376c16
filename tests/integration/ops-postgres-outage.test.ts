// Postgres goes away in the middle of a job: the worker keeps training, holds the
// epochs' writes and writes each exactly once when Postgres is back; the API answers
// 503 DATABASE_UNAVAILABLE (and /ready says so) meanwhile, and both recover without
// a restart. The Postgres here is the test's own server (initdb into a temp dir, its
// own port), stopped and started with pg_ctl.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, fetchJob, submitJob, waitFor, type TestApp } from '../helpers/app.js';
import { startOwnPostgres, type OwnPostgres } from '../helpers/own-services.js';
import { TrainingWorker } from '../../workers/training-worker.js';

// enough epochs that training is still under way once the stop has taken effect, even on a loaded machine
const EPOCHS = 24;
const N = 1600;
const VALIDATION = 0.25;
const BATCH = 16;
const BATCHES = Math.ceil((N * (1 - VALIDATION)) / BATCH);

let pg: OwnPostgres;
let h: TestApp;
let worker: TrainingWorker;

before(async () => {
  pg = await startOwnPostgres();
  // tests/helpers/db.ts creates the test database on TEST_DATABASE_URL's server
  process.env.TEST_DATABASE_URL = pg.url('postgres');
  h = await createTestApp('ops-pg-outage');
  worker = await TrainingWorker.start({ config: h.config, prisma: h.prisma, logger: h.logger, requeueDelayMs: 100, writeRetryMs: 100, maxHeldEpochs: 6 });
});

after(async () => {
  await worker?.close();
  await h?.close();
  pg?.destroy();
});

test('Postgres stopped and started during a running job: training goes on, no point lost or doubled; the API answers 503 meanwhile and recovers', async () => {
  const id = await submitJob(h, {
    name: 'outage',
    dataset: { name: 'synthetic/spirals', n: N, validationSplit: VALIDATION, seed: 3 },
    model: { layers: [{ type: 'dense', units: 128, activation: 'tanh' }, { type: 'dense', units: 128, activation: 'tanh' }, { type: 'dense', units: 3, activation: 'softmax' }] },
    loss: 'cross-entropy',
    optimizer: { type: 'adam', learningRate: 0.01 },
    training: { epochs: EPOCHS, batchSize: BATCH, seed: 5 },
    // never stops early, so every epoch has a decision
    earlyStopping: { monitor: 'val_loss', patience: 1000 },
    checkpoints: { everyEpochs: 1, keepLast: 2 },
  });
  await waitFor(() => h.prisma.jobEvent.count({ where: { jobId: id, type: 'epoch' } }), (n) => n >= 1, { timeoutMs: 60_000, what: 'the first epoch' });

  pg.stop();
  // the worker trains on while nothing can be written
  await waitFor(async () => worker.heldWrites, (n) => n >= 2, { timeoutMs: 60_000, what: 'held epoch writes' });

  const status = await h.app.inject({ method: 'GET', url: `/v1/jobs/${id}` });
  assert.equal(status.statusCode, 503);
  assert.equal(status.json().error.code, 'DATABASE_UNAVAILABLE');
  const ready = await h.app.inject({ method: 'GET', url: '/ready' });
  assert.equal(ready.statusCode, 503);
  assert.equal(ready.json().checks.postgres.ok, false);
  assert.equal(ready.json().checks.redis.ok, true);

  await pg.start();
  const done = await waitFor(() => fetchJob(h, id), (j) => j.status === 'succeeded' || j.status === 'failed', {
    timeoutMs: 120_000, intervalMs: 200, what: 'the job to finish',
  });
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  assert.equal(done.attempt, 1, 'the attempt that lived through the outage finished the job');
  assert.equal((await h.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);

  for (const name of ['train_loss', 'val_loss', 'train_accuracy']) {
    const points = await h.prisma.metricPoint.findMany({ where: { jobId: id, name }, orderBy: { step: 'asc' }, select: { step: true, epoch: true } });
    assert.deepEqual(points, Array.from({ length: EPOCHS }, (_, i) => ({ step: (i + 1) * BATCHES, epoch: i + 1 })), name);
  }
  const decisions = await h.prisma.earlyStoppingDecision.findMany({ where: { jobId: id }, orderBy: { epoch: 'asc' }, select: { epoch: true } });
  assert.deepEqual(decisions.map((d) => d.epoch), Array.from({ length: EPOCHS }, (_, i) => i + 1));
  const events = await h.prisma.jobEvent.findMany({ where: { jobId: id, type: 'epoch' }, orderBy: { id: 'asc' }, select: { data: true } });
  assert.deepEqual(events.map((e) => (e.data as { epoch: number }).epoch), Array.from({ length: EPOCHS }, (_, i) => i + 1));
  // retention held through the outage: the last two epochs (keepLast 2), the best one by the
  // stored val_loss history (keepBest, first minimum), and the final weights
  const valLoss = await h.prisma.metricPoint.findMany({ where: { jobId: id, name: 'val_loss' }, orderBy: { step: 'asc' }, select: { epoch: true, value: true } });
  const best = valLoss.reduce((a, b) => (b.value < a.value ? b : a)).epoch;
  const kept = [...new Set([best, EPOCHS - 1, EPOCHS])].sort((a, b) => a - b);
  const checkpoints = await h.prisma.checkpoint.findMany({ where: { jobId: id }, orderBy: [{ kind: 'asc' }, { epoch: 'asc' }], select: { kind: true, epoch: true } });
  assert.deepEqual(checkpoints, [...kept.map((epoch) => ({ kind: 'epoch', epoch })), { kind: 'final', epoch: EPOCHS }]);
});
