import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { train } from '../../../src/core/trainer.js';
import { ThreadPool, threadEngine } from '../../../src/core/pool.js';
import { decodeSafetensors } from '../../../src/core/safetensors.js';
import { loadDataset } from '../../../src/data/load.js';
import { trainSpec } from './specs.js';

// Validation and test evaluation split their rows over the pool's threads. The test
// recomputes both from the final weights with a float64 forward pass written here (no
// code of the core), so a thread that skipped its rows, took another's, or counted
// rows twice shows in val_loss, val_accuracy, test_loss and test_accuracy.

const pool = new ThreadPool(1);
after(() => pool.close());

// 600 training rows (540 + 60 validation) and all 10,000 test rows of MNIST
const data = loadDataset({ name: 'mnist', limit: 600, validationSplit: 0.1 });

interface Ref { loss: number; accuracy: number }

/** Mean cross-entropy and accuracy of the dense ReLU → softmax net in `weights` on a split, in float64. */
function reference(weights: Map<string, Float32Array>, x: Float32Array, labels: Int32Array, n: number): Ref {
  const W0 = weights.get('layers.0.weight')!, b0 = weights.get('layers.0.bias')!;
  const W1 = weights.get('layers.1.weight')!, b1 = weights.get('layers.1.bias')!;
  const H = b0.length, C = b1.length, D = W0.length / H;
  let loss = 0, correct = 0;
  const h = new Float64Array(H), z = new Float64Array(C);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < H; i++) {
      let s = b0[i];
      for (let j = 0; j < D; j++) s += W0[i * D + j] * x[r * D + j];
      h[i] = Math.max(0, s);
    }
    let max = -Infinity, arg = 0;
    for (let c = 0; c < C; c++) {
      let s = b1[c];
      for (let i = 0; i < H; i++) s += W1[c * H + i] * h[i];
      z[c] = s;
      if (s > max) { max = s; arg = c; }
    }
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(z[c] - max);
    loss += -(z[labels[r]] - max - Math.log(sum));
    if (arg === labels[r]) correct++;
  }
  return { loss: loss / n, accuracy: correct / n };
}

test('2-thread validation and test metrics equal a float64 forward pass of the final weights', async () => {
  const spec = trainSpec({
    model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] },
    loss: 'cross-entropy', optimizer: { type: 'adam', learningRate: 0.01 },
    training: { epochs: 2, batchSize: 50, seed: 3, threads: 2 },
  });
  const r = await train({ spec, data, engine: threadEngine(pool) });
  const f = decodeSafetensors(r.weights);
  const w = new Map([...f.tensors].map(([k, t]) => [k, t.data as Float32Array]));
  const val = reference(w, data.validation!.x, data.validation!.labels!, data.validation!.n);
  const tst = reference(w, data.test!.x, data.test!.labels!, data.test!.n);
  const close = (got: number, want: number, what: string) =>
    assert.ok(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${what}: ${got}, the float64 reference says ${want}`);
  close(r.finalMetrics.val_loss, val.loss, 'val_loss');
  assert.equal(r.finalMetrics.val_accuracy, val.accuracy);
  close(r.testMetrics!.test_loss, tst.loss, 'test_loss');
  assert.equal(r.testMetrics!.test_accuracy, tst.accuracy);
});

// MC-dropout masks are keyed by the row's index in the split, so the thread that takes
// a row must sample the same thinned networks for it as one thread would.
test('MC-ensemble evaluation on 2 threads samples the masks 1 thread samples', async () => {
  const spec = (threads: number) => trainSpec({
    model: {
      layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dropout', rate: 0.5 }, { type: 'dense', units: 10, activation: 'softmax' }],
      dropoutInference: 'mc-ensemble', mcSamples: 4,
    },
    loss: 'cross-entropy', optimizer: { type: 'adam', learningRate: 0.01 },
    training: { epochs: 1, batchSize: 50, seed: 3, threads },
  });
  const one = await train({ spec: spec(1), data, engine: threadEngine(pool) });
  const two = await train({ spec: spec(2), data, engine: threadEngine(pool) });
  for (const [name, a, b] of [
    ['val_loss', one.finalMetrics.val_loss, two.finalMetrics.val_loss],
    ['test_loss', one.testMetrics!.test_loss, two.testMetrics!.test_loss],
  ] as const) {
    assert.ok(Math.abs(a - b) < 1e-5, `${name}: 1 thread ${a}, 2 threads ${b}`);
  }
});
