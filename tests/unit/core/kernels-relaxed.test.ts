import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Heap } from '../../../src/core/memory.js';
import { createKernels, createWasmKernels, jsKernels, relaxedSimdAvailable } from '../../../src/core/kernels/index.js';
import { train } from '../../../src/core/trainer.js';
import { ThreadPool, threadEngine } from '../../../src/core/pool.js';
import type { EngineFactory } from '../../../src/core/engine.js';
import { loadDataset } from '../../../src/data/load.js';
import { trainSpec } from './specs.js';
import { weightTensors, worstRelativeDifference } from './weights.js';

// The optional relaxed-SIMD build (TRAINYARD_KERNELS=wasm-relaxed): the same kernels
// with f32x4.relaxed_madd in the micro-kernel. Node 20 validates it only once
// --experimental-wasm-relaxed-simd is on, which relaxedSimdAvailable() turns on for
// this process (node:test runs each file in its own process, so no other file sees it).

const available = relaxedSimdAvailable();
const cpuHasFma = /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));

test('the relaxed build compiles in this Node once the V8 flag is on', () => {
  assert.equal(available, true);
});

test('relaxed gemmNT, gemmTN, gemmNN agree with the js kernels on every shape', { skip: !available }, () => {
  const heap = new Heap();
  const k = createWasmKernels(heap, 'relaxed');
  assert.equal(k.name, 'wasm-relaxed-simd');
  let seed = 99;
  const fill = (v: Float32Array) => { for (let i = 0; i < v.length; i++) { seed = (Math.imul(seed, 1664525) + 1013904223) | 0; v[i] = ((seed >>> 8) / 16777216) * 2 - 1; } };
  for (const [M, N, K] of [[1, 1, 1], [5, 9, 3], [7, 13, 1030], [64, 256, 784], [130, 9, 37]]) {
    const A = heap.alloc(M * K), B = heap.alloc(N * K), C = heap.alloc(M * N), bias = heap.alloc(N);
    fill(A); fill(B); fill(bias);
    for (const form of ['NT', 'TN', 'NN'] as const) {
      const want = new Float32Array(M * N);
      if (form === 'NT') { jsKernels.gemmNT(M, N, K, A, B, want, bias, false); k.gemmNT(M, N, K, A, B, C, bias, false); }
      if (form === 'TN') { jsKernels.gemmTN(M, N, K, A, B, want, false); k.gemmTN(M, N, K, A, B, C, false); }
      if (form === 'NN') { jsKernels.gemmNN(M, N, K, A, B, want, false); k.gemmNN(M, N, K, A, B, C, false); }
      const tol = 1e-5 * (K + 2);
      for (let i = 0; i < want.length; i++) {
        if (!(Math.abs(C[i] - want[i]) <= tol)) assert.fail(`gemm${form} ${M}x${N}x${K}: element ${i} is ${C[i]}, js says ${want[i]}`);
      }
    }
  }
});

// c = -(1 + 2⁻¹¹) after k = 0; k = 1 adds (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴. Rounded to
// float32 first (mul, then add) the product loses its 2⁻²⁴ and the sum is 0; fused
// (one rounding) the sum is exactly 2⁻²⁴. So the result tells which arithmetic ran.
test('the relaxed build really fuses (one rounding) where the CPU has FMA; the baseline rounds twice', { skip: !available || !cpuHasFma }, () => {
  const heap = new Heap();
  const M = 4, N = 8, K = 2, a = 1 + 2 ** -12;
  const A = heap.alloc(M * K), B = heap.alloc(N * K), C = heap.alloc(M * N);
  for (let i = 0; i < M; i++) { A[i * K] = 1; A[i * K + 1] = a; }
  for (let j = 0; j < N; j++) { B[j * K] = -(1 + 2 ** -11); B[j * K + 1] = a; }
  createWasmKernels(heap, 'relaxed').gemmNT(M, N, K, A, B, C, null, false);
  assert.deepEqual([...new Set(C)], [2 ** -24]);
  createWasmKernels(heap, 'baseline').gemmNT(M, N, K, A, B, C, null, false);
  assert.deepEqual([...new Set(C)], [0]);
});

test('TRAINYARD_KERNELS=wasm-relaxed selects the relaxed build', { skip: !available }, () => {
  const saved = process.env.TRAINYARD_KERNELS;
  try {
    process.env.TRAINYARD_KERNELS = 'wasm-relaxed';
    assert.equal(createKernels(new Heap()).name, 'wasm-relaxed-simd');
  } finally {
    if (saved === undefined) delete process.env.TRAINYARD_KERNELS;
    else process.env.TRAINYARD_KERNELS = saved;
  }
});

// The calling thread chooses the run's kernels (TRAINYARD_KERNELS at the start of the
// run) and every pool thread makes the same choice: thread counts then agree with each
// other as closely as the baseline's do, and differ from the baseline's weights.
const pool = new ThreadPool(1);
after(() => pool.close());

async function withKernels<T>(choice: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.TRAINYARD_KERNELS;
  process.env.TRAINYARD_KERNELS = choice;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.TRAINYARD_KERNELS;
    else process.env.TRAINYARD_KERNELS = saved;
  }
}

test('a run under TRAINYARD_KERNELS=wasm-relaxed runs the relaxed build on every thread, and only then', { skip: !available }, async () => {
  const data = loadDataset({ name: 'synthetic/spirals', n: 400, classes: 3, validationSplit: 0.2, seed: 4 });
  const spec = (threads: number) => trainSpec({
    model: { layers: [{ type: 'dense', units: 24, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
    loss: 'cross-entropy', optimizer: { type: 'adam', learningRate: 0.01 },
    training: { epochs: 2, batchSize: 40, seed: 5, threads },
  });
  const worst = worstRelativeDifference;
  const run = (choice: string, threads: number) => withKernels(choice, async () => {
    const factory = threadEngine(pool);
    let kernels: readonly string[] = [];
    const spy: EngineFactory = async (o) => { const e = await factory(o); kernels = [...e.kernels]; return e; };
    spy.heap = factory.heap;
    const r = await train({ spec: spec(threads), data, engine: spy });
    return { kernels, weights: weightTensors(r.weights) };
  });
  // the pool's thread starts under the relaxed run, so it would keep that choice from its
  // environment if the run's choice were not handed to it
  const r2 = await run('wasm-relaxed', 2), r1 = await run('wasm-relaxed', 1);
  const b2 = await run('wasm', 2), b1 = await run('wasm', 1);
  assert.deepEqual(r2.kernels, ['wasm-relaxed-simd', 'wasm-relaxed-simd']);
  assert.deepEqual(r1.kernels, ['wasm-relaxed-simd']);
  assert.deepEqual(b2.kernels, ['wasm-simd', 'wasm-simd']);
  assert.deepEqual(b1.kernels, ['wasm-simd']);
  // and thread counts agree under the relaxed build as under the baseline
  assert.ok(worst(r1.weights, r2.weights) < 1e-5, `1 vs 2 relaxed threads: ${worst(r1.weights, r2.weights)}`);
  if (cpuHasFma) assert.ok(worst(r1.weights, b1.weights) > 0, "the relaxed run reached the baseline's weights bit for bit");
});
