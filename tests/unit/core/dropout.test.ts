// The weight-scaling rule against the exact ensemble of all 2^M thinned networks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels } from '../../../src/core/kernels/js.js';
import { Heap } from '../../../src/core/memory.js';
import { Replica, initParams, planParams } from '../../../src/core/model.js';
import { inferLoaded } from '../../../src/core/evaluate.js';
import { Stream, normal } from '../../../src/core/rng.js';
import type { Activation } from '../../../src/core/types.js';
import { modelSpec } from './specs.js';

const IN = 3, M = 4, P = 0.5;

function setup(outAct: Activation) {
  const model = modelSpec({ layers: [{ type: 'dense', units: M, activation: 'tanh' }, { type: 'dropout', rate: P }, { type: 'dense', units: 1, activation: outAct }] });
  const plan = planParams(model, IN);
  const heap = new Heap();
  const params = heap.alloc(plan.size), grads = heap.alloc(plan.size);
  initParams(params, plan, model, 1);
  // large output weights push the sigmoid into its curved region, where Jensen's gap shows
  const w2 = plan.entries.find((e) => e.name === 'layers.2.weight')!;
  for (let i = 0; i < w2.length; i++) params[w2.offset + i] = 3 * normal(2, Stream.init, 9, 0, i);
  const replica = new Replica(plan, model, 'mse', 'regression', params, grads, heap, 1, jsKernels);
  for (let j = 0; j < IN; j++) replica.X[j] = normal(3, Stream.data, j);
  return { plan, params, replica, model };
}

/** E over all 2^M masks of f(W2 (m ⊙ h)/(1 − p) + b2), each mask weighted by its probability. */
function exactEnsemble(params: Float32Array, plan: ReturnType<typeof planParams>, h: Float32Array, outAct: Activation): number {
  const W2 = plan.entries.find((e) => e.name === 'layers.2.weight')!, b2 = plan.entries.find((e) => e.name === 'layers.2.bias')!;
  let mean = 0;
  for (let mask = 0; mask < 1 << M; mask++) {
    let z = params[b2.offset], prob = 1;
    for (let j = 0; j < M; j++) {
      const kept = (mask >> j) & 1;
      prob *= kept ? 1 - P : P;
      if (kept) z += params[W2.offset + j] * h[j] / (1 - P);
    }
    mean += prob * (outAct === 'sigmoid' ? 1 / (1 + Math.exp(-z)) : z);
  }
  return mean;
}

function run(outAct: Activation, mode: 'weight-scaling' | 'mc-ensemble', samples = 4000): number {
  const { replica } = setup(outAct);
  const out = new Float32Array(1);
  inferLoaded(replica, 1, { mode, mcSamples: samples, seed: 5 }, { dropout: 'infer', seed: 5, key: 0, rowOffset: 0 }, out, 0);
  return out[0];
}

test('for a linear output the weight-scaling rule equals the exact ensemble of all 2^M thinned nets', () => {
  const { plan, params, replica } = setup('linear');
  replica.forward(1, { dropout: 'infer', seed: 0, key: 0, rowOffset: 0 });
  const h = replica.layers[0].out.slice(0, M);
  const exact = exactEnsemble(params, plan, h, 'linear');
  assert.ok(Math.abs(run('linear', 'weight-scaling') - exact) < 1e-5, `weight scaling ${run('linear', 'weight-scaling')} vs ensemble ${exact}`);
  assert.ok(Math.abs(run('linear', 'mc-ensemble') - exact) < 0.05 * Math.max(1, Math.abs(exact)));
});

test('for a sigmoid output weight scaling is only an approximation; MC dropout estimates the ensemble', () => {
  const { plan, params, replica } = setup('sigmoid');
  replica.forward(1, { dropout: 'infer', seed: 0, key: 0, rowOffset: 0 });
  const h = replica.layers[0].out.slice(0, M);
  const exact = exactEnsemble(params, plan, h, 'sigmoid');
  const scaled = run('sigmoid', 'weight-scaling');
  const mc = run('sigmoid', 'mc-ensemble');
  assert.ok(Math.abs(scaled - exact) > 0.01, `weight scaling ${scaled} should differ from the ensemble ${exact}`);
  assert.ok(Math.abs(mc - exact) < Math.abs(scaled - exact) / 2, `mc ${mc} should be closer to ${exact} than ${scaled}`);
});

test('a dropout mask is fresh at every update and identical for the same (seed, step, row)', () => {
  const model = modelSpec({ layers: [{ type: 'dropout', rate: 0.5 }, { type: 'dense', units: 2, activation: 'softmax' }] });
  const plan = planParams(model, 64);
  const heap = new Heap();
  const params = heap.alloc(plan.size), grads = heap.alloc(plan.size);
  const r = new Replica(plan, model, 'cross-entropy', 'classification', params, grads, heap, 1, jsKernels);
  r.X.fill(1);
  const maskAt = (step: number) => { r.forward(1, { dropout: 'train', seed: 1, key: step, rowOffset: 0 }); return Array.from(r.layers[0].out.slice(0, 64)); };
  const a = maskAt(1), b = maskAt(2), a2 = maskAt(1);
  assert.deepEqual(a, a2);
  assert.notDeepEqual(a, b);
  const kept = a.filter((v) => v !== 0);
  assert.ok(kept.every((v) => v === 2), 'kept units are scaled by 1/(1 − p)');
  assert.ok(kept.length > 16 && kept.length < 48, `about half kept, got ${kept.length}`);
  r.forward(1, { dropout: 'infer', seed: 1, key: 1, rowOffset: 0 });
  assert.ok(Array.from(r.layers[0].out.slice(0, 64)).every((v) => v === 1), 'nothing is dropped at test time');
});
