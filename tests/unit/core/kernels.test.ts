import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { Heap } from '../../../src/core/memory.js';
import { createKernels, createWasmKernels, jsKernels, wasmKernelsAvailable } from '../../../src/core/kernels/index.js';
import type { Kernels } from '../../../src/core/kernels/types.js';

// The wasm kernels must agree with the plain-JS reference for every form, any shape
// (including ones that are not multiples of the 4×8 register tile or of the k-block),
// with and without accumulate and bias.

type Form = 'NT' | 'TN' | 'NN';
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [3, 5, 7], [4, 8, 4], [5, 9, 3], [7, 13, 1030], [64, 256, 784],
  [128, 10, 256], [128, 256, 256], [10, 256, 128], [130, 9, 37], [33, 17, 0],
  // M past two blocks of MC = 128 rows (the last one partial), N past a panel, K past KC_MAX
  [300, 24, 600],
];

let seed = 12345;
function fillRandom(v: Float32Array): void {
  for (let i = 0; i < v.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) | 0;
    const r = ((seed >>> 8) / 16777216) * 2 - 1;
    v[i] = i % 7 === 0 ? 0 : r; // some exact zeros, like ReLU gradients
  }
}

function run(k: Kernels, form: Form, M: number, N: number, K: number, A: Float32Array, B: Float32Array,
  C: Float32Array, bias: Float32Array | null, accumulate: boolean): void {
  if (form === 'NT') k.gemmNT(M, N, K, A, B, C, bias, accumulate);
  else if (form === 'TN') k.gemmTN(M, N, K, A, B, C, accumulate);
  else k.gemmNN(M, N, K, A, B, C, accumulate);
}

// |wasm − js| ≤ 1e-5·(K+1)·max|term| per element: both sum K products of values in [−1, 1].
function assertClose(got: Float32Array, want: Float32Array, K: number, what: string): void {
  const tol = 1e-5 * (K + 2);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= tol)) assert.fail(`${what}: element ${i} is ${got[i]}, js says ${want[i]} (|diff| ${d} > ${tol})`);
  }
}

const available = wasmKernelsAvailable();

test('wasm kernels are available in this Node (SIMD + shared memory)', () => {
  assert.equal(available, true);
});

test('wasm gemmNT, gemmTN, gemmNN match the js kernels on every shape, with accumulate and bias', { skip: !available }, () => {
  const heap = new Heap();
  const wasm = createWasmKernels(heap);
  for (const [M, N, K] of SHAPES) {
    const A = heap.alloc(M * K), B = heap.alloc(N * K), C = heap.alloc(M * N), bias = heap.alloc(N);
    const C0 = new Float32Array(M * N);
    fillRandom(A); fillRandom(B); fillRandom(bias); fillRandom(C0);
    for (const form of ['NT', 'TN', 'NN'] as Form[]) {
      for (const accumulate of [false, true]) {
        for (const withBias of form === 'NT' ? [false, true] : [false]) {
          const b = withBias ? bias : null;
          const want = Float32Array.from(C0);
          run(jsKernels, form, M, N, K, A, B, want, b, accumulate);
          C.set(C0);
          run(wasm, form, M, N, K, A, B, C, b, accumulate);
          assertClose(C, want, K, `gemm${form} ${M}x${N}x${K} accumulate=${accumulate} bias=${withBias}`);
        }
      }
    }
  }
});

// The fused epilogue: reluOut = max(C, 0) of the finished C, also when K spans several
// k-blocks (1030 > 512: an early block's partial sums must not be clipped) and on
// edge tiles; C itself stays the pre-activation Z.
test('wasm gemmNT with reluOut writes Z and max(Z, 0) on every shape, accumulate and bias', { skip: !available }, () => {
  const heap = new Heap();
  const wasm = createWasmKernels(heap);
  for (const [M, N, K] of SHAPES) {
    const A = heap.alloc(M * K), B = heap.alloc(N * K), C = heap.alloc(M * N), bias = heap.alloc(N), out = heap.alloc(M * N);
    const C0 = new Float32Array(M * N);
    fillRandom(A); fillRandom(B); fillRandom(bias); fillRandom(C0);
    for (const accumulate of [false, true]) {
      const want = Float32Array.from(C0);
      jsKernels.gemmNT(M, N, K, A, B, want, bias, accumulate);
      C.set(C0);
      out.fill(NaN);
      wasm.gemmNT(M, N, K, A, B, C, bias, accumulate, out);
      const what = `gemmNT+relu ${M}x${N}x${K} accumulate=${accumulate}`;
      assertClose(C, want, K, what);
      for (let i = 0; i < M * N; i++) {
        if (out[i] !== Math.max(C[i], 0)) assert.fail(`${what}: reluOut[${i}] is ${out[i]}, max(Z, 0) is ${Math.max(C[i], 0)}`);
      }
    }
  }
});

