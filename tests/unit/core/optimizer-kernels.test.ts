// The WebAssembly SIMD optimizer update passes against the JS reference optimizers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernels, wasmKernelsAvailable } from '../../../src/core/kernels/index.js';
import { jsVectorKernels } from '../../../src/core/kernels/js.js';
import { Heap } from '../../../src/core/memory.js';
import { createOptimizer as create, type StateAlloc } from '../../../src/core/optimizers/index.js';
import { Stream, normal } from '../../../src/core/rng.js';
import { normalizeOptimizer, type JobSpec } from '../../../src/spec/index.js';

/** An optimizer block as a user writes it; createOptimizer gets it with PyTorch's defaults filled in. */
type OptimizerSpec = JobSpec['optimizer'];
const createOptimizer = (spec: OptimizerSpec, size: number, alloc?: StateAlloc) => create(normalizeOptimizer(spec), size, alloc);

const N = 1037; // not a multiple of 4: exercises the scalar head and tail

const specs: OptimizerSpec[] = [
  { type: 'adam', learningRate: 0.01 },
  { type: 'adam', learningRate: 0.001, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 },
  { type: 'rmsprop', learningRate: 0.01 },
  { type: 'adagrad', learningRate: 0.1 },
];

for (const spec of specs) {
  test(`the SIMD ${spec.type} update matches the JS rule over 5 steps on an unaligned range (${JSON.stringify(spec)})`, { skip: !wasmKernelsAvailable() }, () => {
    const heap = new Heap();
    const kernels = createWasmKernels(heap);
    const run = (simd: boolean): Float32Array => {
      const p = heap.alloc(N), g = heap.alloc(N);
      for (let i = 0; i < N; i++) p[i] = normal(1, Stream.init, 0, 0, i);
      const opt = createOptimizer(spec, N, (n) => heap.alloc(n));
      opt.kernels = simd ? kernels.optimizer! : null;
      for (let t = 1; t <= 5; t++) {
        for (let i = 0; i < N; i++) g[i] = normal(2, Stream.data, t, 0, i);
        opt.step(p, g, t, 3, 1001);
      }
      return p;
    };
    const ref = run(false), fast = run(true);
    // float32 vs float64 arithmetic inside one update: a few float32 ulps of the parameter,
    // far below the update itself (a wrong rule would be off by the update's own size)
    let worst = 0;
    for (let i = 3; i < 1001; i++) {
      const moved = Math.abs(ref[i] - normal(1, Stream.init, 0, 0, i));
      const allowed = 4 * 1.2e-7 * Math.max(1, Math.abs(ref[i])) + 1e-4 * moved;
      worst = Math.max(worst, Math.abs(ref[i] - fast[i]) / allowed);
    }
    assert.ok(worst < 1, `worst difference ${worst} of the allowance`);
    assert.equal(fast[0], ref[0]);
    assert.equal(fast[1010], ref[1010]); // outside [3, 1001): untouched by both
    assert.notEqual(fast[500], normal(1, Stream.init, 0, 0, 500)); // and inside it, moved
  });
}

test('the SIMD sum of squares matches the JS loop', { skip: !wasmKernelsAvailable() }, async () => {
  const { jsVectorKernels } = await import('../../../src/core/kernels/js.js');
  const heap = new Heap();
  const simd = createWasmKernels(heap).vector;
  const a = heap.alloc(N);
  for (let i = 0; i < N; i++) a[i] = normal(3, Stream.data, i);
  const s1 = simd.sumSquares(a, 1, 1033), s2 = jsVectorKernels.sumSquares(a, 1, 1033);
  assert.ok(Math.abs(s1 - s2) < 1e-9 * s2, `${s1} vs ${s2}`);
  assert.equal(simd.sumSquares(a, 7, 7), 0);
});

for (const simd of [true, false]) {
  test(`Adam's one-pass stepMeasured (${simd ? 'SIMD' : 'JS'}) leaves what sumSquares and step leave, bit for bit`, { skip: simd && !wasmKernelsAvailable() }, () => {
    const heap = new Heap();
    const kernels = createWasmKernels(heap);
    const vector = simd ? kernels.vector : jsVectorKernels;
    const spec: OptimizerSpec = { type: 'adam', learningRate: 0.01 };
    const run = (fused: boolean) => {
      const p = heap.alloc(N), g = heap.alloc(N);
      for (let i = 0; i < N; i++) p[i] = normal(1, Stream.init, 0, 0, i);
      const opt = createOptimizer(spec, N, (n) => heap.alloc(n));
      opt.kernels = simd ? kernels.optimizer! : null;
      const sums: number[] = [];
      for (let t = 1; t <= 5; t++) {
        for (let i = 0; i < N; i++) g[i] = normal(2, Stream.data, t, 0, i);
        if (fused) sums.push(opt.stepMeasured!(p, g, t, 3, 1001));
        else {
          sums.push(vector.sumSquares(g, 3, 1001));
          opt.step(p, g, t, 3, 1001);
        }
      }
      return { p: Array.from(p), g: Array.from(g), m: Array.from(opt.state.exp_avg), v: Array.from(opt.state.exp_avg_sq), sums };
    };
    assert.deepEqual(run(true), run(false));
  });
}

test('the SIMD copy and sum of squared differences (update_ratio) match the JS loops', { skip: !wasmKernelsAvailable() }, () => {
  const heap = new Heap();
  const simd = createWasmKernels(heap).vector;
  const a = heap.alloc(N), b = heap.alloc(N), c = heap.alloc(N);
  for (let i = 0; i < N; i++) { a[i] = normal(5, Stream.data, i); b[i] = normal(6, Stream.data, i); c[i] = b[i]; }
  const s1 = simd.sumSquaredDiff(a, b, 3, 1030), s2 = jsVectorKernels.sumSquaredDiff(a, b, 3, 1030);
  let direct = 0;
  for (let i = 3; i < 1030; i++) direct += (a[i] - b[i]) ** 2;
  assert.ok(Math.abs(s1 - direct) < 1e-12 * direct && Math.abs(s2 - direct) < 1e-12 * direct, `${s1}, ${s2} vs ${direct}`);
  simd.copy(b, a, 5, 1031);
  jsVectorKernels.copy(c, a, 5, 1031);
  assert.deepEqual(Array.from(b), Array.from(c));
  assert.equal(b[4], Math.fround(normal(6, Stream.data, 4))); // outside [5, 1031): untouched
  assert.equal(b[1031], Math.fround(normal(6, Stream.data, 1031)));
  assert.equal(b[5], a[5]);
});
