// The best checkpoint when checkpoints come only every few epochs: with keepBest the
// worker also stores the best epoch's checkpoint (even when everyEpochs skips it),
// retention keeps it, and it is the one marked best. "Best" is computed here from the
// stored val_loss history (lowest, first on ties, as Keras' ModelCheckpoint with
// save_best_only), not by the writer's code.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainingWorker } from '../../workers/training-worker.js';
import { createTestApp, fetchJob, startTestWorker, submitJob, tinySpec, waitFor, type TestApp } from '../helpers/app.js';

const EPOCHS = 10;
const EVERY = 3;

let h: TestApp;
let worker: TrainingWorker;

before(async () => {
  h = await createTestApp('worker-best-checkpoint');
  worker = await startTestWorker(h);
});
after(async () => {
  await worker?.close();
  await h?.close();
});

test('with everyEpochs 3 and keepLast 1 the best epoch keeps its checkpoint, marked best, next to the newest one', async () => {
  const id = await submitJob(h, tinySpec({
    name: 'best-between-checkpoints',
    dataset: { name: 'synthetic/spirals', n: 600, validationSplit: 0.3, seed: 5 },
    model: { layers: [{ type: 'dense', units: 24, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
    optimizer: { type: 'adam', learningRate: 0.08 },
    training: { epochs: EPOCHS, batchSize: 16, seed: 6 },
    checkpoints: { everyEpochs: EVERY, keepLast: 1, keepBest: true },
  }));
  const job = await waitFor(() => fetchJob(h, id), (j) => ['succeeded', 'failed'].includes(j.status), { timeoutMs: 60_000, what: 'finished' });
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));

  const valLoss = await h.prisma.metricPoint.findMany({ where: { jobId: id, name: 'val_loss' }, orderBy: { epoch: 'asc' } });
  assert.deepEqual(valLoss.map((p) => p.epoch), Array.from({ length: EPOCHS }, (_, i) => i + 1));
  let best = valLoss[0]!;
  for (const p of valLoss) if (p.value < best.value) best = p;
  // the case under test: the best epoch is one everyEpochs does not checkpoint
  assert.ok(best.epoch % EVERY !== 0 && best.epoch !== EPOCHS, `best epoch ${best.epoch} is a scheduled one; pick another seed`);

  const rows = await h.prisma.checkpoint.findMany({ where: { jobId: id, kind: 'epoch' }, orderBy: { epoch: 'asc' } });
  assert.deepEqual(rows.map((r) => [r.epoch, r.isBest]), [[best.epoch, true], [EPOCHS, false]], 'the best one and the newest (keepLast 1)');
  const stored = rows[0]!;
  assert.equal((stored.metrics as Record<string, number>).val_loss, best.value, "the best checkpoint carries that epoch's val_loss");
  assert.equal(stored.step, best.step);
  assert.equal(job.result.best.epoch, best.epoch, 'the result names the same best epoch');
});
