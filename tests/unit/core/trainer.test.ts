import { test } from 'node:test';
import assert from 'node:assert/strict';
import { train } from '../../../src/core/trainer.js';
import { DivergenceError, IncompatibleWeightsError } from '../../../src/core/errors.js';
import { decodeSafetensors } from '../../../src/core/safetensors.js';
import { loadDataset } from '../../../src/data/load.js';
import type { TrainSpec } from '../../../src/core/types.js';
import { trainSpec, type TrainSpecInput } from './specs.js';
import type { EpochEnd } from '../../../src/core/train-types.js';

const data = loadDataset({ name: 'synthetic/spirals', n: 600, classes: 3, validationSplit: 0.2, seed: 3 });

function spec(over: Partial<TrainSpecInput> = {}, training: Partial<TrainSpecInput['training']> = {}): TrainSpec {
  return trainSpec({
    model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 3, activation: 'softmax' }] },
    loss: 'cross-entropy',
    optimizer: { type: 'adam', learningRate: 0.01 },
    training: { epochs: 4, batchSize: 32, seed: 9, ...training },
    ...over,
  });
}

/** All layer tensors concatenated (metadata holds timings, so bytes differ run to run). */
function weightsOf(bytes: Uint8Array): number[] {
  const f = decodeSafetensors(bytes);
  return [...f.tensors.keys()].sort().flatMap((k) => [...(f.tensors.get(k)!.data as Float32Array)]);
}

function tensor(bytes: Uint8Array, name: string): Float32Array {
  return decodeSafetensors(bytes).tensors.get(name)!.data as Float32Array;
}

test('the same seed gives bit-identical weights and metrics', async () => {
  const a = await train({ spec: spec(), data });
  const b = await train({ spec: spec(), data });
  assert.deepEqual(weightsOf(a.weights), weightsOf(b.weights));
  assert.equal(a.finalMetrics.train_loss, b.finalMetrics.train_loss);
  const c = await train({ spec: spec({}, { seed: 10 }), data });
  assert.notDeepEqual(weightsOf(a.weights), weightsOf(c.weights));
});

test('training learns spirals: loss falls and accuracy beats chance', async () => {
  const r = await train({ spec: spec({}, { epochs: 15 }), data });
  assert.equal(r.status, 'succeeded');
  assert.equal(r.stoppedEarly, false);
  assert.ok(r.finalMetrics.train_accuracy > 0.7, `train_accuracy ${r.finalMetrics.train_accuracy}`);
  assert.ok(r.finalMetrics.val_accuracy > 0.6, `val_accuracy ${r.finalMetrics.val_accuracy}`);
});

test('every DESIGN.md epoch metric is reported, per trainable layer too', async () => {
  const ends: EpochEnd[] = [];
  await train({ spec: spec({}, { epochs: 2, batchLossEvery: 5 }), data, hooks: { onEpochEnd: (e) => { ends.push(e); } } });
  const names = new Set(ends[0].points.map((p) => p.name));
  for (const n of ['train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'learning_rate', 'samples_per_second', 'epoch_seconds',
    'grad_norm/0', 'weight_norm/0', 'update_ratio/0', 'grad_norm/2', 'weight_norm/2', 'update_ratio/2', 'batch_loss']) {
    assert.ok(names.has(n), `missing ${n}`);
  }
  assert.ok(!names.has('grad_norm/1'), 'dropout has no weights');
  assert.equal(ends[0].points.filter((p) => p.name === 'batch_loss').length, 3); // 15 steps, every 5
  assert.deepEqual(ends.map((e) => e.step), [15, 30]);
});

