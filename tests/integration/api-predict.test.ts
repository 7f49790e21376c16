import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Predictor } from '../../src/core/predict.js';
import { describeDataset } from '../../src/data/catalog.js';
import type { NormalizedJobSpec } from '../../src/spec/index.js';
import type { TrainingWorker } from '../../workers/training-worker.js';
import { startTestWorker, createTestApp, tinySpec, waitFor, type TestApp, submitJob, fetchJob } from '../helpers/app.js';

let h: TestApp;
let worker: TrainingWorker | undefined;

before(async () => {
  h = await createTestApp('api-predict');
});
after(async () => {
  await worker?.close();
  await h?.close();
});

const MISSING = '00000000-0000-4000-8000-000000000000';



async function succeeded(id: string) {
  const job = await waitFor(() => fetchJob(h, id), (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status), {
    timeoutMs: 30_000, what: `job ${id} finished`,
  });
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  return job;
}

function predict(id: string, payload: unknown) {
  return h.app.inject({ method: 'POST', url: `/v1/jobs/${id}/predict`, payload: payload as object });
}

/** The core's own forward pass on a downloaded checkpoint. */
async function reference(job: { spec: NormalizedJobSpec }, checkpointId: string, inputs: number[][]) {
  const bytes = (await h.app.inject({ method: 'GET', url: `/v1/checkpoints/${checkpointId}` })).rawPayload;
  const d = describeDataset(job.spec.dataset);
  assert.ok(!('error' in d));
  return new Predictor(job.spec, d.inputSize, d.task, new Uint8Array(bytes)).predict(inputs);
}

const XOR_INPUTS = [[0, 0], [0, 1], [1, 0], [1, 1], [0.3, -0.7]];

describe('POST /v1/jobs/:id/predict without weights', () => {
  test('a job that has not trained yet, or was cancelled before training, is a 409', async () => {
    // no worker runs yet: the job stays queued
    const queued = await submitJob(h, tinySpec({ name: 'still-queued' }));
    const res = await predict(queued, { inputs: XOR_INPUTS });
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(res.json().error.code, 'NO_WEIGHTS');
    assert.match(res.json().error.message, /is queued and has no weights yet/);
    assert.equal((await predict(queued, { inputs: XOR_INPUTS, weights: 'best' })).statusCode, 409);

    assert.equal((await h.app.inject({ method: 'POST', url: `/v1/jobs/${queued}/cancel` })).statusCode, 200);
    const cancelled = await predict(queued, { inputs: XOR_INPUTS });
    assert.equal(cancelled.statusCode, 409, cancelled.body);
    assert.match(cancelled.json().error.message, /is cancelled and has no weights/);
  });

  test('an unknown job is a 404', async () => {
    for (const id of [MISSING, 'not-a-uuid']) {
      const res = await predict(id, { inputs: XOR_INPUTS });
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().error.code, 'NOT_FOUND');
    }
  });
});