test('wasm reluBackward zeroes dA where Z ≤ 0 and columnSums sums each column in row order', { skip: !available }, () => {
  const heap = new Heap();
  const wasm = createWasmKernels(heap);
  for (const [rows, units] of [[1, 1], [3, 5], [128, 256], [7, 10], [64, 13]]) {
    const n = rows * units;
    const Z = heap.alloc(n), dA = heap.alloc(n), db = heap.alloc(units);
    fillRandom(Z); fillRandom(dA);
    for (let i = 2; i < n; i += 5) { Z[i] = 0; dA[i] = 0.25; } // Z exactly 0 where dA is not: ReLU'(0) = 0
    const want = Float32Array.from(dA, (d, i) => (Z[i] > 0 ? d : 0));
    wasm.vector.reluBackward(Z, dA, n);
    assert.deepEqual(Array.from(dA), Array.from(want), `reluBackward ${rows}x${units}`);
    // the column sums in float32, top to bottom, as a plain loop gives them
    const sums = new Float32Array(units);
    for (let r = 0; r < rows; r++) for (let j = 0; j < units; j++) sums[j] = Math.fround(sums[j] + dA[r * units + j]);
    db.fill(7);
    wasm.vector.columnSums(dA, rows, units, db);
    assert.deepEqual(Array.from(db), Array.from(sums), `columnSums ${rows}x${units}`);
  }
});

test('gemmTN and columnSums over a block of columns (lda, stride) give exactly the rows of the whole product and sums', { skip: !available }, () => {
  // what a thread computes for its block of a layer's units: dW[from..to) = dZ[:, from..to)ᵀ · X, db likewise
  const heap = new Heap();
  for (const k of [createWasmKernels(heap), jsKernels]) {
    for (const [units, inSize, rows, from, to] of [[256, 784, 128, 128, 256], [10, 37, 30, 8, 10], [13, 9, 600, 4, 12], [24, 16, 15, 0, 12]]) {
      const dZ = heap.alloc(rows * units), X = heap.alloc(rows * inSize);
      fillRandom(dZ); fillRandom(X);
      const whole = heap.alloc(units * inSize), wholeDb = heap.alloc(units);
      k.gemmTN(units, inSize, rows, dZ, X, whole, false);
      k.vector.columnSums(dZ, rows, units, wholeDb);
      const part = heap.alloc((to - from) * inSize), db = heap.alloc(to - from);
      part.fill(9); db.fill(9);
      k.gemmTN(to - from, inSize, rows, dZ.subarray(from), X, part, false, units);
      k.vector.columnSums(dZ.subarray(from), rows, to - from, db, units);
      const what = `${k.name} ${units}x${inSize} over ${rows} rows, units [${from}, ${to})`;
      assert.deepEqual(Array.from(part), Array.from(whole.subarray(from * inSize, to * inSize)), `gemmTN ${what}`);
      assert.deepEqual(Array.from(db), Array.from(wholeDb.subarray(from, to)), `columnSums ${what}`);
      // and the whole product is the js reference's (so the blocks are right, not merely consistent)
      const want = new Float32Array(units * inSize);
      jsKernels.gemmTN(units, inSize, rows, dZ, X, want, false);
      assertClose(whole, want, rows, `gemmTN ${what}`);
    }
  }
});

test('wasm kernels write only C: a guard band around C is left untouched', { skip: !available }, () => {
  const heap = new Heap();
  const wasm = createWasmKernels(heap);
  const [M, N, K] = [5, 11, 9];
  const A = heap.alloc(M * K), B = heap.alloc(N * K);
  const block = heap.alloc(M * N + 32);
  block.fill(7);
  fillRandom(A); fillRandom(B);
  const C = heap.view(block.byteOffset + 64, M * N);
  for (const form of ['NT', 'TN', 'NN'] as Form[]) {
    run(wasm, form, M, N, K, A, B, C, null, false);
    for (let i = 0; i < 16; i++) assert.equal(block[i], 7, `${form} wrote before C`);
    for (let i = 16 + M * N; i < block.length; i++) assert.equal(block[i], 7, `${form} wrote after C`);
  }
});

test('two wasm kernel instances on different heap regions of one memory do not clobber each other', { skip: !available }, () => {
  const main = new Heap();
  const [s1, e1] = main.reserve(8 << 20);
  const [s2, e2] = main.reserve(8 << 20);
  const h1 = new Heap(main.memory, s1, e1), h2 = new Heap(main.memory, s2, e2);
  const k1 = createWasmKernels(h1), k2 = createWasmKernels(h2);
  const [M, N, K] = [17, 21, 300];
  const A1 = h1.alloc(M * K), B1 = h1.alloc(N * K), C1 = h1.alloc(M * N);
  const A2 = h2.alloc(M * K), B2 = h2.alloc(N * K), C2 = h2.alloc(M * N);
  fillRandom(A1); fillRandom(B1); fillRandom(A2); fillRandom(B2);
  const want1 = new Float32Array(M * N), want2 = new Float32Array(M * N);
  jsKernels.gemmNT(M, N, K, A1, B1, want1, null, false);
  jsKernels.gemmNT(M, N, K, A2, B2, want2, null, false);
  // Interleave: k1 packs its panels, k2 runs in between, k1 runs again on its own data.
  k1.gemmNT(M, N, K, A1, B1, C1, null, false);
  k2.gemmNT(M, N, K, A2, B2, C2, null, false);
  assertClose(C1, want1, K, 'instance 1');
  assertClose(C2, want2, K, 'instance 2');
  k1.gemmNT(M, N, K, A1, B1, C1, null, false);
  assertClose(C1, want1, K, 'instance 1 again');
  assertClose(C2, want2, K, 'instance 2 untouched');
});

