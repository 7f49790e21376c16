import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOptimizer as create, type Optimizer, type StateAlloc } from '../../../src/core/optimizers/index.js';
import { normalizeOptimizer, type JobSpec } from '../../../src/spec/index.js';

/** An optimizer block as a user writes it; createOptimizer gets it with PyTorch's defaults filled in. */
type OptimizerSpec = JobSpec['optimizer'];
const createOptimizer = (spec: OptimizerSpec, size: number, alloc?: StateAlloc) => create(normalizeOptimizer(spec), size, alloc);

// Three steps over six parameters with a fixed gradient sequence; each reference
// below is the textbook / PyTorch formula written out in float64.
const P0 = [0.5, -1.2, 2.0, 0.0, -0.3, 1.7];
const G = [
  [0.1, -0.4, 1.5, -2.0, 0.05, 0.3],
  [0.2, 0.3, -1.0, -1.5, -0.02, 0.25],
  [-0.1, 0.5, 0.8, 0.7, 0.01, -0.6],
];

function run(spec: OptimizerSpec, ranges: Array<[number, number]> = [[0, P0.length]]): { params: Float32Array; opt: Optimizer } {
  const opt = createOptimizer(spec, P0.length, (n) => new Float32Array(n));
  const params = Float32Array.from(P0);
  const grads = new Float32Array(P0.length);
  for (let t = 1; t <= G.length; t++) {
    grads.set(G[t - 1]!);
    for (const [from, to] of ranges) opt.step(params, grads, t, from, to);
  }
  return { params, opt };
}

function assertClose(actual: ArrayLike<number>, expected: number[], rel = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    const tol = rel * Math.max(1, Math.abs(e));
    assert.ok(Math.abs(a - e) <= tol, `element ${i}: got ${a}, expected ${e} (tolerance ${tol})`);
  }
}

test('sgd matches p ← p − lr·g after 3 steps', () => {
  const lr = 0.1;
  const p = [...P0];
  for (const g of G) for (let i = 0; i < p.length; i++) p[i] = p[i]! - lr * g[i]!;
  assertClose(run({ type: 'sgd', learningRate: lr }).params, p);
});

test('momentum matches buf ← μ·buf + g (buf = g on the first step), p ← p − lr·buf after 3 steps', () => {
  const lr = 0.1, mu = 0.8;
  const p = [...P0];
  const buf: number[] = [];
  for (let t = 0; t < G.length; t++) {
    for (let i = 0; i < p.length; i++) {
      const g = G[t]![i]!;
      buf[i] = t === 0 ? g : mu * buf[i]! + g;
      p[i] = p[i]! - lr * buf[i]!;
    }
  }
  const { params, opt } = run({ type: 'momentum', learningRate: lr, momentum: mu });
  assertClose(params, p);
  assertClose(opt.state.momentum_buffer!, buf);
});

test('nesterov momentum matches p ← p − lr·(g + μ·buf) after 3 steps', () => {
  const lr = 0.1, mu = 0.9;
  const p = [...P0];
  const buf: number[] = [];
  for (let t = 0; t < G.length; t++) {
    for (let i = 0; i < p.length; i++) {
      const g = G[t]![i]!;
      buf[i] = t === 0 ? g : mu * buf[i]! + g;
      p[i] = p[i]! - lr * (g + mu * buf[i]!);
    }
  }
  const nesterov = run({ type: 'momentum', learningRate: lr, momentum: mu, nesterov: true }).params;
  assertClose(nesterov, p);
  // and it really differs from plain momentum
  const plain = run({ type: 'momentum', learningRate: lr, momentum: mu }).params;
  assert.ok(Math.abs(plain[0]! - nesterov[0]!) > 1e-3);
});

test('momentum defaults to μ = 0.9 without nesterov', () => {
  const lr = 0.1;
  assertClose(run({ type: 'momentum', learningRate: lr }).params,
    Array.from(run({ type: 'momentum', learningRate: lr, momentum: 0.9, nesterov: false }).params));
});