describe('POST /v1/jobs/:id/predict', () => {
  let job: { id: string; spec: NormalizedJobSpec };
  before(async () => {
    worker = await startTestWorker(h);
    const id = await submitJob(h, tinySpec({
      name: 'predict-xor',
      training: { epochs: 6, batchSize: 16, seed: 5 },
      earlyStopping: { monitor: 'val_loss', patience: 10, restoreBest: false },
      checkpoints: { everyEpochs: 1, keepLast: 10, keepBest: true },
    }));
    job = await succeeded(id);
  });

  test('outputs equal the core forward pass on the final weights, predictions are their arg-max', async () => {
    const res = await predict(job.id, { inputs: XOR_INPUTS });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    const checkpoints = (await h.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/checkpoints` })).json().items;
    const final = checkpoints.find((c: { kind: string }) => c.kind === 'final');
    assert.equal(body.checkpointId, final.id);
    assert.equal(body.epoch, 6);

    const ref = await reference(job, final.id, XOR_INPUTS);
    assert.deepEqual(body.outputs, ref.outputs);
    assert.equal(body.outputs.length, XOR_INPUTS.length);
    for (const row of body.outputs) {
      assert.equal(row.length, 2);
      assert.ok(Math.abs(row[0] + row[1] - 1) < 1e-5, 'softmax rows sum to 1');
    }
    assert.deepEqual(body.predictions, body.outputs.map((o: number[]) => o.indexOf(Math.max(...o))));

    // a second call (cached Predictor) answers the same
    assert.deepEqual((await predict(job.id, { inputs: XOR_INPUTS, weights: 'final' })).json().outputs, body.outputs);
  });

  test('weights=best runs the checkpoint flagged best', async () => {
    const checkpoints = (await h.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/checkpoints` })).json().items;
    const best = checkpoints.find((c: { best: boolean }) => c.best);
    assert.ok(best, 'a best checkpoint');
    const res = await predict(job.id, { inputs: XOR_INPUTS, weights: 'best' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().checkpointId, best.id);
    assert.equal(res.json().epoch, best.epoch);
    assert.deepEqual(res.json().outputs, (await reference(job, best.id, XOR_INPUTS)).outputs);
  });

  test('rows of the wrong width are a 400 listing each with a JSON pointer', async () => {
    const res = await predict(job.id, { inputs: [[0, 1], [1, 2, 3, 4, 5], [0, 0], [7]] });
    assert.equal(res.statusCode, 400, res.body);
    const { error } = res.json();
    assert.equal(error.code, 'INVALID_INPUTS');
    assert.deepEqual(error.details, [
      { pointer: '/inputs/1', message: 'has 5 values; the model takes 2' },
      { pointer: '/inputs/3', message: 'has 1 value; the model takes 2' },
    ]);
  });

  test('empty inputs, too many rows, non-numbers and a bad weights choice are 400s', async () => {
    const empty = await predict(job.id, { inputs: [] });
    assert.equal(empty.statusCode, 400, empty.body);
    assert.equal(empty.json().error.details[0].pointer, '/inputs');

    const many = await predict(job.id, { inputs: Array.from({ length: 10_001 }, () => [0, 0]) });
    assert.equal(many.statusCode, 400, many.body);
    assert.equal(many.json().error.details[0].pointer, '/inputs');

    const text = await predict(job.id, { inputs: [[0, 'one']] });
    assert.equal(text.statusCode, 400, text.body);
    assert.ok(text.json().error.details.some((d: { pointer: string }) => d.pointer === '/inputs/0/1'));

    // JSON has no Infinity, but 1e999 parses to it
    const inf = await h.app.inject({
      method: 'POST', url: `/v1/jobs/${job.id}/predict`, headers: { 'content-type': 'application/json' },
      payload: '{"inputs":[[0,1],[1e999,0]]}',
    });
    assert.equal(inf.statusCode, 400, inf.body);
    assert.deepEqual(inf.json().error.details.map((d: { pointer: string }) => d.pointer), ['/inputs/1/0']);

    const weights = await predict(job.id, { inputs: XOR_INPUTS, weights: 'latest' });
    assert.equal(weights.statusCode, 400, weights.body);
    assert.equal(weights.json().error.details[0].pointer, '/weights');
  });

  test('a job cancelled mid-training predicts with the weights where it stopped', async () => {
    const id = await submitJob(h, tinySpec({
      name: 'predict-cancelled',
      dataset: { name: 'synthetic/xor', n: 1200, validationSplit: 0.2, seed: 3 },
      training: { epochs: 1000, batchSize: 4, seed: 1 },
    }));
    await waitFor(() => fetchJob(h, id), (j) => j.status === 'running' && j.progress?.epoch >= 1, { timeoutMs: 30_000, what: 'an epoch done' });
    assert.equal((await h.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` })).statusCode, 202);
    const cancelled = await waitFor(() => fetchJob(h, id), (j) => j.status === 'cancelled', { timeoutMs: 10_000, what: 'cancelled' });
    const newest = await h.prisma.checkpoint.findFirstOrThrow({
      where: { jobId: id, kind: { in: ['epoch', 'resume'] } }, orderBy: [{ step: 'desc' }, { createdAt: 'desc' }], select: { id: true },
    });
    const res = await predict(id, { inputs: XOR_INPUTS });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().checkpointId, newest.id);
    assert.deepEqual(res.json().outputs, (await reference(cancelled, newest.id, XOR_INPUTS)).outputs);
  });

  test('a regression job answers outputs without predictions', async () => {
    const id = await submitJob(h, tinySpec({
      name: 'predict-regression',
      dataset: { name: 'synthetic/regression', n: 64, seed: 1 },
      model: { layers: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dense', units: 1, activation: 'linear' }] },
      loss: 'mse',
    }));
    const reg = await succeeded(id);
    const inputs = [[-1], [0], [0.5]];
    const res = await predict(id, { inputs });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.ok(!('predictions' in body));
    assert.deepEqual(body.outputs, (await reference(reg, body.checkpointId, inputs)).outputs);
  });
});
