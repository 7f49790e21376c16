import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { Heap } from '../memory.js';
import type { Kernels } from './types.js';

// WebAssembly SIMD kernels (source: ./assembly/gemm.ts, built by scripts/build-wasm.mjs
// into gemm.wasm next to this file's compiled output). The module imports the run's
// shared memory, so operands are passed as byte offsets and never copied.
//
// Precondition for every operand: it is a Float32Array view into the shared memory of
// the Heap the kernels were created with. A grown shared memory hands out a new
// SharedArrayBuffer object for the same bytes, so identity with memory.buffer cannot
// be demanded; the check below accepts any SharedArrayBuffer view that lies within
// the memory's current size and rejects everything else (plain ArrayBuffers,
// views past the end).

interface GemmExports {
  scratchBytes(): number;
  gemmNT(M: number, N: number, K: number, a: number, b: number, c: number, bias: number,
    accumulate: number, scratch: number, reluOut: number): void;
  gemmTN(M: number, N: number, K: number, a: number, b: number, c: number,
    accumulate: number, scratch: number, lda: number): void;
  gemmNN(M: number, N: number, K: number, a: number, b: number, c: number,
    accumulate: number, scratch: number): void;
  adamUpdate(p: number, g: number, m: number, v: number, from: number, to: number,
    b1: number, b2: number, stepSize: number, invBc2Sqrt: number, eps: number): number;
  rmspropUpdate(p: number, g: number, sq: number, from: number, to: number, alpha: number, lr: number, eps: number): void;
  adagradUpdate(p: number, g: number, sum: number, from: number, to: number, lr: number, eps: number): void;
  sumSquares(g: number, from: number, to: number): number;
  sumSquaredDiff(a: number, b: number, from: number, to: number): number;
  copyRange(dst: number, src: number, from: number, to: number): void;
  reluBackward(z: number, da: number, n: number): void;
  columnSums(dz: number, rows: number, units: number, db: number, stride: number): void;
}

/**
 * baseline: WebAssembly SIMD as Node 20 ships it (multiply, then add). relaxed: the
 * same source built with relaxed SIMD (assembly/madd.ts), whose f32x4.relaxed_madd is
 * a fused multiply-add on x86 with FMA; Node 20's V8 has it only behind
 * --experimental-wasm-relaxed-simd, so it is an optional path, never the default.
 */
export type WasmVariant = 'baseline' | 'relaxed';

const WASM_URLS: Record<WasmVariant, URL> = {
  baseline: new URL('./gemm.wasm', import.meta.url),
  relaxed: new URL('./gemm-relaxed.wasm', import.meta.url),
};
const compiled: Partial<Record<WasmVariant, WebAssembly.Module>> = {};

/** The kernels' module, compiled once per thread (a worker may also be handed one). */
export function gemmModule(variant: WasmVariant = 'baseline'): WebAssembly.Module {
  return (compiled[variant] ??= new WebAssembly.Module(readFileSync(WASM_URLS[variant])));
}

let relaxed: boolean | null = null;

/**
 * True when this runtime compiles the relaxed build. Where V8 does not ship relaxed
 * SIMD yet (Node 20), this turns on --experimental-wasm-relaxed-simd for the process
 * first (V8 reads it when it validates a module, and worker threads share the flag),
 * so call it only when the relaxed path is wanted.
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxed === null) {
    const bytes = readFileSync(WASM_URLS.relaxed);
    if (!WebAssembly.validate(bytes)) setFlagsFromString('--experimental-wasm-relaxed-simd');
    relaxed = WebAssembly.validate(bytes) && wasmKernelsAvailable();
    if (relaxed) compiled.relaxed ??= new WebAssembly.Module(bytes); // read once: gemmModule('relaxed') reuses it
  }
  return relaxed;
}

let available: boolean | null = null;

/** True when this runtime compiles the kernels (needs 128-bit SIMD and shared memory). */
export function wasmKernelsAvailable(): boolean {
  if (available === null) {
    try {
      gemmModule();
      available = typeof SharedArrayBuffer === 'function';
    } catch {
      available = false;
    }
  }
  return available;
}

