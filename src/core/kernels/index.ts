import type { Heap } from '../memory.js';
import { jsKernels } from './js.js';
import type { Kernels } from './types.js';
import { createWasmKernels, relaxedSimdAvailable, wasmKernelsAvailable } from './wasm.js';

export type { Kernels } from './types.js';
export { jsKernels } from './js.js';
export { createWasmKernels, gemmModule, relaxedSimdAvailable, wasmKernelsAvailable, type WasmVariant } from './wasm.js';

export type KernelsChoice = 'wasm' | 'wasm-relaxed' | 'js';
const CHOICES: readonly string[] = ['wasm', 'wasm-relaxed', 'js'];

/**
 * The fastest kernels this runtime supports, with any scratch taken from `heap`
 * (call once per thread, each with its own Heap region). `prefer`, else the
 * environment variable TRAINYARD_KERNELS (`wasm` | `wasm-relaxed` | `js`), forces a
 * choice; asking for wasm where WebAssembly SIMD is missing, or for wasm-relaxed (the
 * fused multiply-add build, optional: Node 20 has it only behind a V8 flag, which this
 * turns on) where relaxed SIMD is missing, is an error, not a silent fallback. Every
 * thread of a run must make the same choice (TRAINYARD_KERNELS is the process's), or
 * results would differ in the last bits between thread counts.
 */
/** The choice that makes `k` again on another thread (createKernels(heap, kernelsChoice(k))). */
export function kernelsChoice(k: Kernels): KernelsChoice {
  return k.name === 'js' ? 'js' : k.name === 'wasm-relaxed-simd' ? 'wasm-relaxed' : 'wasm';
}

export function createKernels(heap: Heap, prefer?: KernelsChoice): Kernels {
  const env = process.env.TRAINYARD_KERNELS;
  if (prefer === undefined && env !== undefined && env !== '') {
    if (!CHOICES.includes(env)) throw new Error(`TRAINYARD_KERNELS must be "wasm", "wasm-relaxed" or "js", not "${env}"`);
    prefer = env as KernelsChoice;
  }
  if (prefer === 'js') return jsKernels;
  if (prefer === 'wasm-relaxed') {
    if (relaxedSimdAvailable()) return createWasmKernels(heap, 'relaxed');
    throw new Error('relaxed-SIMD WebAssembly kernels are unavailable in this runtime (need relaxed SIMD, 128-bit SIMD and shared memory)');
  }
  if (wasmKernelsAvailable()) return createWasmKernels(heap);
  if (prefer === 'wasm') throw new Error('WebAssembly SIMD kernels are unavailable in this runtime (need 128-bit SIMD and shared memory)');
  return jsKernels;
}