// Each worker builds kernels on its own Heap region of the shared memory, then runs
// gemmNT many times on its own operands at the same time as the other worker.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  const { Heap } = await import(workerData.memoryUrl);
  const { createWasmKernels } = await import(workerData.kernelsUrl);
  const { memory, start, end, M, N, K } = workerData;
  const heap = new Heap(memory, start, end);
  const k = createWasmKernels(heap);
  const A = heap.alloc(M * K), B = heap.alloc(N * K), C = heap.alloc(M * N);
  for (let i = 0; i < A.length; i++) A[i] = Math.sin(i + start);
  for (let i = 0; i < B.length; i++) B[i] = Math.cos(i * 3 + start);
  const ready = new Int32Array(memory.buffer, workerData.ready, 1);
  Atomics.add(ready, 0, 1);
  while (Atomics.load(ready, 0) < 2); // start together
  k.gemmNT(M, N, K, A, B, C, null, false);
  const first = C.slice();
  let unstable = 0;
  for (let r = 0; r < 300; r++) {
    k.gemmNT(M, N, K, A, B, C, null, false);
    for (let i = 0; i < C.length; i++) if (C[i] !== first[i]) { unstable++; break; }
  }
  parentPort.postMessage({ a: A.byteOffset, b: B.byteOffset, c: C.byteOffset, unstable });
})();
`;

test('wasm kernels in two worker threads on one shared memory run concurrently without clobbering', { skip: !available }, async () => {
  const main = new Heap();
  const [M, N, K] = [37, 45, 600];
  const ready = main.alloc(1).byteOffset;
  const regions = [main.reserve(4 << 20), main.reserve(4 << 20)];
  const memoryUrl = new URL('../../../src/core/memory.js', import.meta.url).href;
  const kernelsUrl = new URL('../../../src/core/kernels/wasm.js', import.meta.url).href;
  const results = await Promise.all(regions.map(([start, end]) => new Promise<{ a: number; b: number; c: number; unstable: number }>((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: { memory: main.memory, ready, start, end, M, N, K, memoryUrl, kernelsUrl } });
    w.once('message', (m) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
  })));
  for (const { a, b, c, unstable } of results) {
    assert.equal(unstable, 0, 'a repeated product changed while the other thread ran');
    const want = new Float32Array(M * N);
    jsKernels.gemmNT(M, N, K, main.view(a, M * K), main.view(b, N * K), want, null, false);
    assertClose(main.view(c, M * N), want, K, 'worker result');
  }
});

test('wasm kernels reject operands outside the shared memory', { skip: !available }, () => {
  const heap = new Heap();
  const wasm = createWasmKernels(heap);
  const A = heap.alloc(4), C = heap.alloc(4);
  assert.throws(() => wasm.gemmNN(2, 2, 2, A, new Float32Array(4), C, false), TypeError);
  assert.throws(() => wasm.gemmNN(2, 2, 3, A, A, C, false), RangeError);
});

test('wasm kernels still work on views made before the memory grew', { skip: !available }, () => {
  const heap = new Heap();
  const wasm = createWasmKernels(heap);
  const A = heap.alloc(6), B = heap.alloc(6), C = heap.alloc(4);
  A.set([1, 2, 3, 4, 5, 6]); B.set([1, 0, 0, 1, 1, 1]);
  heap.alloc(4 << 20); // grows the memory: memory.buffer is now a new SharedArrayBuffer
  wasm.gemmNN(2, 2, 3, A, B, C, false);
  assert.deepEqual([...C], [1 + 3, 2 + 3, 4 + 6, 5 + 6]);
});

test('createKernels honours prefer and TRAINYARD_KERNELS', () => {
  const heap = new Heap();
  const saved = process.env.TRAINYARD_KERNELS;
  try {
    delete process.env.TRAINYARD_KERNELS;
    assert.equal(createKernels(heap, 'js').name, 'js');
    assert.equal(createKernels(heap).name, available ? 'wasm-simd' : 'js');
    process.env.TRAINYARD_KERNELS = 'js';
    assert.equal(createKernels(heap).name, 'js');
    if (available) assert.equal(createKernels(heap, 'wasm').name, 'wasm-simd');
    process.env.TRAINYARD_KERNELS = 'fast';
    assert.throws(() => createKernels(heap), /TRAINYARD_KERNELS/);
  } finally {
    if (saved === undefined) delete process.env.TRAINYARD_KERNELS;
    else process.env.TRAINYARD_KERNELS = saved;
  }
});
