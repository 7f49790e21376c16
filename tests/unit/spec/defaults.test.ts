import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeJobSpec, toTrainSpec, validateJobSpec, type JobSpec } from '../../../src/spec/index.js';

function minimal(overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    name: 'defaults',
    dataset: { name: 'mnist' },
    model: { layers: [{ type: 'dense', units: 10, activation: 'softmax' }] },
    loss: 'cross-entropy',
    optimizer: { type: 'sgd', learningRate: 0.1 },
    training: { epochs: 1, batchSize: 32 },
    ...overrides,
  };
}

test('every default is filled in a minimal spec', () => {
  const result = validateJobSpec(minimal());
  assert.ok(result.ok);
  assert.deepEqual(result.spec, {
    name: 'defaults',
    dataset: { name: 'mnist', validationSplit: 0 },
    model: {
      layers: [{ type: 'dense', units: 10, activation: 'softmax' }],
      init: 'auto', dropoutInference: 'weight-scaling', mcSamples: 32,
    },
    loss: 'cross-entropy',
    optimizer: { type: 'sgd', learningRate: 0.1 },
    regularization: { l1: 0, l2: 0 },
    training: { epochs: 1, batchSize: 32, shuffle: true, seed: 0, batchLossEvery: 10 },
    checkpoints: { everyEpochs: 1, keepLast: 3, keepBest: true },
  });
  assert.equal('earlyStopping' in result.spec, false, 'absent early stopping stays absent (never stop early)');
});

test('optimizer defaults are PyTorch\'s', () => {
  const opt = (optimizer: JobSpec['optimizer']) => normalizeJobSpec(minimal({ optimizer })).optimizer;
  assert.deepEqual(opt({ type: 'momentum', learningRate: 0.1 }), { type: 'momentum', learningRate: 0.1, momentum: 0.9, nesterov: false });
  assert.deepEqual(opt({ type: 'adagrad', learningRate: 0.1 }), { type: 'adagrad', learningRate: 0.1, epsilon: 1e-10 });
  assert.deepEqual(opt({ type: 'rmsprop', learningRate: 0.1 }), { type: 'rmsprop', learningRate: 0.1, alpha: 0.99, epsilon: 1e-8 });
  assert.deepEqual(opt({ type: 'adam', learningRate: 0.1 }), { type: 'adam', learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  assert.deepEqual(opt({ type: 'adam', learningRate: 0.1, beta2: 0.98 }), { type: 'adam', learningRate: 0.1, beta1: 0.9, beta2: 0.98, epsilon: 1e-8 });
});

test('activation alphas: leaky-relu 0.01, prelu 0.25, elu 1; given values kept; linear by default', () => {
  const spec = normalizeJobSpec(minimal({
    model: {
      layers: [
        { type: 'dense', units: 4, activation: 'leaky-relu' },
        { type: 'dense', units: 4, activation: 'prelu' },
        { type: 'dense', units: 4, activation: 'elu' },
        { type: 'dense', units: 4, activation: 'leaky-relu', alpha: 0.2 },
        { type: 'dense', units: 4 },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    },
  }));
  assert.deepEqual(spec.model.layers.map((l) => (l.type === 'dense' ? [l.activation, 'alpha' in l ? l.alpha : undefined] : [])), [
    ['leaky-relu', 0.01], ['prelu', 0.25], ['elu', 1], ['leaky-relu', 0.2], ['linear', undefined], ['softmax', undefined],
  ]);
});

test('early stopping, when present, gets its defaults and a resolved mode', () => {
  const loss = normalizeJobSpec(minimal({ earlyStopping: {} }));
  assert.deepEqual(loss.earlyStopping, { monitor: 'val_loss', mode: 'min', patience: 3, minDelta: 0, restoreBest: true });
  const accuracy = normalizeJobSpec(minimal({ earlyStopping: { monitor: 'train_accuracy', patience: 5 } }));
  assert.deepEqual(accuracy.earlyStopping, { monitor: 'train_accuracy', mode: 'max', patience: 5, minDelta: 0, restoreBest: true });
  assert.equal(normalizeJobSpec(minimal({ earlyStopping: { monitor: 'val_accuracy', mode: 'auto' } })).earlyStopping?.mode, 'max');
  assert.equal(normalizeJobSpec(minimal({ earlyStopping: { monitor: 'val_accuracy', mode: 'min' } })).earlyStopping?.mode, 'min');
});

/** Paths of every undefined value (or absent optional key) in a plain JSON-like value. */
function undefinedPaths(value: unknown, path = ''): string[] {
  if (value === undefined) return [path];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => undefinedPaths(v, `${path}/${k}`));
}

test('the core\'s TrainSpec has every field set: earlyStopping null when absent, the normalized block when given', () => {
  const without = toTrainSpec(normalizeJobSpec(minimal()));
  assert.equal(without.earlyStopping, null);
  assert.deepEqual(Object.keys(without).sort(), ['checkpoints', 'earlyStopping', 'loss', 'model', 'optimizer', 'regularization', 'training']);
  assert.deepEqual(undefinedPaths(without), []);
  const full = toTrainSpec(normalizeJobSpec(minimal({
    optimizer: { type: 'adam', learningRate: 0.01 },
    model: { layers: [{ type: 'dense', units: 4, activation: 'prelu' }, { type: 'dense', units: 10, activation: 'softmax' }] },
    earlyStopping: { monitor: 'val_accuracy' },
  })));
  assert.deepEqual(undefinedPaths(full), []);
  assert.deepEqual(full.earlyStopping, { monitor: 'val_accuracy', mode: 'max', patience: 3, minDelta: 0, restoreBest: true });
  assert.deepEqual(full.optimizer, { type: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
});

test('synthetic data sets get their generator defaults', () => {
  assert.deepEqual(normalizeJobSpec(minimal({ dataset: { name: 'synthetic/spirals' } })).dataset,
    { name: 'synthetic/spirals', validationSplit: 0, n: 1000, noise: 0.1, seed: 0, classes: 3 });
  assert.deepEqual(normalizeJobSpec(minimal({ dataset: { name: 'synthetic/xor', n: 50 } })).dataset,
    { name: 'synthetic/xor', validationSplit: 0, n: 50, noise: 0.1, seed: 0 });
});

test('normalizing does not modify the input', () => {
  const input = minimal({ earlyStopping: { monitor: 'train_loss' } });
  const copy = structuredClone(input);
  normalizeJobSpec(input);
  assert.deepEqual(input, copy);
});
