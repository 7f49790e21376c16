// The three matrix products backprop needs, row-major, single precision.
// Operands are Float32Array views into the run's Heap (src/core/memory.ts); a
// WebAssembly implementation addresses them by view.byteOffset in the same memory.
//
// For a dense layer with X (B,in), W (out,in) [nn.Linear layout], Z (B,out):
//   forward        Z  = X · Wᵀ + b   -> gemmNT(B, out, in, X, W, Z, b, false)
//   weight grad    dW = dZᵀ · X      -> gemmTN(out, in, B, dZ, X, dW, accumulate)
//   input grad     dX = dZ · W       -> gemmNN(B, in, out, dZ, W, dX, false)

export interface Kernels {
  readonly name: string;
  /** C(M,N) = A(M,K) · B(N,K)ᵀ [+ bias(N) broadcast over rows] [+ C if accumulate] */
  gemmNT(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array,
    bias: Float32Array | null, accumulate: boolean): void;
  /** C(M,N) = A(K,M)ᵀ · B(K,N) [+ C if accumulate] */
  gemmTN(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array,
    accumulate: boolean): void;
  /** C(M,N) = A(M,K) · B(K,N) [+ C if accumulate] */
  gemmNN(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array,
    accumulate: boolean): void;
}
