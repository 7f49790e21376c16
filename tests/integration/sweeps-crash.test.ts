// A sweep survives its processes dying (DESIGN.md "Sweeps": the sweep's state lives in
// Postgres): real worker processes are SIGKILLed mid-epoch and right after a trial's
// terminal write, and the sweep still ends with every trial of its plan trained
// exactly once; a sweep whose API died before creating any trial is started by a
// worker's reconcile.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { killAll, spawnWorker, type WorkerProcess } from '../helpers/worker-process.js';
import { createSweep } from '../../src/db/repositories/sweeps.js';
import { DEFAULT_TENANT_ID } from '../../src/db/repositories/tenants.js';
import { validateSweep } from '../../src/sweeps/index.js';

let h: TestApp;
const workers: WorkerProcess[] = [];

before(async () => {
  h = await createTestApp('sweeps-crash');
});
after(async () => {
  await killAll(workers);
  await h?.close();
});

async function startWorker(): Promise<WorkerProcess> {
  const w = await spawnWorker({ databaseUrl: h.db.url, queuePrefix: h.config.queuePrefix, env: { LOG_LEVEL: 'debug', WORKER_CONCURRENCY: '2' } });
  workers.push(w);
  return w;
}

/** Some hundred ms per epoch: a kill lands inside an epoch. */
const spec = {
  name: 'crash-trial',
  dataset: { name: 'synthetic/spirals', n: 3000, validationSplit: 0.2, seed: 3 },
  model: { layers: [{ type: 'dense', units: 48, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
  loss: 'cross-entropy',
  optimizer: { type: 'adam', learningRate: 0.005 },
  training: { epochs: 3, batchSize: 8, seed: 1 },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const getSweep = async (id: string): Promise<any> => (await h.app.inject({ method: 'GET', url: `/v1/sweeps/${id}` })).json();

test('workers killed mid-epoch and after a terminal write: every trial of the plan is trained exactly once', async () => {
  const first = await startWorker();
  const res = await h.app.inject({
    method: 'POST', url: '/v1/sweeps', payload: {
      name: 'crash', spec, method: 'grid', parallelism: 2,
      parameters: { '/optimizer/learningRate': { values: [0.01, 0.005, 0.002, 0.001, 0.0005] } },
      objective: { metric: 'val_accuracy' },
    },
  });
  assert.equal(res.statusCode, 201, res.body);
  const sweepId = res.json().id as string;

  // mid-epoch: the worker logged that an epoch is under way
  await first.waitForLine((l) => l.msg === 'first batch of the epoch done', 30_000);
  first.kill('SIGKILL');
  await first.exited;

  // right after a trial's terminal write, before or during the sweep's advance
  const second = await startWorker();
  await second.waitForLine((l) => l.msg === 'succeeded', 90_000);
  second.kill('SIGKILL');
  await second.exited;

  const third = await startWorker();
  const done = await waitFor(() => getSweep(sweepId), (s) => s.status !== 'running', { timeoutMs: 120_000, intervalMs: 250, what: 'the sweep to end' });
  assert.equal(done.status, 'succeeded', third.tail());
  assert.equal(done.counts.succeeded, 5, JSON.stringify(done.counts));
  const jobs = await h.prisma.job.findMany({ where: { sweepId }, orderBy: { trialIndex: 'asc' } });
  assert.deepEqual(jobs.map((j) => j.trialIndex), [0, 1, 2, 3, 4], 'each trial exactly once');
  assert.deepEqual(jobs.map((j) => (j.spec as { optimizer: { learningRate: number } }).optimizer.learningRate), [0.01, 0.005, 0.002, 0.001, 0.0005]);
  assert.ok(jobs.some((j) => j.attempt > 1), 'a trial was taken over from a killed worker');
  // each trained to the end: 3 epochs of val_accuracy each
  for (const j of jobs) assert.equal(await h.prisma.metricPoint.count({ where: { jobId: j.id, name: 'val_accuracy' } }), 3);
});

test('a sweep stored without trials (its API died before creating them) is started by a worker\'s reconcile', async () => {
  const checked = validateSweep({
    name: 'orphan', spec: { ...spec, training: { epochs: 1, batchSize: 32, seed: 1 } }, method: 'grid', parallelism: 2,
    parameters: { '/optimizer/learningRate': { values: [0.01, 0.001] } }, objective: { metric: 'val_loss' },
  });
  assert.ok(checked.ok);
  const row = await createSweep(h.prisma, DEFAULT_TENANT_ID, checked.sweep);
  const done = await waitFor(() => getSweep(row.id), (s) => s.status !== 'running', { timeoutMs: 60_000, intervalMs: 250, what: 'the orphan sweep to end' });
  assert.equal(done.status, 'succeeded');
  assert.equal(done.counts.succeeded, 2);
});
