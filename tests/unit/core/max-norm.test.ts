import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { applyMaxNorm } from '../../../src/core/regularization.js';
import { train } from '../../../src/core/trainer.js';
import { ThreadPool, threadEngine } from '../../../src/core/pool.js';
import { decodeSafetensors } from '../../../src/core/safetensors.js';
import { loadDataset } from '../../../src/data/load.js';
import type { TrainSpec } from '../../../src/core/types.js';
import { trainSpec } from './specs.js';

const pool = new ThreadPool(2);
after(() => pool.close());

function rowNorms(w: Float32Array, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < w.length / cols; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += w[r * cols + j] ** 2;
    out.push(Math.sqrt(s));
  }
  return out;
}

test('max-norm scales each row above c to norm c (same direction) and leaves rows within c bit-identical', () => {
  // three rows of 3: norms 5, 0.5, exactly 1
  const w = Float32Array.of(3, 4, 0, 0.3, 0.4, 0, 0.6, 0, 0.8);
  const before = Float32Array.from(w);
  applyMaxNorm(w, [{ offset: 0, rows: 3, cols: 3 }], 1);
  // the formula: w · c/‖w‖ = (3, 4, 0) · 1/5
  assert.deepEqual([...w.subarray(0, 3)], [Math.fround(0.6), Math.fround(0.8), 0]);
  assert.deepEqual([...w.subarray(3)], [...before.subarray(3)]);
});

const data = loadDataset({ name: 'synthetic/spirals', n: 300, classes: 3, validationSplit: 0.2, seed: 8 });
const C = 0.9;

function spec(threads: number, maxNorm: number | undefined, epochs = 4): TrainSpec {
  return trainSpec({
    // 33 inputs per maxout row and 17 per dense row: rows straddle the 16-float thread slices
    model: { layers: [{ type: 'dense', units: 33, activation: 'relu' }, { type: 'maxout', units: 17, pieces: 2 }, { type: 'dense', units: 3, activation: 'softmax' }] },
    loss: 'cross-entropy',
    optimizer: { type: 'adam', learningRate: 0.05 },
    regularization: maxNorm === undefined ? {} : { maxNorm },
    training: { epochs, batchSize: 20, seed: 2, threads },
  });
}

function tensors(bytes: Uint8Array): Map<string, { shape: number[]; data: Float32Array }> {
  const f = decodeSafetensors(bytes).tensors;
  return new Map([...f].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
}

function flat(bytes: Uint8Array): number[] {
  const t = tensors(bytes);
  return [...t.keys()].sort().flatMap((k) => [...t.get(k)!.data]);
}

test('after training with maxNorm every row of every W (each maxout piece) has norm ≤ c, and the constraint binds', async () => {
  let checked = 0;
  const r = await train({ spec: spec(1, C), data, hooks: { onEpochEnd: () => { checked++; } } });
  const free = tensors((await train({ spec: spec(1, undefined), data })).weights);
  for (const [name, t] of tensors(r.weights)) {
    if (!name.endsWith('.weight')) continue;
    const norms = rowNorms(t.data, t.shape[1]);
    assert.equal(norms.length, name === 'layers.1.weight' ? 34 : t.shape[0], `${name}: one norm per piece row`);
    for (const n of norms) assert.ok(n <= C * (1 + 1e-6), `${name}: row norm ${n} > ${C}`);
    // without the constraint some rows of this tensor grow past c: the constraint did something
    assert.ok(rowNorms(free.get(name)!.data, t.shape[1]).some((n) => n > C), `${name}: no row exceeds c unconstrained`);
    assert.ok(norms.some((n) => Math.abs(n - C) < 1e-5), `${name}: no row sits on the bound`);
  }
  assert.equal(checked, 4);
});

test('with maxNorm 2 threads reach the weights of 1 thread within 1e-5', async () => {
  const one = flat((await train({ spec: spec(1, C), data, engine: threadEngine(pool) })).weights);
  for (const threads of [2, 3]) {
    const many = flat((await train({ spec: spec(threads, C), data, engine: threadEngine(pool) })).weights);
    let worst = 0;
    one.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - many[i]) / Math.max(1, Math.abs(v))); });
    assert.ok(worst < 1e-5, `${threads} threads: ${worst}`);
  }
});

test('a maxNorm run resumed from an epoch checkpoint ends with the same weights as one that never stopped', async () => {
  const full = await train({ spec: spec(1, C), data, specHash: 'h' });
  let ck: Uint8Array | null = null;
  await train({ spec: spec(1, C), data, specHash: 'h', hooks: { onEpochEnd: (e) => { if (e.epoch === 2) ck = e.checkpoint(); } } });
  const resumed = await train({ spec: spec(1, C), data, specHash: 'h', resumeFrom: ck! });
  assert.deepEqual(flat(resumed.weights), flat(full.weights));
});
