// A spec without training.threads trains on all of the worker's TRAINER_THREADS (2 here),
// one that names a count keeps it; progress.threads and result.threads say which ran,
// and the stored spec still names no count (its hash cannot depend on the worker).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainingWorker } from '../../workers/training-worker.js';
import { createTestApp, fetchJob, startTestWorker, submitJob, tinySpec, waitFor, type TestApp } from '../helpers/app.js';

let h: TestApp;
let worker: TrainingWorker | undefined;

before(async () => {
  h = await createTestApp('worker-threads-default', { trainerThreads: 2 });
});
after(async () => {
  await worker?.close();
  await h?.close();
});

describe('threads default', () => {
  test('no training.threads → TRAINER_THREADS (2); training.threads 1 → 1; the job says which', async () => {
    const open = await submitJob(h, tinySpec({ name: 'threads-open', training: { epochs: 2, batchSize: 16, seed: 2 } }));
    const pinned = await submitJob(h, tinySpec({ name: 'threads-pinned', training: { epochs: 2, batchSize: 16, seed: 2, threads: 1 } }));
    worker = await startTestWorker(h);
    for (const id of [open, pinned]) {
      await waitFor(() => fetchJob(h, id), (j) => ['succeeded', 'failed'].includes(j.status), { timeoutMs: 60_000, what: `job ${id} finished` });
    }
    const a = await fetchJob(h, open), b = await fetchJob(h, pinned);
    assert.equal(a.status, 'succeeded', JSON.stringify(a.error));
    assert.equal(a.progress.threads, 2);
    assert.equal(a.result.threads, 2);
    assert.equal('threads' in a.spec.training, false, 'the stored spec names no count');
    assert.equal(b.result.threads, 1);
    assert.equal(b.progress.threads, 1);
    // same data, seed and model: the two counts agree to DESIGN.md's 1e-5
    const la = a.result.finalMetrics.train_loss, lb = b.result.finalMetrics.train_loss;
    assert.ok(Math.abs(la - lb) <= 1e-5 * Math.max(1, Math.abs(la)), `${la} vs ${lb}`);
  });
});