test('adagrad matches sum ← sum + g², p ← p − lr·g/(√sum + ε) after 3 steps', () => {
  const lr = 0.5, eps = 1e-10;
  const p = [...P0];
  const sum = P0.map(() => 0);
  for (const g of G) {
    for (let i = 0; i < p.length; i++) {
      sum[i] = sum[i]! + g[i]! * g[i]!;
      p[i] = p[i]! - lr * g[i]! / (Math.sqrt(sum[i]!) + eps);
    }
  }
  const { params, opt } = run({ type: 'adagrad', learningRate: lr });
  assertClose(params, p);
  assertClose(opt.state.sum!, sum);
});

test('adagrad with a zero gradient history leaves the parameter unchanged (ε keeps 0/0 away)', () => {
  const opt = createOptimizer({ type: 'adagrad', learningRate: 1 }, 2, (n) => new Float32Array(n));
  const p = Float32Array.of(1, 2);
  opt.step(p, Float32Array.of(0, 0), 1, 0, 2);
  assert.deepEqual(Array.from(p), [1, 2]);
});

test('rmsprop matches the running average σ² ← α·σ² + (1−α)·g², p ← p − lr·g/(√σ² + ε) after 3 steps', () => {
  const lr = 0.01, alpha = 0.99, eps = 1e-8;
  const p = [...P0];
  const sq = P0.map(() => 0);
  for (const g of G) {
    for (let i = 0; i < p.length; i++) {
      sq[i] = alpha * sq[i]! + (1 - alpha) * g[i]! * g[i]!;
      p[i] = p[i]! - lr * g[i]! / (Math.sqrt(sq[i]!) + eps);
    }
  }
  const { params, opt } = run({ type: 'rmsprop', learningRate: lr });
  assertClose(params, p);
  assertClose(opt.state.square_avg!, sq);
});

test('rmsprop honours alpha and epsilon', () => {
  const lr = 0.01, alpha = 0.9, eps = 0.5;
  const p = [...P0];
  const sq = P0.map(() => 0);
  for (const g of G) {
    for (let i = 0; i < p.length; i++) {
      sq[i] = alpha * sq[i]! + (1 - alpha) * g[i]! * g[i]!;
      p[i] = p[i]! - lr * g[i]! / (Math.sqrt(sq[i]!) + eps);
    }
  }
  assertClose(run({ type: 'rmsprop', learningRate: lr, alpha, epsilon: eps }).params, p);
});

function adamReference(lr: number, b1: number, b2: number, eps: number): { p: number[]; m: number[]; v: number[] } {
  const p = [...P0];
  const m = P0.map(() => 0), v = P0.map(() => 0);
  for (let t = 1; t <= G.length; t++) {
    const g = G[t - 1]!;
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
      const mHat = m[i]! / (1 - b1 ** t);
      const vHat = v[i]! / (1 - b2 ** t);
      p[i] = p[i]! - lr * mHat / (Math.sqrt(vHat) + eps);
    }
  }
  return { p, m, v };
}

test('adam matches the reference update with m̂ and v̂ after 3 steps', () => {
  const lr = 0.1;
  const ref = adamReference(lr, 0.9, 0.999, 1e-8);
  const { params, opt } = run({ type: 'adam', learningRate: lr });
  assertClose(params, ref.p);
  assertClose(opt.state.exp_avg!, ref.m);
  assertClose(opt.state.exp_avg_sq!, ref.v);
});

test('adam adds ε after bias-correcting √v, as PyTorch does', () => {
  // With a large ε the placement matters: PyTorch's denom = √v/√(1−β2^t) + ε,
  // not (√v + ε)/√(1−β2^t).
  const lr = 0.1, b1 = 0.8, b2 = 0.95, eps = 0.3;
  const ref = adamReference(lr, b1, b2, eps);
  const got = run({ type: 'adam', learningRate: lr, beta1: b1, beta2: b2, epsilon: eps }).params;
  assertClose(got, ref.p);

  const wrong = [...P0];
  const m = P0.map(() => 0), v = P0.map(() => 0);
  for (let t = 1; t <= G.length; t++) {
    for (let i = 0; i < wrong.length; i++) {
      const g = G[t - 1]![i]!;
      m[i] = b1 * m[i]! + (1 - b1) * g;
      v[i] = b2 * v[i]! + (1 - b2) * g * g;
      wrong[i] = wrong[i]! - lr / (1 - b1 ** t) * m[i]! / ((Math.sqrt(v[i]!) + eps) / Math.sqrt(1 - b2 ** t));
    }
  }
  assert.ok(Math.abs(got[2]! - wrong[2]!) > 1e-4, 'ε placement is observable with ε = 0.3');
});

