// The three matrix products backprop needs, row-major, single precision.
// Operands are Float32Array views into the run's Heap (src/core/memory.ts); a
// WebAssembly implementation addresses them by view.byteOffset in the same memory.
//
// For a dense layer with X (B,in), W (out,in) [nn.Linear layout], Z (B,out):
//   forward        Z  = X · Wᵀ + b   -> gemmNT(B, out, in, X, W, Z, b, false)
//   weight grad    dW = dZᵀ · X      -> gemmTN(out, in, B, dZ, X, dW, accumulate)
//   input grad     dX = dZ · W       -> gemmNN(B, in, out, dZ, W, dX, false)

/**
 * SIMD update passes of the optimizer rules in src/core/optimizers (which remain the
 * reference). Buffers are full-length views into the heap; [from, to) is the range.
 */
export interface OptimizerKernels {
  /** Adam over [from, to); answers Σg² (double precision, sumSquares' order) */
  adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, from: number, to: number,
    beta1: number, beta2: number, stepSize: number, invBiasCorrection2Sqrt: number, eps: number): number;
  rmsprop(p: Float32Array, g: Float32Array, sq: Float32Array, from: number, to: number, alpha: number, lr: number, eps: number): void;
  adagrad(p: Float32Array, g: Float32Array, sum: Float32Array, from: number, to: number, lr: number, eps: number): void;
}

/** Flat-vector passes of the parameter update (update.ts). */
export interface VectorKernels {
  /** Σ g[i]² over [from, to), in double precision */
  sumSquares(g: Float32Array, from: number, to: number): number;
  /** Σ (a[i] − b[i])² over [from, to), in double precision */
  sumSquaredDiff(a: Float32Array, b: Float32Array, from: number, to: number): number;
  /** dst[i] = src[i] for i in [from, to) */
  copy(dst: Float32Array, src: Float32Array, from: number, to: number): void;
  /** ReLU': dA[i] = Z[i] > 0 ? dA[i] : 0 for i < n (dA becomes dZ in place) */
  reluBackward(Z: Float32Array, dA: Float32Array, n: number): void;
  /** db[j] = Σ_r dZ[r·stride + j] over r < rows and j < units, rows summed in order; stride defaults to units */
  columnSums(dZ: Float32Array, rows: number, units: number, db: Float32Array, stride?: number): void;
}

export interface Kernels {
  readonly name: string;
  readonly vector: VectorKernels;
  /** present where a faster implementation of the optimizer updates exists */
  readonly optimizer?: OptimizerKernels;
  /**
   * C(M,N) = A(M,K) · B(N,K)ᵀ [+ bias(N) broadcast over rows] [+ C if accumulate];
   * with reluOut also reluOut = max(C, 0), fused into the product's epilogue
   */
  gemmNT(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array,
    bias: Float32Array | null, accumulate: boolean, reluOut?: Float32Array | null): void;
  /**
   * C(M,N) = A(K,M)ᵀ · B(K,N) [+ C if accumulate], A's k-steps lda floats apart (default
   * M): with lda > M, A is a block of columns of a wider matrix (a block of a layer's
   * units). Each C[i,j] is summed over k in the same order whatever the block.
   */
  gemmTN(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array,
    accumulate: boolean, lda?: number): void;
  /** C(M,N) = A(M,K) · B(K,N) [+ C if accumulate] */
  gemmNN(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array,
    accumulate: boolean): void;
}
