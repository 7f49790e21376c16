// The one multiply-add of the micro-kernel and the peak streams.

// c + a·b. The baseline build (gemm.wasm) multiplies, then adds; the relaxed build
// (gemm-relaxed.wasm, compiled with --enable relaxed-simd) emits f32x4.relaxed_madd,
// which V8 lowers to one fused multiply-add where the CPU has FMA (one rounding
// instead of two, so its sums differ from the baseline's in the last bits).
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}