test('adam first step moves each parameter by about lr·sign(g)', () => {
  const { params } = (() => {
    const opt = createOptimizer({ type: 'adam', learningRate: 0.01 }, 3, (n) => new Float32Array(n));
    const params = Float32Array.of(1, 1, 1);
    opt.step(params, Float32Array.of(5, -0.001, 200), 1, 0, 3);
    return { params };
  })();
  assertClose(params, [0.99, 1.01, 0.99], 1e-5);
});

for (const spec of [
  { type: 'sgd', learningRate: 0.1 },
  { type: 'momentum', learningRate: 0.1, momentum: 0.9, nesterov: true },
  { type: 'adagrad', learningRate: 0.1 },
  { type: 'rmsprop', learningRate: 0.1 },
  { type: 'adam', learningRate: 0.1 },
] satisfies OptimizerSpec[]) {
  test(`${spec.type}: updating [0,3) then [3,6) equals updating [0,6)`, () => {
    const whole = run(spec);
    const split = run(spec, [[0, 3], [3, 6]]);
    assert.deepEqual(Array.from(split.params), Array.from(whole.params));
    for (const name of Object.keys(whole.opt.state)) {
      assert.deepEqual(Array.from(split.opt.state[name]!), Array.from(whole.opt.state[name]!), name);
    }
  });

  test(`${spec.type}: step touches nothing outside [from, to)`, () => {
    const opt = createOptimizer(spec, 6, (n) => new Float32Array(n));
    const params = Float32Array.from(P0);
    opt.step(params, Float32Array.from(G[0]!), 1, 2, 4);
    assert.deepEqual([params[0], params[1], params[4], params[5]], [P0[0], P0[1], P0[4], P0[5]].map(Math.fround));
    assert.notEqual(params[2], Math.fround(P0[2]!));
    for (const buf of Object.values(opt.state)) {
      assert.deepEqual([buf[0], buf[1], buf[4], buf[5]], [0, 0, 0, 0]);
    }
  });
}

test('state buffers come from the alloc callback, with PyTorch state names', () => {
  const handed: Float32Array[] = [];
  const alloc = (n: number) => { const a = new Float32Array(n); handed.push(a); return a; };
  const names = (spec: OptimizerSpec) => {
    handed.length = 0;
    const opt = createOptimizer(spec, 4, alloc);
    for (const buf of Object.values(opt.state)) assert.ok(handed.includes(buf) && buf.length === 4);
    return Object.keys(opt.state).sort();
  };
  assert.deepEqual(names({ type: 'sgd', learningRate: 1 }), []);
  assert.deepEqual(names({ type: 'momentum', learningRate: 1 }), ['momentum_buffer']);
  assert.deepEqual(names({ type: 'adagrad', learningRate: 1 }), ['sum']);
  assert.deepEqual(names({ type: 'rmsprop', learningRate: 1 }), ['square_avg']);
  assert.deepEqual(names({ type: 'adam', learningRate: 1 }), ['exp_avg', 'exp_avg_sq']);
});

test('a changed learningRate takes effect on the next step', () => {
  const opt = createOptimizer({ type: 'sgd', learningRate: 0.1 }, 1, (n) => new Float32Array(n));
  const p = Float32Array.of(1);
  opt.learningRate = 0.5;
  opt.step(p, Float32Array.of(1), 1, 0, 1);
  assert.equal(p[0], 0.5);
});

test('adam resumed from its state buffers continues identically', () => {
  const spec: OptimizerSpec = { type: 'adam', learningRate: 0.05 };
  const whole = run(spec);
  // two steps, then copy params + state into a fresh optimizer, then the third step
  const a = createOptimizer(spec, 6, (n) => new Float32Array(n));
  const params = Float32Array.from(P0);
  for (let t = 1; t <= 2; t++) a.step(params, Float32Array.from(G[t - 1]!), t, 0, 6);
  const b = createOptimizer(spec, 6, (n) => new Float32Array(n));
  for (const name of Object.keys(a.state)) b.state[name]!.set(a.state[name]!);
  b.step(params, Float32Array.from(G[2]!), 3, 0, 6);
  assert.deepEqual(Array.from(params), Array.from(whole.params));
});
