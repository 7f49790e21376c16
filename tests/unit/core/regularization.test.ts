import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyRegularization, regularizationLoss } from '../../../src/core/regularization.js';
import { createOptimizer } from '../../../src/core/optimizers/index.js';

function close(a: number, e: number, tol = 1e-6): void {
  assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `got ${a}, expected ${e}`);
}

test('L2 adds λ·w to the gradient', () => {
  const w = Float32Array.of(0.5, -2, 0);
  const g = Float32Array.of(0.1, 0.1, 0.1);
  applyRegularization(w, g, 0, 3, 0, 0.01);
  close(g[0]!, 0.1 + 0.01 * 0.5);
  close(g[1]!, 0.1 - 0.01 * 2);
  close(g[2]!, 0.1);
});

test('L1 adds λ·sign(w) to the gradient, with sign(0) = 0', () => {
  const w = Float32Array.of(0.5, -2, 0);
  const g = Float32Array.of(0.1, 0.1, 0.1);
  applyRegularization(w, g, 0, 3, 0.02, 0);
  close(g[0]!, 0.12);
  close(g[1]!, 0.08);
  close(g[2]!, 0.1);
});

test('L1 and L2 together add λ2·w + λ1·sign(w)', () => {
  const w = Float32Array.of(-0.25);
  const g = Float32Array.of(1);
  applyRegularization(w, g, 0, 1, 0.1, 0.2);
  close(g[0]!, 1 + 0.2 * -0.25 - 0.1);
});

test('regularization touches only grads[from, to) and never the params', () => {
  const w = Float32Array.of(1, 2, 3, 4, 5);
  const g = new Float32Array(5);
  applyRegularization(w, g, 1, 3, 0.5, 0.5);
  assert.deepEqual(Array.from(g), [0, 1.5, 2, 0, 0]);
  assert.deepEqual(Array.from(w), [1, 2, 3, 4, 5]);
});

test('L2 on SGD is weight decay: p ← p·(1 − lr·λ) − lr·g', () => {
  const lr = 0.1, lambda = 0.05;
  const p = Float32Array.of(1.5, -0.7, 0.2);
  const gData = [0.3, -0.1, 0.0];
  const expected = Array.from(p, (w, i) => w * (1 - lr * lambda) - lr * gData[i]!);
  const opt = createOptimizer({ type: 'sgd', learningRate: lr }, 3, (n) => new Float32Array(n));
  const g = Float32Array.from(gData);
  applyRegularization(p, g, 0, 3, 0, lambda);
  opt.step(p, g, 1, 0, 3);
  for (let i = 0; i < 3; i++) close(p[i]!, expected[i]!);
});

test('L1 on SGD subtracts a constant lr·λ·sign(w), independent of |w|', () => {
  const lr = 0.1, lambda = 0.05;
  const p = Float32Array.of(3, 0.01, -3);
  const g = new Float32Array(3);
  applyRegularization(p, g, 0, 3, lambda, 0);
  createOptimizer({ type: 'sgd', learningRate: lr }, 3, (n) => new Float32Array(n)).step(p, g, 1, 0, 3);
  close(p[0]!, 3 - 0.005);
  close(p[1]!, 0.01 - 0.005);
  close(p[2]!, -3 + 0.005);
});

test('regularizationLoss is λ2/2·Σw² + λ1·Σ|w| over the given ranges only', () => {
  const w = Float32Array.of(1, -2, 99, 3, 99);
  // ranges skip the "bias" entries at 2 and 4
  const ranges = [[0, 2], [3, 4]] as const;
  close(regularizationLoss(w, ranges, 0, 0.1), 0.05 * (1 + 4 + 9));
  close(regularizationLoss(w, ranges, 0.2, 0), 0.2 * (1 + 2 + 3));
  close(regularizationLoss(w, ranges, 0.2, 0.1), 0.05 * 14 + 0.2 * 6);
  assert.equal(regularizationLoss(w, ranges, 0, 0), 0);
});

test('the L2 gradient is the derivative of the reported L2 loss', () => {
  const w = Float32Array.of(0.3, -1.1);
  const lambda = 0.4, h = 1e-3;
  const g = new Float32Array(2);
  applyRegularization(w, g, 0, 2, 0, lambda);
  const wPlus = Float32Array.of(0.3 + h, -1.1), wMinus = Float32Array.of(0.3 - h, -1.1);
  const numeric = (regularizationLoss(wPlus, [[0, 2]], 0, lambda) - regularizationLoss(wMinus, [[0, 2]], 0, lambda)) / (2 * h);
  close(g[0]!, numeric, 1e-4);
});