test('a run resumed from an epoch checkpoint ends with the same weights as one that never stopped', async () => {
  const full = await train({ spec: spec(), data, specHash: 'h' });
  let ck: Uint8Array | null = null;
  await train({ spec: spec(), data, specHash: 'h', hooks: { onEpochEnd: (e) => { if (e.epoch === 2) ck = e.checkpoint(); } } });
  const resumed = await train({ spec: spec(), data, specHash: 'h', resumeFrom: ck! });
  assert.equal(resumed.epochs, 4);
  assert.deepEqual(weightsOf(resumed.weights), weightsOf(full.weights));
  await assert.rejects(train({ spec: spec(), data, specHash: 'other', resumeFrom: ck! }), /another spec/);
});

test('cancelling stops between batches and still returns a resume checkpoint', async () => {
  const ac = new AbortController();
  let batches = 0;
  const r = await train({ spec: spec({}, { epochs: 50 }), data, signal: ac.signal, hooks: { onProgress: () => { if (++batches === 20) ac.abort(); } } });
  assert.equal(r.status, 'cancelled');
  assert.equal(r.step, 20);
  assert.ok(r.checkpoint.length > 0);
});

test('a run cancelled mid-epoch resumes at the next batch and ends exactly like an uninterrupted one', async () => {
  const ends: EpochEnd[] = [];
  const full = await train({ spec: spec(), data, specHash: 'h', hooks: { onEpochEnd: (e) => { ends.push(e); } } });
  const ac = new AbortController();
  let batches = 0;
  const cut = await train({ spec: spec(), data, specHash: 'h', signal: ac.signal, hooks: { onProgress: () => { if (++batches === 22) ac.abort(); } } });
  assert.equal(cut.status, 'cancelled');
  assert.equal(cut.epochs, 1); // 15 batches per epoch: stopped 7 batches into epoch 2
  const resumedEnds: EpochEnd[] = [];
  const resumed = await train({ spec: spec(), data, specHash: 'h', resumeFrom: cut.checkpoint, hooks: { onEpochEnd: (e) => { resumedEnds.push(e); } } });
  assert.deepEqual(resumedEnds.map((e) => e.epoch), [2, 3, 4]);
  assert.equal(resumedEnds[0].metrics.train_loss, ends[1].metrics.train_loss);
  assert.equal(resumedEnds[0].metrics['grad_norm/0'], ends[1].metrics['grad_norm/0']);
  assert.deepEqual(weightsOf(resumed.weights), weightsOf(full.weights));
});

test('timers and signals get through while training, even when every epoch is shorter than the yield interval', async () => {
  const tiny = loadDataset({ name: 'synthetic/xor', n: 64, seed: 1 });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 30);
  const r = await train({
    spec: trainSpec({ model: { layers: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dense', units: 2, activation: 'softmax' }] },
      loss: 'cross-entropy', optimizer: { type: 'sgd', learningRate: 0.1 }, training: { epochs: 100000, batchSize: 64, seed: 1 } }),
    data: tiny, signal: ac.signal,
  });
  assert.equal(r.status, 'cancelled');
  assert.ok(r.epochs < 100000);
});

test('early stopping stops, says why, and restores the best weights', async () => {
  const ends: EpochEnd[] = [];
  const r = await train({
    spec: spec({ earlyStopping: { monitor: 'val_loss', patience: 2, minDelta: 10, restoreBest: true } }, { epochs: 20 }),
    data, hooks: { onEpochEnd: (e) => { ends.push(e); } },
  });
  // minDelta 10 means nothing after epoch 1 counts as an improvement
  assert.equal(r.status, 'succeeded');
  assert.equal(r.stoppedEarly, true);
  assert.equal(r.epochs, 3);
  assert.equal(r.stopDecision?.decision, 'stop');
  assert.equal(r.best?.epoch, 1);
  assert.deepEqual(ends.map((e) => e.decision?.decision), ['improved', 'continue', 'stop']);
  assert.equal(r.finalMetrics.val_loss, ends[0].metrics.val_loss);
  // Independent reference: training is deterministic, so a run that simply ends after
  // the best epoch (1) holds exactly the weights restoreBest must bring back.
  const untilBest = await train({ spec: spec({}, { epochs: 1 }), data });
  assert.deepEqual(weightsOf(r.weights), weightsOf(untilBest.weights));
  // and the check has teeth: the weights training ended with (epoch 3) are different
  const kept = await train({
    spec: spec({ earlyStopping: { monitor: 'val_loss', patience: 2, minDelta: 10, restoreBest: false } }, { epochs: 20 }), data,
  });
  assert.equal(kept.epochs, 3);
  assert.notDeepEqual(weightsOf(kept.weights), weightsOf(untilBest.weights));
});

