// The job shape a typed client relies on, checked on jobs a real worker finished:
// the answer carries every field the worker stored (response serialization strips
// fields a schema does not name), list items are summaries without the spec, and
// the OpenAPI document describes both.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, fetchJob, startTestWorker, submitJob, tinySpec, waitFor, type TestApp } from '../helpers/app.js';
import type { TrainingWorker } from '../../workers/training-worker.js';

let h: TestApp;
let worker: TrainingWorker;
before(async () => {
  h = await createTestApp('api-job-shapes');
  worker = await startTestWorker(h);
});
after(async () => {
  await worker?.close();
  await h?.close();
});

/** The row's JSON as Postgres holds it, read around the API (not through its serializer). */
async function storedJson(id: string) {
  const row = await h.prisma.job.findUniqueOrThrow({ where: { id }, select: { progress: true, result: true, error: true, diagnosis: true } });
  return JSON.parse(JSON.stringify(row));
}

/** The job's item in GET /v1/jobs (filtered by its status, so the page holds it). */
async function listItem(id: string) {
  const { status } = await h.prisma.job.findUniqueOrThrow({ where: { id }, select: { status: true } });
  const res = await h.app.inject({ method: 'GET', url: `/v1/jobs?status=${status}&limit=100` });
  assert.equal(res.statusCode, 200, res.body);
  const item = res.json().items.find((j: { id: string }) => j.id === id);
  assert.ok(item, `job ${id} is listed`);
  return item;
}

async function finished(id: string) {
  return waitFor(() => fetchJob(h, id), (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status), { timeoutMs: 120_000, what: `job ${id} to finish` });
}

describe('a finished job answers everything the worker stored', () => {
  test('succeeded: progress, result and diagnosis arrive field for field', async () => {
    const id = await submitJob(h, tinySpec({ name: 'shape-ok', earlyStopping: { monitor: 'val_loss', patience: 5 } }));
    const job = await finished(id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    const stored = await storedJson(id);
    assert.ok(stored.result && stored.diagnosis && stored.progress);
    assert.deepEqual(job.result, stored.result);
    assert.deepEqual(job.progress, stored.progress);
    assert.deepEqual(job.diagnosis, stored.diagnosis);
    assert.equal(job.error, null);
    // what a client reads, independent of the stored copy: the spec asked for 2 epochs
    assert.equal(job.result.epochs, 2);
    assert.equal(typeof job.result.finalMetrics.train_loss, 'number');
    assert.ok(job.diagnosis.verdict.length > 0);

    // its list item repeats result.best and diagnosis.verdict, and summarises the spec submitted
    const item = await listItem(id);
    assert.deepEqual(item.best, stored.result.best);
    assert.equal(item.verdict, stored.diagnosis.verdict);
    assert.equal(item.error, null);
    assert.deepEqual(item.specSummary, { dataset: 'synthetic/xor', layers: 2, epochs: 2, optimizer: 'adam', loss: 'cross-entropy' });
  });

  test('failed (diverged): error and diagnosis arrive field for field', async () => {
    // linear regression with a step size far beyond 2/λmax: the loss overflows within an epoch
    const id = await submitJob(h, {
      name: 'shape-diverged',
      dataset: { name: 'synthetic/regression', n: 64, seed: 1 },
      model: { layers: [{ type: 'dense', units: 8, activation: 'linear' }, { type: 'dense', units: 1, activation: 'linear' }] },
      loss: 'mse',
      optimizer: { type: 'sgd', learningRate: 1e6 },
      training: { epochs: 3, batchSize: 16, seed: 7 },
    });
    const job = await finished(id);
    assert.equal(job.status, 'failed');
    const stored = await storedJson(id);
    assert.ok(stored.error);
    assert.deepEqual(job.error, stored.error);
    assert.deepEqual(job.diagnosis, stored.diagnosis);
    assert.deepEqual(job.progress, stored.progress);
    assert.equal(job.result, null);
    assert.equal(job.error.code, 'DIVERGED');

    const item = await listItem(id);
    assert.deepEqual(item.error, { code: stored.error.code, message: stored.error.message });
    assert.equal(item.best, null);
  });
});

describe('GET /v1/jobs lists summaries', () => {
  test('items carry the spec summary, best and verdict, never the spec with its inline data', async () => {
    const features = Array.from({ length: 40_000 }, (_, i) => [Math.sin(i) * 3.25, Math.cos(i) * 7.5, i / 20_000]);
    const labels = features.map((_, i) => i % 3);
    const inline = {
      name: 'shape-inline',
      dataset: { name: 'inline', features, labels, validationSplit: 0.2 },
      model: { layers: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'dropout', rate: 0.1 }, { type: 'dense', units: 3, activation: 'softmax' }] },
      loss: 'cross-entropy',
      optimizer: { type: 'rmsprop', learningRate: 0.01 },
      training: { epochs: 1, batchSize: 500 },
    };
    assert.ok(JSON.stringify(inline).length > 1_000_000);
    const id = await submitJob(h, inline);
    const res = await h.app.inject({ method: 'GET', url: '/v1/jobs?limit=100' });
    assert.equal(res.statusCode, 200);
    assert.ok(res.body.length < 100_000, `the page is ${res.body.length} bytes`);
    const item = res.json().items.find((j: { id: string }) => j.id === id);
    assert.ok(item, 'the inline job is listed');
    assert.equal('spec' in item, false);
    assert.deepEqual(item.specSummary, { dataset: 'inline', layers: 3, epochs: 1, optimizer: 'rmsprop', loss: 'cross-entropy' });
    for (const key of ['id', 'name', 'status', 'attempt', 'cancelRequested', 'createdAt', 'startedAt', 'finishedAt', 'progress', 'best', 'error', 'verdict']) {
      assert.ok(key in item, `item has ${key}`);
    }

    // GET /v1/jobs/:id keeps the whole spec
    const full = await fetchJob(h, id);
    assert.equal(full.spec.dataset.features.length, 40_000);
    assert.deepEqual(full.spec.dataset.features[123], features[123]);
  });

  test('/docs/json builds and describes the typed job and the list summary', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    const job = doc.paths['/v1/jobs/{id}'].get.responses['200'].content['application/json'].schema;
    const text = JSON.stringify(job);
    for (const field of ['finalMetrics', 'stopDecision', 'etaSeconds', 'verdict', 'findings', 'suggestions']) {
      assert.ok(text.includes(field), `the Job schema documents ${field}`);
    }
    const list = JSON.stringify(doc.paths['/v1/jobs'].get.responses['200'].content['application/json'].schema);
    assert.ok(list.includes('specSummary'));
  });
});
