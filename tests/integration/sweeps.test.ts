// Sweeps through the API and a real in-process worker (DESIGN.md "Sweeps"): a random
// sweep with ASHA ends with every trial terminal and at least one pruned; a grid makes
// exactly the cartesian product; cancel ends every trial; validation refuses before
// anything is created.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, fetchJob, startTestWorker, tinySpec, waitFor, type TestApp } from '../helpers/app.js';
import type { TrainingWorker } from '../../workers/training-worker.js';

let h: TestApp;
let worker: TrainingWorker;

before(async () => {
  h = await createTestApp('sweeps', { workerConcurrency: 2 });
  worker = await startTestWorker(h);
});
after(async () => {
  await worker?.close();
  await h?.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const get = async (url: string): Promise<Json> => (await h.app.inject({ method: 'GET', url })).json();

async function submit(body: Record<string, unknown>): Promise<Json> {
  const res = await h.app.inject({ method: 'POST', url: '/v1/sweeps', payload: body });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

const ended = (id: string) => waitFor(() => get(`/v1/sweeps/${id}`), (s) => s.status !== 'running', { timeoutMs: 90_000, intervalMs: 200, what: `sweep ${id} to end` });

/** Each trial's val_loss per epoch, from the stored metric rows (not the sweep code). */
async function storedValLoss(jobIds: string[]): Promise<Map<string, Map<number, number>>> {
  const rows = await h.prisma.metricPoint.findMany({ where: { jobId: { in: jobIds }, name: 'val_loss' } });
  const out = new Map<string, Map<number, number>>();
  for (const r of rows) {
    if (!out.has(r.jobId)) out.set(r.jobId, new Map());
    out.get(r.jobId)!.set(r.epoch, r.value);
  }
  return out;
}

test('a random sweep with ASHA: every trial ends, some are pruned after fewer epochs, best is the best stored val_loss', async () => {
  const epochs = 4;
  const sweep = await submit({
    name: 'asha-lr',
    spec: tinySpec({ training: { epochs, batchSize: 16, seed: 7 } }),
    parameters: { '/optimizer/learningRate': { distribution: 'log-uniform', min: 0.0001, max: 0.3 } },
    method: 'random', maxTrials: 8, parallelism: 2, seed: 3,
    objective: { metric: 'val_loss', mode: 'min' },
    pruner: { type: 'asha', minEpochs: 1, reductionFactor: 2 },
  });
  assert.equal(sweep.status, 'running');
  const done = await ended(sweep.id);
  assert.equal(done.status, 'succeeded');
  const trials: Json[] = (await get(`/v1/sweeps/${sweep.id}/trials?limit=100`)).items;
  assert.equal(trials.length, 8);
  assert.deepEqual(trials.map((t) => t.index), [0, 1, 2, 3, 4, 5, 6, 7]);
  for (const t of trials) assert.ok(['succeeded', 'pruned'].includes(t.status), `trial ${t.index} is ${t.status}`);
  const pruned = trials.filter((t) => t.status === 'pruned');
  assert.ok(pruned.length >= 1, 'at least one trial was pruned');
  assert.equal(done.counts.pruned, pruned.length);
  assert.equal(done.counts.succeeded, 8 - pruned.length);

  const stored = await storedValLoss(trials.map((t) => t.jobId));
  for (const t of pruned) {
    const trained = stored.get(t.jobId)!.size;
    assert.ok(trained < epochs, `pruned trial ${t.index} trained ${trained} epochs`);
    assert.equal(t.epochsTrained, trained);
    const job = await fetchJob(h, t.jobId);
    assert.equal(job.sweepId, sweep.id);
    assert.equal(job.status, 'pruned');
    // it keeps its checkpoints
    const cps = (await get(`/v1/jobs/${t.jobId}/checkpoints`)).items;
    assert.ok(cps.length >= 1, `pruned trial ${t.index} kept its checkpoints`);
  }
  for (const t of trials.filter((x) => x.status === 'succeeded')) assert.equal(stored.get(t.jobId)!.size, epochs);

  // best = the minimum over every stored val_loss row of every trial, pruned ones included
  let best = { jobId: '', value: Infinity, epoch: 0 };
  for (const [jobId, values] of stored) for (const [epoch, value] of values) if (value < best.value) best = { jobId, value, epoch };
  assert.equal(done.best.jobId, best.jobId);
  assert.equal(done.best.value, best.value);
  assert.equal(done.best.epoch, best.epoch);
  const bestTrial = trials.find((t) => t.jobId === best.jobId)!;
  assert.deepEqual(done.best.params, bestTrial.params);

  // sorted by objective: ascending val_loss, the best first
  const byObjective: Json[] = (await get(`/v1/sweeps/${sweep.id}/trials?sort=objective`)).items;
  assert.equal(byObjective[0].jobId, best.jobId);
  for (let i = 1; i < byObjective.length; i++) assert.ok(byObjective[i - 1].value <= byObjective[i].value);

  // every prune has a stored decision with its numbers and a sentence
  const decisions: Json[] = (await get(`/v1/sweeps/${sweep.id}/decisions`)).items;
  for (const t of pruned) {
    const d = decisions.find((x) => x.jobId === t.jobId && x.decision === 'prune');
    assert.ok(d, `a prune decision for trial ${t.index}`);
    assert.equal(d.value, stored.get(t.jobId)!.get(d.epoch), 'the value compared is the stored val_loss at the rung');
    assert.ok(d.value > d.threshold, 'a pruned loss is above the threshold');
    assert.match(d.reason, /^val_loss [0-9.e-]+ at rung \d \(epoch \d\) is above/);
    assert.equal(t.epochsTrained, d.epoch, 'a pruned trial stopped in the epoch after its decision');
  }
  for (const d of decisions) assert.ok([1, 2].includes(d.epoch), `decisions only at rungs 1 and 2 (epoch 4 is the last): ${d.epoch}`);
});

test('a grid sweep makes exactly the cartesian product, in order', async () => {
  const sweep = await submit({
    name: 'grid',
    spec: tinySpec({ training: { epochs: 1, batchSize: 16, seed: 7 } }),
    parameters: {
      '/model/layers/0/activation': { values: ['relu', 'tanh'] },
      '/optimizer/learningRate': { values: [0.1, 0.01, 0.001] },
    },
    method: 'grid', parallelism: 3,
    objective: { metric: 'val_accuracy' },
  });
  assert.equal(sweep.maxTrials, 6);
  const done = await ended(sweep.id);
  assert.equal(done.status, 'succeeded');
  assert.equal(done.counts.succeeded, 6);
  const trials: Json[] = (await get(`/v1/sweeps/${sweep.id}/trials`)).items;
  const expected = ['relu', 'tanh'].flatMap((a) => [0.1, 0.01, 0.001].map((lr) => ({ '/model/layers/0/activation': a, '/optimizer/learningRate': lr })));
  assert.deepEqual(trials.map((t) => t.params), expected);
  // each trial's job trains the spec its parameters say
  for (const t of trials) {
    const job = await fetchJob(h, t.jobId);
    assert.equal(job.spec.model.layers[0].activation, t.params['/model/layers/0/activation']);
    assert.equal(job.spec.optimizer.learningRate, t.params['/optimizer/learningRate']);
  }
  const jobs = await h.prisma.job.count({ where: { sweepId: sweep.id } });
  assert.equal(jobs, 6, 'no trial twice');
});

test('cancel ends the sweep and every trial; no new trial appears', async () => {
  const sweep = await submit({
    name: 'to-cancel',
    spec: tinySpec({ dataset: { name: 'synthetic/spirals', n: 3000, validationSplit: 0.2, seed: 1 }, training: { epochs: 200, batchSize: 8, seed: 7 },
      model: { layers: [{ type: 'dense', units: 32, activation: 'tanh' }, { type: 'dense', units: 3, activation: 'softmax' }] } }),
    parameters: { '/optimizer/learningRate': { values: [0.1, 0.01, 0.001, 0.0001] } },
    method: 'grid', parallelism: 3,
    objective: { metric: 'val_accuracy' },
  });
  // wait until a trial trains
  await waitFor(() => get(`/v1/sweeps/${sweep.id}`), (s) => s.counts.running >= 1, { timeoutMs: 30_000, what: 'a running trial' });
  const res = await h.app.inject({ method: 'POST', url: `/v1/sweeps/${sweep.id}/cancel` });
  assert.equal(res.statusCode, 202, res.body);
  assert.equal(res.json().status, 'cancelled');
  const final = await waitFor(() => get(`/v1/sweeps/${sweep.id}`), (s) => s.counts.queued + s.counts.running === 0, { timeoutMs: 60_000, what: 'every trial ended' });
  assert.equal(final.status, 'cancelled');
  assert.equal(final.counts.cancelled, 3);
  assert.equal(await h.prisma.job.count({ where: { sweepId: sweep.id } }), 3, 'the 4th trial was never created');
  const again = await h.app.inject({ method: 'POST', url: `/v1/sweeps/${sweep.id}/cancel` });
  assert.equal(again.statusCode, 409);
});

test('an invalid sweep is refused with every problem and creates nothing', async () => {
  const before = await h.prisma.sweep.count();
  const jobs = await h.prisma.job.count();
  const res = await h.app.inject({
    method: 'POST', url: '/v1/sweeps', payload: {
      name: 'bad', spec: tinySpec(), method: 'grid', maxTrials: 2, objective: { metric: 'val_accuracy' },
      parameters: {
        '/model/layers/0/units': { values: [4, 100000] },
        '/optimizer/learningRate': { values: [0.1, 0.01] },
      },
    },
  });
  assert.equal(res.statusCode, 400);
  const body = res.json();
  assert.equal(body.error.code, 'INVALID_SWEEP');
  assert.deepEqual(body.error.details.map((d: Json) => d.pointer), ['/maxTrials']);
  const res2 = await h.app.inject({
    method: 'POST', url: '/v1/sweeps', payload: {
      name: 'bad', spec: tinySpec(), method: 'grid', objective: { metric: 'val_accuracy' },
      parameters: { '/model/layers/0/units': { values: [4, 100000] }, '/model/nope': { values: [1] } },
    },
  });
  assert.equal(res2.statusCode, 400);
  assert.deepEqual(res2.json().error.details.map((d: Json) => d.pointer), ['/parameters/~1model~1nope']);
  const res3 = await h.app.inject({
    method: 'POST', url: '/v1/sweeps', payload: {
      name: 'bad', spec: tinySpec(), method: 'grid', objective: { metric: 'val_accuracy' },
      parameters: { '/model/layers/0/units': { values: [4, 100000] } },
    },
  });
  assert.deepEqual(res3.json().error.details.map((d: Json) => d.pointer), ['/parameters/~1model~1layers~10~1units/values/1']);
  const res4 = await h.app.inject({
    method: 'POST', url: '/v1/sweeps', payload: {
      name: 'bad', spec: tinySpec({ initialWeights: { checkpointId: '00000000-0000-4000-8000-000000000000' } }), method: 'grid',
      objective: { metric: 'val_accuracy' }, parameters: { '/optimizer/learningRate': { values: [0.1] } },
    },
  });
  assert.equal(res4.statusCode, 400);
  assert.deepEqual(res4.json().error.details.map((d: Json) => d.pointer), ['/spec/initialWeights/checkpointId']);
  assert.equal(await h.prisma.sweep.count(), before);
  assert.equal(await h.prisma.job.count(), jobs);
});

test('GET /v1/sweeps lists newest first with a cursor; an unknown sweep is 404', async () => {
  const first = (await get('/v1/sweeps?limit=1'));
  assert.equal(first.items.length, 1);
  assert.ok(first.nextCursor);
  const second = await get(`/v1/sweeps?limit=1&cursor=${first.nextCursor}`);
  assert.notEqual(second.items[0].id, first.items[0].id);
  assert.ok(second.items[0].createdAt <= first.items[0].createdAt);
  const bad = await h.app.inject({ method: 'GET', url: '/v1/sweeps?cursor=abc' });
  assert.equal(bad.statusCode, 400);
  const missing = await h.app.inject({ method: 'GET', url: '/v1/sweeps/00000000-0000-4000-8000-000000000000' });
  assert.equal(missing.statusCode, 404);
});