test('a learning rate far too high fails with a DivergenceError naming epoch and step', async () => {
  const s = spec({ optimizer: { type: 'sgd', learningRate: 1e6 }, model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] } });
  await assert.rejects(train({ spec: s, data }), (err: unknown) => {
    assert.ok(err instanceof DivergenceError);
    assert.ok(err.step >= 1 && err.epoch >= 1);
    assert.match(err.message, /epoch \d+, step \d+/);
    assert.match(err.message, /learning rate/);
    return true;
  });
});

test('initial weights that do not fit the model are refused with every mismatch listed', async () => {
  const small = await train({ spec: spec({}, { epochs: 1 }), data });
  const other = spec({ model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] } });
  await assert.rejects(train({ spec: other, data, initialWeights: small.weights }), (err: unknown) => {
    assert.ok(err instanceof IncompatibleWeightsError);
    assert.match(err.message, /layers\.0\.weight has shape \[32, 2\] but the model needs \[16, 2\]/);
    assert.match(err.message, /layers\.1\.weight \[3, 16\] is missing/);
    assert.match(err.message, /layers\.2\.weight does not exist/);
    return true;
  });
  // the same architecture warm-starts from them: epoch-1 loss is already low
  const warm = await train({ spec: spec({}, { epochs: 1 }), data, initialWeights: small.weights });
  assert.ok(warm.finalMetrics.train_loss < small.finalMetrics.train_loss);
});

test('final weights use the nn.Linear layout [out, in] and dropout stores nothing', async () => {
  const r = await train({ spec: spec({}, { epochs: 1 }), data });
  const f = decodeSafetensors(r.weights);
  assert.deepEqual([...f.tensors.keys()].sort(), ['layers.0.bias', 'layers.0.weight', 'layers.2.bias', 'layers.2.weight']);
  assert.deepEqual(f.tensors.get('layers.0.weight')!.shape, [32, 2]);
  assert.deepEqual(f.tensors.get('layers.2.weight')!.shape, [3, 32]);
  assert.equal(tensor(r.weights, 'layers.2.bias').length, 3);
});

test('a cancelled run with restoreBest keeps the weights it stopped with, and its metadata names that epoch', async () => {
  // minDelta 10: epoch 1 stays the best; cancel during epoch 4 (15 steps per epoch), after 3 whole epochs
  const es = { monitor: 'val_loss', patience: 100, minDelta: 10, restoreBest: true } as const;
  const cancelAt = (restoreBest: boolean) => {
    const ac = new AbortController();
    let batches = 0;
    return train({
      spec: spec({ earlyStopping: { ...es, restoreBest } }, { epochs: 20 }), data, signal: ac.signal,
      hooks: { onProgress: () => { if (++batches === 50) ac.abort(); } },
    });
  };
  const r = await cancelAt(true);
  assert.equal(r.status, 'cancelled');
  assert.equal(r.best?.epoch, 1);
  const f = decodeSafetensors(r.weights);
  assert.equal(f.metadata.epoch, String(r.epochs), 'the weights are those of where the run stopped, not of the best epoch');
  assert.notEqual(r.epochs, 1);
  // independent reference: without restoreBest the same cancel leaves the same weights
  const plain = await cancelAt(false);
  assert.deepEqual(weightsOf(r.weights), weightsOf(plain.weights));
  assert.equal(r.finalMetrics.val_loss, plain.finalMetrics.val_loss, 'finalMetrics describe the weights returned');
});
