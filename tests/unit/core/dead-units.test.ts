import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { train } from '../../../src/core/trainer.js';
import { ThreadPool, threadEngine } from '../../../src/core/pool.js';
import { encodeSafetensors } from '../../../src/core/safetensors.js';
import { loadDataset } from '../../../src/data/load.js';
import type { EpochEnd } from '../../../src/core/train-types.js';
import { trainSpec } from './specs.js';

const pool = new ThreadPool(1);
after(() => pool.close());

// 60 samples of 2 features in [-1, 1) from a fixed LCG; sample 45 (in the second thread's
// half of the one batch) has x0 = 10, the only sample that can wake unit 3 of layer 0.
const N = 60, H = 8;
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
const features = Array.from({ length: N }, () => [rand(), rand()]);
features[45][0] = 10;
const labels = features.map((_, i) => i % 3);
const data = loadDataset({ name: 'inline', features, labels });

// layer 0: dense 8 relu; units 0-2 dead (bias −1000), unit 3 = relu(x0 − 5), units 4-7 ordinary
const W0 = new Float32Array(H * 2).map(() => rand());
const b0 = new Float32Array(H).map(() => rand() * 0.5);
b0[0] = b0[1] = b0[2] = -1000;
W0[6] = 1; W0[7] = 0; b0[3] = -5;
// layer 2: dense 4 relu with every bias far below anything its inputs reach
const W2 = new Float32Array(4 * H).map(() => rand() * 0.1);
const b2 = new Float32Array(4).fill(-1000);
const W3 = new Float32Array(3 * 4).map(() => rand()), b3 = new Float32Array(3);
const initialWeights = encodeSafetensors([
  { name: 'layers.0.weight', dtype: 'F32', shape: [H, 2], data: W0 }, { name: 'layers.0.bias', dtype: 'F32', shape: [H], data: b0 },
  { name: 'layers.2.weight', dtype: 'F32', shape: [4, H], data: W2 }, { name: 'layers.2.bias', dtype: 'F32', shape: [4], data: b2 },
  { name: 'layers.3.weight', dtype: 'F32', shape: [3, 4], data: W3 }, { name: 'layers.3.bias', dtype: 'F32', shape: [3], data: b3 },
]);

/** The test's own forward pass of layer 0 over every sample: the fraction of units never positive. */
function deadFractionLayer0(): number {
  let dead = 0;
  for (let u = 0; u < H; u++) {
    let alive = false;
    for (const x of features) if (Math.fround(W0[u * 2] * x[0] + W0[u * 2 + 1] * x[1] + b0[u]) > 0) alive = true;
    if (!alive) dead++;
  }
  return dead / H;
}

function spec(threads: number) {
  return trainSpec({
    model: { layers: [
      { type: 'dense', units: H, activation: 'relu' }, { type: 'dropout', rate: 0.5 },
      { type: 'dense', units: 4, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' },
    ] },
    loss: 'cross-entropy',
    optimizer: { type: 'sgd', learningRate: 0.01 },
    // one batch per epoch: epoch 1's forward pass runs on exactly the initial weights
    training: { epochs: 2, batchSize: N, shuffle: false, seed: 1, threads },
  });
}

test('dead_units/<i>: 1 for a ReLU layer with a very negative bias, the forward pass\'s own fraction (< 1) for an ordinary one, with 1 and 2 threads', async () => {
  const expected = deadFractionLayer0();
  assert.ok(expected > 0 && expected < 1, `fixture: ${expected}`);
  for (const threads of [1, 2]) {
    const ends: EpochEnd[] = [];
    await train({ spec: spec(threads), data, initialWeights, engine: threadEngine(pool), hooks: { onEpochEnd: (e) => { ends.push(e); } } });
    const m = ends[0].metrics;
    assert.equal(m['dead_units/0'], expected, `${threads} threads`);
    assert.equal(m['dead_units/2'], 1, `${threads} threads`);
    assert.equal(m['dead_units/3'], undefined, 'softmax is not a ReLU layer');
    assert.equal(m['dead_units/1'], undefined, 'dropout has no units of its own');
    // flags are cleared per epoch: epoch 2 counts again (layer 2 stays dead: no gradient reaches it)
    assert.equal(ends[1].metrics['dead_units/2'], 1);
    assert.ok(ends[1].metrics['dead_units/0'] < 1);
  }
});
