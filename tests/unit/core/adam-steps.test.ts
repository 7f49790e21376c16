// Three training steps of a small dense network with Adam, through train() on 1 and on
// 2 threads, against the same three steps written out here in float64: forward (ReLU,
// softmax), the cross-entropy gradient, backprop, and PyTorch's Adam update of every
// weight and bias — and the epoch's grad_norm and update_ratio metrics from them. The trainer's update takes a one-pass path on steps 1 and 2 (no
// update-ratio sample) and the plain one on step 3 (the epoch's last batch is sampled),
// so both are held to the same numbers.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { train } from '../../../src/core/trainer.js';
import { ThreadPool, threadEngine } from '../../../src/core/pool.js';
import { decodeSafetensors, encodeSafetensors } from '../../../src/core/safetensors.js';
import { loadDataset } from '../../../src/data/load.js';
import { trainSpec } from './specs.js';

const pool = new ThreadPool(1);
after(() => pool.close());

const IN = 5, H = 4, C = 3, N = 12, B = 4, LR = 0.05, B1 = 0.9, B2 = 0.999, EPS = 1e-8;
const features = Array.from({ length: N }, (_, r) => Array.from({ length: IN }, (_, j) => Math.sin(1.3 * r + 0.7 * j)));
const labels = features.map((_, r) => (r * 7) % C);
const data = loadDataset({ name: 'inline', features, labels });
const init = {
  W1: Float32Array.from({ length: H * IN }, (_, i) => 0.6 * Math.cos(0.9 * i + 0.2)),
  b1: Float32Array.from({ length: H }, (_, i) => 0.1 * (i - 1.5)),
  W2: Float32Array.from({ length: C * H }, (_, i) => 0.5 * Math.sin(1.7 * i + 0.4)),
  b2: Float32Array.from({ length: C }, (_, i) => 0.05 * (i - 1)),
};
const initialWeights = encodeSafetensors([
  { name: 'layers.0.weight', dtype: 'F32', shape: [H, IN], data: init.W1 }, { name: 'layers.0.bias', dtype: 'F32', shape: [H], data: init.b1 },
  { name: 'layers.1.weight', dtype: 'F32', shape: [C, H], data: init.W2 }, { name: 'layers.1.bias', dtype: 'F32', shape: [C], data: init.b2 },
]);

const norm = (a: number[]) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));

/**
 * The three steps in float64: the parameters after them, by tensor name; each step's
 * weight-gradient norm per layer; and step 3's ‖Δw‖/‖w‖ per layer (the one step the
 * epoch samples update_ratio on: its last).
 */
function reference(): { P: Record<string, number[]>; gradNorms: number[][]; lastRatio: number[] } {
  const gradNorms: number[][] = [];
  let lastRatio: number[] = [];
  const P: Record<string, number[]> = { W1: [...init.W1], b1: [...init.b1], W2: [...init.W2], b2: [...init.b2] };
  const m: Record<string, number[]> = {}, v: Record<string, number[]> = {};
  for (const k of Object.keys(P)) { m[k] = P[k].map(() => 0); v[k] = P[k].map(() => 0); }
  for (let t = 1; t <= N / B; t++) {
    const G: Record<string, number[]> = { W1: P.W1.map(() => 0), b1: P.b1.map(() => 0), W2: P.W2.map(() => 0), b2: P.b2.map(() => 0) };
    for (let r = (t - 1) * B; r < t * B; r++) {
      const x = features[r];
      const pre = Array.from({ length: H }, (_, u) => P.b1[u] + x.reduce((s, xj, j) => s + xj * P.W1[u * IN + j], 0));
      const h = pre.map((z) => Math.max(z, 0));
      const z = Array.from({ length: C }, (_, c) => P.b2[c] + h.reduce((s, hu, u) => s + hu * P.W2[c * H + u], 0));
      const mx = Math.max(...z), e = z.map((zc) => Math.exp(zc - mx)), sum = e.reduce((a, b) => a + b, 0);
      const dz = e.map((ec, c) => (ec / sum - (c === labels[r] ? 1 : 0)) / B); // mean over the batch
      const dh = h.map((_, u) => (pre[u] > 0 ? dz.reduce((s, d, c) => s + d * P.W2[c * H + u], 0) : 0));
      for (let c = 0; c < C; c++) { G.b2[c] += dz[c]; for (let u = 0; u < H; u++) G.W2[c * H + u] += dz[c] * h[u]; }
      for (let u = 0; u < H; u++) { G.b1[u] += dh[u]; for (let j = 0; j < IN; j++) G.W1[u * IN + j] += dh[u] * x[j]; }
    }
    gradNorms.push([norm(G.W1), norm(G.W2)]);
    const before = { W1: P.W1, W2: P.W2 };
    for (const k of Object.keys(P)) {
      P[k] = P[k].map((p, i) => {
        m[k][i] = B1 * m[k][i] + (1 - B1) * G[k][i];
        v[k][i] = B2 * v[k][i] + (1 - B2) * G[k][i] ** 2;
        const mHat = m[k][i] / (1 - B1 ** t), vHat = v[k][i] / (1 - B2 ** t);
        return p - (LR * mHat) / (Math.sqrt(vHat) + EPS);
      });
    }
    lastRatio = (['W1', 'W2'] as const).map((k) => norm(P[k].map((p, i) => p - before[k][i])) / norm(before[k]));
  }
  return { P, gradNorms, lastRatio };
}

for (const threads of [1, 2]) {
  test(`three Adam steps on ${threads} thread(s) land on the float64 reference's weights and biases`, async () => {
    const spec = trainSpec({
      model: { layers: [{ type: 'dense', units: H, activation: 'relu' }, { type: 'dense', units: C, activation: 'softmax' }] },
      loss: 'cross-entropy',
      optimizer: { type: 'adam', learningRate: LR },
      training: { epochs: 1, batchSize: B, shuffle: false, seed: 1, threads },
    });
    const result = await train({ spec, data, initialWeights, engine: threadEngine(pool) });
    const got = decodeSafetensors(result.weights).tensors;
    const { P: ref, gradNorms, lastRatio } = reference();
    // the epoch's metrics: grad_norm/<i> the mean of the steps' norms, update_ratio/<i> step 3's
    for (const [l, layer] of [0, 1].entries()) {
      const gradNorm = gradNorms.reduce((s, g) => s + g[l], 0) / gradNorms.length;
      const m = result.finalMetrics;
      assert.ok(Math.abs(m[`grad_norm/${layer}`] - gradNorm) < 1e-5 * gradNorm, `grad_norm/${layer}: ${m[`grad_norm/${layer}`]}, the reference ${gradNorm}`);
      assert.ok(Math.abs(m[`update_ratio/${layer}`] - lastRatio[l]) < 1e-4 * lastRatio[l], `update_ratio/${layer}: ${m[`update_ratio/${layer}`]}, the reference ${lastRatio[l]}`);
    }
    const names: Record<string, string> = { W1: 'layers.0.weight', b1: 'layers.0.bias', W2: 'layers.1.weight', b2: 'layers.1.bias' };
    for (const [k, name] of Object.entries(names)) {
      const values = got.get(name)!.data as Float32Array;
      ref[k].forEach((want, i) => {
        const start = (init as Record<string, Float32Array>)[k][i];
        assert.ok(Math.abs(want - start) > 1e-3, `${name}[${i}] moves in the reference`);
        assert.ok(Math.abs(values[i] - want) < 2e-5, `${name}[${i}]: ${values[i]}, the reference ${want} (from ${start})`);
      });
    }
  });
}
