import type { Kernels, VectorKernels } from './types.js';

// Plain-JS reference kernels: the fallback where WebAssembly SIMD is unavailable and
// the oracle the fast kernels are tested against. Loop orders keep the innermost
// loop on contiguous memory.

// C(M,N) = A(M,K) · B(N,K)ᵀ: every C[i,j] is a dot product of two contiguous rows.
function gemmNT(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array,
  bias: Float32Array | null, accumulate: boolean, reluOut: Float32Array | null = null): void {
  gemmNTPlain(M, N, K, A, B, C, bias, accumulate);
  if (reluOut) for (let i = 0; i < M * N; i++) { const z = C[i]; reluOut[i] = z > 0 || z !== z ? z : 0; }
}

function gemmNTPlain(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array,
  bias: Float32Array | null, accumulate: boolean): void {
  for (let i = 0; i < M; i++) {
    const a0 = i * K;
    const c0 = i * N;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const a = A[a0 + k];
        s0 += a * B[b0 + k]; s1 += a * B[b1 + k]; s2 += a * B[b2 + k]; s3 += a * B[b3 + k];
      }
      if (bias !== null) { s0 += bias[j]; s1 += bias[j + 1]; s2 += bias[j + 2]; s3 += bias[j + 3]; }
      if (accumulate) { C[c0 + j] += s0; C[c0 + j + 1] += s1; C[c0 + j + 2] += s2; C[c0 + j + 3] += s3; }
      else { C[c0 + j] = s0; C[c0 + j + 1] = s1; C[c0 + j + 2] = s2; C[c0 + j + 3] = s3; }
    }
    for (; j < N; j++) {
      const b0 = j * K;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a0 + k] * B[b0 + k];
      if (bias !== null) s += bias[j];
      C[c0 + j] = accumulate ? C[c0 + j] + s : s;
    }
  }
}

// C(M,N) = A(K,M)ᵀ · B(K,N), A's k-steps lda apart: rank-1 updates C[i,:] += A[k,i] · B[k,:].
function gemmTN(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array,
  accumulate: boolean, lda = M): void {
  if (!accumulate) C.fill(0, 0, M * N);
  for (let k = 0; k < K; k++) {
    const b0 = k * N;
    for (let i = 0; i < M; i++) {
      const a = A[k * lda + i];
      if (a === 0) continue; // ReLU zeros are common in dZ
      const c0 = i * N;
      for (let j = 0; j < N; j++) C[c0 + j] += a * B[b0 + j];
    }
  }
}

// C(M,N) = A(M,K) · B(K,N): C[i,:] += A[i,k] · B[k,:].
function gemmNN(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array,
  accumulate: boolean): void {
  if (!accumulate) C.fill(0, 0, M * N);
  for (let i = 0; i < M; i++) {
    const c0 = i * N;
    for (let k = 0; k < K; k++) {
      const a = A[i * K + k];
      if (a === 0) continue;
      const b0 = k * N;
      for (let j = 0; j < N; j++) C[c0 + j] += a * B[b0 + j];
    }
  }
}

export const jsVectorKernels: VectorKernels = {
  reluBackward(Z, dA, n) { for (let i = 0; i < n; i++) if (!(Z[i] > 0)) dA[i] = 0; },
  columnSums(dZ, rows, units, db, stride = units) {
    db.fill(0, 0, units);
    for (let r = 0; r < rows * stride; r += stride) for (let j = 0; j < units; j++) db[j] += dZ[r + j];
  },
  sumSquaredDiff(a, b, from, to) {
    let s = 0;
    for (let i = from; i < to; i++) { const d = a[i] - b[i]; s += d * d; }
    return s;
  },
  copy(dst, src, from, to) { for (let i = from; i < to; i++) dst[i] = src[i]; },
  sumSquares(g, from, to) {
    let s = 0;
    for (let i = from; i < to; i++) s += g[i] * g[i];
    return s;
  },
};

export const jsKernels: Kernels = { name: 'js', gemmNT, gemmTN, gemmNN, vector: jsVectorKernels };
