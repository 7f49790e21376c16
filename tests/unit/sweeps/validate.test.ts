import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSweep, trialSpec } from '../../../src/sweeps/validate.js';
import { randomTrials } from '../../../src/sweeps/sampler.js';

const base = () => ({
  name: 'xor',
  dataset: { name: 'synthetic/xor', n: 64, validationSplit: 0.25, seed: 1 },
  model: { layers: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dense', units: 2, activation: 'softmax' }] },
  loss: 'cross-entropy',
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: 2, batchSize: 16, seed: 7 },
});
const sweep = (over: Record<string, unknown> = {}) => ({
  name: 's', spec: base(), method: 'random', maxTrials: 4, objective: { metric: 'val_accuracy' },
  parameters: { '/optimizer/learningRate': { distribution: 'log-uniform', min: 0.001, max: 0.1 } },
  ...over,
});
const pointers = (r: ReturnType<typeof validateSweep>) => (r.ok ? [] : r.problems.map((p) => p.pointer));

test('a valid random sweep: its plan is the seeded sampler\'s, defaults filled in', () => {
  const r = validateSweep(sweep({ seed: 9 }));
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.sweep.trials.length, 4);
  assert.deepEqual(r.sweep.trials, randomTrials([['/optimizer/learningRate', { distribution: 'log-uniform', min: 0.001, max: 0.1 }]], 4, 9));
  assert.deepEqual(r.sweep.objective, { metric: 'val_accuracy', mode: 'max' });
  assert.deepEqual(r.sweep.pruner, { type: 'none', minEpochs: 1, reductionFactor: 3 });
  assert.equal(r.sweep.parallelism, 1);
});

test('a trial spec the job validator refuses is mapped to the range end that produced it', () => {
  // 40 samples: most of them land above the 65,536-unit limit too, and add nothing
  const r = validateSweep(sweep({
    maxTrials: 40,
    parameters: { '/model/layers/0/units': { distribution: 'int-uniform', min: 4, max: 100_000 } },
  }));
  assert.deepEqual(pointers(r), ['/parameters/~1model~1layers~10~1units/max']);
  assert.ok(!r.ok && /units = 100000/.test(r.problems[0]!.message), !r.ok ? r.problems[0]!.message : '');
});

test('every problem at once: unknown pointer, empty range, bad log range, a bad categorical value, the base spec', () => {
  const spec = { ...base(), training: { epochs: 2, batchSize: 0, seed: 7 } };
  const r = validateSweep(sweep({
    spec,
    parameters: {
      '/model/layerz/0/units': { values: [4] },
      '/regularization/l2': { distribution: 'uniform', min: 1, max: 0 },
      '/optimizer/learningRate': { distribution: 'log-uniform', min: 0, max: 0.1 },
      '/model/layers/0/activation': { values: ['relu', 'swish'] },
    },
  }));
  assert.deepEqual(pointers(r).sort(), [
    '/parameters/~1model~1layerz~10~1units',
    '/parameters/~1optimizer~1learningRate/min',
    '/parameters/~1regularization~1l2/max',
  ]);
  // with the space fixed, the trial specs' problems come next
  const r2 = validateSweep(sweep({ spec, parameters: { '/model/layers/0/activation': { values: ['relu', 'swish'] } } }));
  assert.deepEqual(pointers(r2).sort(), ['/parameters/~1model~1layers~10~1activation/values/1', '/spec/training/batchSize']);
});

test('a grid larger than maxTrials, and a distribution in a grid, are refused', () => {
  const r = validateSweep(sweep({
    method: 'grid', maxTrials: 3,
    parameters: { '/optimizer/learningRate': { values: [0.1, 0.01] }, '/model/layers/0/units': { values: [2, 4] } },
  }));
  assert.deepEqual(pointers(r), ['/maxTrials']);
  assert.match(!r.ok ? r.problems[0]!.message : '', /the grid has 4 trials \(2 × 2\)/);
  const r2 = validateSweep(sweep({ method: 'grid', maxTrials: 3 }));
  assert.deepEqual(pointers(r2), ['/parameters/~1optimizer~1learningRate/distribution']);
});

test('a pointer into an absent layer is refused; one into an absent optional object creates it', () => {
  const r = validateSweep(sweep({ parameters: { '/model/layers/5/units': { values: [4] } } }));
  assert.deepEqual(pointers(r), ['/parameters/~1model~1layers~15~1units']);
  const { spec } = trialSpec(base(), { '/regularization/l2': 0.01 });
  assert.deepEqual(spec.regularization, { l2: 0.01 });
  assert.ok(validateSweep(sweep({ parameters: { '/regularization/l2': { values: [0, 0.001] } } })).ok);
});

test('an objective the trials do not report is refused', () => {
  const spec = { ...base(), dataset: { name: 'synthetic/xor', n: 64, seed: 1 } };
  assert.deepEqual(pointers(validateSweep(sweep({ spec }))), ['/objective/metric']);
});
