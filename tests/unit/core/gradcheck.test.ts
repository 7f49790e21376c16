// Finite-difference gradient checks: perturb every parameter by ±ε, watch the loss,
// and compare (L(p+ε) − L(p−ε)) / 2ε with what backprop wrote into grads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels } from '../../../src/core/kernels/js.js';
import type { ForwardContext } from '../../../src/core/layers/layer.js';
import { Heap } from '../../../src/core/memory.js';
import { Replica, initParams, planParams } from '../../../src/core/model.js';
import { Stream, normal, uniform } from '../../../src/core/rng.js';
import type { Activation, LossName } from '../../../src/core/types.js';
import type { JobSpec } from '../../../src/spec/index.js';
import { modelSpec } from './specs.js';
import { LOSS_STATS } from '../../../src/core/step-stats.js';
import type { Split } from '../../../src/core/dataset.js';

const ROWS = 6, IN = 4;

function makeSplit(task: 'classification' | 'regression', outputs: number): Split {
  const x = new Float32Array(ROWS * IN);
  for (let i = 0; i < x.length; i++) x[i] = normal(7, Stream.data, i);
  if (task === 'classification') {
    const labels = new Int32Array(ROWS);
    for (let r = 0; r < ROWS; r++) labels[r] = Math.floor(uniform(7, Stream.data, 1000 + r) * outputs);
    return { n: ROWS, x, labels };
  }
  const targets = new Float32Array(ROWS * outputs);
  for (let i = 0; i < targets.length; i++) targets[i] = normal(8, Stream.data, i);
  return { n: ROWS, x, targets };
}

/** Returns the worst |numeric − analytic| / (|numeric| + |analytic| + 1e-3) over all parameters. */
function check(layers: JobSpec['model']['layers'], loss: LossName, task: 'classification' | 'regression'): { worst: number; name: string; checked: number } {
  const model = modelSpec({ layers });
  const plan = planParams(model, IN);
  const heap = new Heap();
  const params = heap.alloc(plan.size), grads = heap.alloc(plan.size);
  initParams(params, plan, model, 3);
  // nonzero biases and slopes so every path carries gradient
  for (const e of plan.entries) if (e.kind === 'bias') for (let i = 0; i < e.length; i++) params[e.offset + i] = 0.1 * normal(5, Stream.init, e.layer, 1, i);
  const replica = new Replica(plan, model, loss, task, params, grads, heap, ROWS, jsKernels);
  const split = makeSplit(task, plan.outputSize);
  replica.load(split, null, 0, ROWS);
  // 'train' mode with a fixed key: dropout masks are the same on every forward
  const ctx: ForwardContext = { dropout: 'train', seed: 11, key: 42, rowOffset: 0 };
  const lossAt = (): number => {
    replica.stats.fill(0);
    replica.forward(ROWS, ctx);
    replica.accumulateLoss(ROWS);
    return replica.stats[LOSS_STATS.sum] / ROWS;
  };
  lossAt();
  replica.backward(ROWS, ROWS, ctx);
  const analytic = grads.slice(0, plan.size);
  const eps = 1e-2;
  let worst = 0, name = '', checked = 0;
  for (const e of plan.entries) {
    for (let i = e.offset; i < e.offset + e.length; i++) {
      const p = params[i];
      params[i] = p + eps; const lp = lossAt();
      params[i] = p - eps; const lm = lossAt();
      params[i] = p;
      const numeric = (lp - lm) / (2 * eps);
      const err = Math.abs(numeric - analytic[i]) / (Math.abs(numeric) + Math.abs(analytic[i]) + 1e-3);
      if (err > worst) { worst = err; name = `${e.name}[${i - e.offset}] numeric ${numeric} analytic ${analytic[i]}`; }
      checked++;
    }
  }
  return { worst, name, checked };
}

const TOL = 2e-2; // float32 forward with ε = 1e-2: central differences agree to ~1e-3 where the loss is smooth

const hidden: Activation[] = ['sigmoid', 'tanh', 'relu', 'leaky-relu', 'prelu', 'elu', 'linear'];
for (const act of hidden) {
  test(`backprop through a ${act} dense layer matches finite differences (softmax cross-entropy)`, () => {
    const r = check([{ type: 'dense', units: 5, activation: act }, { type: 'dense', units: 3, activation: 'softmax' }], 'cross-entropy', 'classification');
    assert.ok(r.worst < TOL, `worst relative error ${r.worst} at ${r.name}`);
  });
}

test('PReLU slopes get the gradient Σ dA·min(z, 0)', () => {
  const r = check([{ type: 'dense', units: 5, activation: 'prelu', alpha: 0.3 }, { type: 'dense', units: 2, activation: 'softmax' }], 'cross-entropy', 'classification');
  assert.ok(r.worst < TOL, `worst relative error ${r.worst} at ${r.name}`);
});

test('maxout sends the gradient through the chosen piece only (finite differences away from ties)', () => {
  const r = check([{ type: 'maxout', units: 4, pieces: 3 }, { type: 'dense', units: 3, activation: 'softmax' }], 'cross-entropy', 'classification');
  assert.ok(r.worst < TOL, `worst relative error ${r.worst} at ${r.name}`);
});

test('dropout with a fixed mask backpropagates through the kept units, scaled by 1/(1 − p)', () => {
  const r = check([{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dropout', rate: 0.5 }, { type: 'dense', units: 3, activation: 'softmax' }], 'cross-entropy', 'classification');
  assert.ok(r.worst < TOL, `worst relative error ${r.worst} at ${r.name}`);
});

test('mse over a linear output matches finite differences (regression)', () => {
  const r = check([{ type: 'dense', units: 5, activation: 'elu' }, { type: 'dense', units: 2, activation: 'linear' }], 'mse', 'regression');
  assert.ok(r.worst < TOL, `worst relative error ${r.worst} at ${r.name}`);
});

test('mse through a softmax output uses the softmax Jacobian', () => {
  const r = check([{ type: 'dense', units: 5, activation: 'sigmoid' }, { type: 'dense', units: 3, activation: 'softmax' }], 'mse', 'classification');
  assert.ok(r.worst < TOL, `worst relative error ${r.worst} at ${r.name}`);
});

test('a deep mixed network (sigmoid, maxout, dropout, leaky-relu) checks end to end', () => {
  const r = check([
    { type: 'dense', units: 6, activation: 'sigmoid' },
    { type: 'maxout', units: 5, pieces: 2 },
    { type: 'dropout', rate: 0.2 },
    { type: 'dense', units: 5, activation: 'leaky-relu', alpha: 0.1 },
    { type: 'dense', units: 4, activation: 'softmax' },
  ], 'cross-entropy', 'classification');
  assert.ok(r.checked > 100);
  assert.ok(r.worst < TOL, `worst relative error ${r.worst} at ${r.name}`);
});