/**
 * Kernels running in their own instance of the module over `heap.memory`, with their
 * packing scratch allocated from `heap`: give every thread its own Heap region and its
 * own createWasmKernels, and they can run at the same time on the same memory.
 */
export function createWasmKernels(heap: Heap, variant: WasmVariant = 'baseline'): Kernels {
  const module = gemmModule(variant);
  const memory = heap.memory;
  const wasm = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as GemmExports;
  const scratch = heap.alloc(Math.ceil(wasm.scratchBytes() / 4)).byteOffset;
  let known: ArrayBufferLike = memory.buffer;

  // Byte offset of `v`, after checking it holds n floats inside the shared memory.
  function at(v: Float32Array, n: number, name: string): number {
    if (v.length < n) throw new RangeError(`${name} has ${v.length} floats, the product needs ${n}`);
    const buf = v.buffer;
    if (buf !== known) {
      const current = memory.buffer as ArrayBufferLike;
      if (buf === current) known = current;
      else if (!(buf instanceof SharedArrayBuffer) || v.byteOffset + v.byteLength > current.byteLength) {
        throw new TypeError(`${name} is not a view into the heap's shared WebAssembly.Memory`);
      }
    }
    return v.byteOffset;
  }

  return {
    name: variant === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd',
    gemmNT(M, N, K, A, B, C, bias, accumulate, reluOut = null) {
      wasm.gemmNT(M, N, K, at(A, M * K, 'A'), at(B, N * K, 'B'), at(C, M * N, 'C'),
        bias === null ? 0 : at(bias, N, 'bias'), accumulate ? 1 : 0, scratch, reluOut ? at(reluOut, M * N, 'reluOut') : 0);
    },
    gemmTN(M, N, K, A, B, C, accumulate, lda = M) {
      if (lda < M) throw new RangeError(`lda ${lda} < M ${M}`);
      wasm.gemmTN(M, N, K, at(A, K > 0 ? (K - 1) * lda + M : 0, 'A'), at(B, K * N, 'B'), at(C, M * N, 'C'), accumulate ? 1 : 0, scratch, lda);
    },
    gemmNN(M, N, K, A, B, C, accumulate) {
      wasm.gemmNN(M, N, K, at(A, M * K, 'A'), at(B, K * N, 'B'), at(C, M * N, 'C'), accumulate ? 1 : 0, scratch);
    },
    vector: {
      sumSquares(g, from, to) { return wasm.sumSquares(at(g, to, 'g'), from, to); },
      sumSquaredDiff(a, b, from, to) { return wasm.sumSquaredDiff(at(a, to, 'a'), at(b, to, 'b'), from, to); },
      copy(dst, src, from, to) { wasm.copyRange(at(dst, to, 'dst'), at(src, to, 'src'), from, to); },
      reluBackward(Z, dA, n) { wasm.reluBackward(at(Z, n, 'Z'), at(dA, n, 'dA'), n); },
      columnSums(dZ, rows, units, db, stride = units) {
        if (stride < units) throw new RangeError(`stride ${stride} < units ${units}`);
        wasm.columnSums(at(dZ, rows > 0 ? (rows - 1) * stride + units : 0, 'dZ'), rows, units, at(db, units, 'db'), stride);
      },
    },
    optimizer: {
      adam(p, g, m, v, from, to, b1, b2, stepSize, invBc2Sqrt, eps) {
        return wasm.adamUpdate(at(p, to, 'params'), at(g, to, 'grads'), at(m, to, 'exp_avg'), at(v, to, 'exp_avg_sq'), from, to, b1, b2, stepSize, invBc2Sqrt, eps);
      },
      rmsprop(p, g, sq, from, to, alpha, lr, eps) {
        wasm.rmspropUpdate(at(p, to, 'params'), at(g, to, 'grads'), at(sq, to, 'square_avg'), from, to, alpha, lr, eps);
      },
      adagrad(p, g, sum, from, to, lr, eps) {
        wasm.adagradUpdate(at(p, to, 'params'), at(g, to, 'grads'), at(sum, to, 'sum'), from, to, lr, eps);
      },
    },
  };
}
