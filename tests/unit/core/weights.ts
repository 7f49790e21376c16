// The weights of a safetensors result, and how far two runs' weights are apart: the
// thread-count tests (pool, relaxed kernels) compare runs this way.
import { decodeSafetensors } from '../../../src/core/safetensors.js';

/** Every tensor's values, in tensor-name order. */
export function weightTensors(bytes: Uint8Array): Float32Array[] {
  const f = decodeSafetensors(bytes);
  return [...f.tensors.keys()].sort().map((k) => f.tensors.get(k)!.data as Float32Array);
}

/** max |a − b| / max(1, |a|) over every value of two runs' weights. */
export function worstRelativeDifference(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((t, k) => t.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - b[k][i]) / Math.max(1, Math.abs(v))); }));
  return worst;
}
