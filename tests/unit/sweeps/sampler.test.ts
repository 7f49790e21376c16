import { test } from 'node:test';
import assert from 'node:assert/strict';
import { draw, gridTrials, randomTrials, type ParameterList } from '../../../src/sweeps/sampler.js';

const space: ParameterList = [
  ['/optimizer/learningRate', { distribution: 'log-uniform', min: 1e-4, max: 1 }],
  ['/model/layers/0/activation', { values: ['relu', 'sigmoid', 'tanh'] }],
  ['/model/layers/0/units', { distribution: 'int-uniform', min: 16, max: 20 }],
  ['/regularization/l2', { distribution: 'uniform', min: -1, max: 3 }],
];

test('the same seed draws the same trials in the same order; another seed draws others', () => {
  const a = randomTrials(space, 40, 7);
  const b = randomTrials(space, 40, 7);
  assert.deepEqual(a, b);
  assert.deepEqual(Object.keys(a[0]!), space.map(([p]) => p), 'each trial lists the parameters in the sweep\'s order');
  const c = randomTrials(space, 40, 8);
  assert.notDeepEqual(a, c);
  // trial i does not depend on how many trials are drawn
  assert.deepEqual(randomTrials(space, 5, 7), a.slice(0, 5));
});

test('every draw stays inside its range; int-uniform reaches both ends and nothing else', () => {
  const trials = randomTrials(space, 3000, 1);
  const ints = new Set<number>();
  for (const t of trials) {
    const lr = t['/optimizer/learningRate'] as number;
    assert.ok(lr >= 1e-4 && lr <= 1, `learningRate ${lr}`);
    const u = t['/regularization/l2'] as number;
    assert.ok(u >= -1 && u < 3, `uniform ${u}`);
    const n = t['/model/layers/0/units'] as number;
    assert.ok(Number.isInteger(n), `units ${n} is an integer`);
    ints.add(n);
    assert.ok(['relu', 'sigmoid', 'tanh'].includes(t['/model/layers/0/activation'] as string));
  }
  assert.deepEqual([...ints].sort((x, y) => x - y), [16, 17, 18, 19, 20]);
  // the ends of u ∈ [0, 1) by the formulas
  assert.equal(draw({ distribution: 'int-uniform', min: 16, max: 20 }, 0.9999999), 20);
  assert.equal(draw({ distribution: 'int-uniform', min: 16, max: 20 }, 0), 16);
  assert.equal(draw({ distribution: 'log-uniform', min: 1e-4, max: 1 }, 0.5), Math.exp((Math.log(1e-4) + Math.log(1)) / 2));
  assert.equal(draw({ distribution: 'uniform', min: -1, max: 3 }, 0.25), 0);
});

// Counts in k equally likely bins of n draws: each within 5 standard deviations of n/k.
function assertUniformBins(counts: number[], n: number, what: string): void {
  const k = counts.length;
  const p = 1 / k;
  const sd = Math.sqrt(n * p * (1 - p));
  for (const [i, c] of counts.entries()) {
    assert.ok(Math.abs(c - n * p) < 5 * sd, `${what}: bin ${i} has ${c} of ${n}, expected ${(n * p).toFixed(0)} ± ${(5 * sd).toFixed(0)}`);
  }
}

test('log-uniform puts the same share of draws in every decade; uniform in every quarter; categories and integers equally often', () => {
  const n = 4000;
  const trials = randomTrials(space, n, 3);
  const decades = [0, 0, 0, 0];
  const quarters = [0, 0, 0, 0];
  const cats: Record<string, number> = { relu: 0, sigmoid: 0, tanh: 0 };
  const ints = [0, 0, 0, 0, 0];
  for (const t of trials) {
    // log10 of the learning rate is uniform in [-4, 0)
    decades[Math.min(3, Math.floor(Math.log10(t['/optimizer/learningRate'] as number) + 4))]!++;
    quarters[Math.floor(((t['/regularization/l2'] as number) + 1) / 1)]!++;
    cats[t['/model/layers/0/activation'] as string]!++;
    ints[(t['/model/layers/0/units'] as number) - 16]!++;
  }
  assertUniformBins(decades, n, 'log-uniform decades');
  assertUniformBins(quarters, n, 'uniform quarters');
  assertUniformBins(Object.values(cats), n, 'categories');
  assertUniformBins(ints, n, 'int-uniform values');
});

test('the parameters of one trial are independent: draw j of trial i does not follow draw j-1', () => {
  const two: ParameterList = [['/a', { distribution: 'uniform', min: 0, max: 1 }], ['/b', { distribution: 'uniform', min: 0, max: 1 }]];
  const trials = randomTrials(two, 4000, 5);
  // Pearson correlation near 0 (|r| < 5/√n)
  const xs = trials.map((t) => t['/a'] as number);
  const ys = trials.map((t) => t['/b'] as number);
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const mx = mean(xs); const my = mean(ys);
  let sxy = 0; let sxx = 0; let syy = 0;
  for (let i = 0; i < xs.length; i++) { sxy += (xs[i]! - mx) * (ys[i]! - my); sxx += (xs[i]! - mx) ** 2; syy += (ys[i]! - my) ** 2; }
  assert.ok(Math.abs(sxy / Math.sqrt(sxx * syy)) < 5 / Math.sqrt(xs.length));
});

test('a grid is the cartesian product in itertools.product order: the first parameter varies slowest', () => {
  const grid = gridTrials([
    ['/a', { values: [1, 2] }],
    ['/b', { values: ['x', 'y', 'z'] }],
  ]);
  assert.deepEqual(grid, [
    { '/a': 1, '/b': 'x' }, { '/a': 1, '/b': 'y' }, { '/a': 1, '/b': 'z' },
    { '/a': 2, '/b': 'x' }, { '/a': 2, '/b': 'y' }, { '/a': 2, '/b': 'z' },
  ]);
});
