import type { Heap } from '../memory.js';
import { jsKernels } from './js.js';
import type { Kernels } from './types.js';
import { createWasmKernels, wasmKernelsAvailable } from './wasm.js';

export type { Kernels } from './types.js';
export { jsKernels } from './js.js';
export { createWasmKernels, gemmModule, wasmKernelsAvailable } from './wasm.js';

export type KernelsChoice = 'wasm' | 'js';

/**
 * The fastest kernels this runtime supports, with any scratch taken from `heap`
 * (call once per thread, each with its own Heap region). `prefer`, else the
 * environment variable TRAINYARD_KERNELS (`wasm` | `js`), forces a choice; asking for
 * wasm where WebAssembly SIMD is missing is an error, not a silent fallback.
 */
export function createKernels(heap: Heap, prefer?: KernelsChoice): Kernels {
  const env = process.env.TRAINYARD_KERNELS;
  if (prefer === undefined && env !== undefined && env !== '') {
    if (env !== 'wasm' && env !== 'js') throw new Error(`TRAINYARD_KERNELS must be "wasm" or "js", not "${env}"`);
    prefer = env;
  }
  if (prefer === 'js') return jsKernels;
  if (wasmKernelsAvailable()) return createWasmKernels(heap);
  if (prefer === 'wasm') throw new Error('WebAssembly SIMD kernels are unavailable in this runtime (need 128-bit SIMD and shared memory)');
  return jsKernels;
}
