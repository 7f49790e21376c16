// WebAssembly SIMD matrix products for the three forms backprop needs (see
// src/core/kernels/types.ts). Compiled by AssemblyScript (scripts/build-wasm.mjs),
// never by tsc. All pointers are byte offsets into the one imported shared memory.
//
// Scheme (GotoBLAS in miniature):
//   for each block of at most KC_MAX steps of k
//     for each panel of NR = 8 columns of C: pack B's panel into scratch as (kc, 8),
//                                            zero-padded, so every form reads it alike
//       for each 4 rows of C: a 4×8 register tile, 8 f32x4 accumulators, updated by
//                             c[i,:] += splat(A[i,k]) · panel[k,:]
// A is read in place: rows of A are contiguous in k for NT and NN; for TN, A(K,M)
// keeps the tile's 4 values of one k contiguous. Packing costs O(N·K) per call
// against O(M·N·K) of arithmetic. Per-instance scratch (given by the caller) holds
// the packed panel and one edge tile, so threads never share it.
//
// The module keeps no static data and no shadow stack: it writes only to C and to
// [scratch, scratch + SCRATCH_BYTES).

const NR: i32 = 8;
const MR: i32 = 4;
/** Longest k-block: a packed panel is KC_MAX·NR floats (16 KiB), at home in L1. */
const KC_MAX: i32 = 512;
const PANEL_BYTES: i32 = KC_MAX * NR * 4;
const TILE_BYTES: i32 = MR * NR * 4;
const SCRATCH: i32 = PANEL_BYTES + TILE_BYTES;

/** Bytes of per-instance scratch every call needs. */
export function scratchBytes(): i32 {
  return SCRATCH;
}

// ---- packing -------------------------------------------------------------------

// panel(k, 0..8) = B[k0+k, j0 .. j0+w] for B(K,N) row-major (ldb bytes per row).
function packKN(b: usize, ldb: usize, kc: i32, w: i32, bp: usize): void {
  if (w == NR) {
    for (let k = 0; k < kc; k++) {
      v128.store(bp, v128.load(b), 0);
      v128.store(bp, v128.load(b, 16), 16);
      b += ldb;
      bp += 32;
    }
    return;
  }
  for (let k = 0; k < kc; k++) {
    v128.store(bp, f32x4.splat(0), 0);
    v128.store(bp, f32x4.splat(0), 16);
    for (let j = 0; j < w; j++) store<f32>(bp + (<usize>j << 2), load<f32>(b + (<usize>j << 2)));
    b += ldb;
    bp += 32;
  }
}

// panel(k, j) = B[j0+j, k0+k] for B(N,K) row-major (ldb bytes per row): a transpose,
// done in 4×4 blocks of shuffles.
function packNK(b: usize, ldb: usize, kc: i32, w: i32, bp: usize): void {
  if (w == NR) {
    let k = 0;
    for (; k + 4 <= kc; k += 4) {
      const o = <usize>k << 2;
      for (let h = 0; h < 2; h++) {
        const r = b + <usize>(h * 4) * ldb + o;
        const r0 = v128.load(r);
        const r1 = v128.load(r + ldb);
        const r2 = v128.load(r + 2 * ldb);
        const r3 = v128.load(r + 3 * ldb);
        const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
        const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        const d = bp + (<usize>k << 5) + <usize>(h << 4);
        v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), 0);
        v128.store(d, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 32);
        v128.store(d, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 64);
        v128.store(d, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 96);
      }
    }
    for (; k < kc; k++) {
      const s = b + (<usize>k << 2);
      const d = bp + (<usize>k << 5);
      for (let j = 0; j < NR; j++) store<f32>(d + (<usize>j << 2), load<f32>(s + <usize>j * ldb));
    }
    return;
  }
  for (let k = 0; k < kc; k++) {
    const s = b + (<usize>k << 2);
    const d = bp + (<usize>k << 5);
    v128.store(d, f32x4.splat(0), 0);
    v128.store(d, f32x4.splat(0), 16);
    for (let j = 0; j < w; j++) store<f32>(d + (<usize>j << 2), load<f32>(s + <usize>j * ldb));
  }
}

// ---- micro-kernels -------------------------------------------------------------

// Finish one row of a tile: optional bias, optional old C, then store 8 floats.
@inline function finishRow(c: usize, lo: v128, hi: v128, bias: usize, acc: i32): void {
  if (bias != 0) {
    lo = f32x4.add(lo, v128.load(bias));
    hi = f32x4.add(hi, v128.load(bias, 16));
  }
  if (acc != 0) {
    lo = f32x4.add(lo, v128.load(c));
    hi = f32x4.add(hi, v128.load(c, 16));
  }
  v128.store(c, lo);
  v128.store(c, hi, 16);
}

// Tile C(4,8) at c (ldc bytes per row) from A rows a0..a3 contiguous in k (NT, NN)
// and the packed panel bp.
function tileRowA(kc: i32, a0: usize, a1: usize, a2: usize, a3: usize, bp: usize,
  c: usize, ldc: usize, bias: usize, acc: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= kc; k += 4) {
    let b0 = v128.load(bp, 0), b1 = v128.load(bp, 16);
    let x = v128.load32_splat(a0, 0); c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a1, 0); c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a2, 0); c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a3, 0); c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
    b0 = v128.load(bp, 32); b1 = v128.load(bp, 48);
    x = v128.load32_splat(a0, 4); c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a1, 4); c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a2, 4); c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a3, 4); c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
    b0 = v128.load(bp, 64); b1 = v128.load(bp, 80);
    x = v128.load32_splat(a0, 8); c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a1, 8); c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a2, 8); c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a3, 8); c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
    b0 = v128.load(bp, 96); b1 = v128.load(bp, 112);
    x = v128.load32_splat(a0, 12); c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a1, 12); c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a2, 12); c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a3, 12); c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
    a0 += 16; a1 += 16; a2 += 16; a3 += 16;
    bp += 128;
  }
  for (; k < kc; k++) {
    const b0 = v128.load(bp, 0), b1 = v128.load(bp, 16);
    let x = v128.load32_splat(a0); c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a1); c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a2); c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a3); c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
    a0 += 4; a1 += 4; a2 += 4; a3 += 4;
    bp += 32;
  }
  finishRow(c, c00, c01, bias, acc);
  finishRow(c + ldc, c10, c11, bias, acc);
  finishRow(c + 2 * ldc, c20, c21, bias, acc);
  finishRow(c + 3 * ldc, c30, c31, bias, acc);
}

// Tile C(4,8) for TN: A(K,M) holds the tile's 4 values of step k contiguously at a,
// and step k+1 lda bytes further.
function tileColA(kc: i32, a: usize, lda: usize, bp: usize,
  c: usize, ldc: usize, bias: usize, acc: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let k = 0;
  for (; k + 2 <= kc; k += 2) {
    let b0 = v128.load(bp, 0), b1 = v128.load(bp, 16);
    let x = v128.load32_splat(a, 0); c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 4); c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 8); c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 12); c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
    a += lda;
    b0 = v128.load(bp, 32); b1 = v128.load(bp, 48);
    x = v128.load32_splat(a, 0); c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 4); c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 8); c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 12); c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
    a += lda;
    bp += 64;
  }
  if (k < kc) {
    const b0 = v128.load(bp, 0), b1 = v128.load(bp, 16);
    let x = v128.load32_splat(a, 0); c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 4); c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 8); c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 12); c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
  }
  finishRow(c, c00, c01, bias, acc);
  finishRow(c + ldc, c10, c11, bias, acc);
  finishRow(c + 2 * ldc, c20, c21, bias, acc);
  finishRow(c + 3 * ldc, c30, c31, bias, acc);
}

// One row of C(1,8): A's values for successive k are `step` bytes apart (4 for rows
// of A, lda for TN's columns). Serves the rows left over when M is not a multiple of 4.
function tileRow(kc: i32, a: usize, step: usize, bp: usize, c: usize, bias: usize, acc: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let d0 = f32x4.splat(0), d1 = f32x4.splat(0);
  let k = 0;
  for (; k + 2 <= kc; k += 2) {
    let x = v128.load32_splat(a);
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load(bp, 0)));
    c1 = f32x4.add(c1, f32x4.mul(x, v128.load(bp, 16)));
    x = v128.load32_splat(a + step);
    d0 = f32x4.add(d0, f32x4.mul(x, v128.load(bp, 32)));
    d1 = f32x4.add(d1, f32x4.mul(x, v128.load(bp, 48)));
    a += step << 1;
    bp += 64;
  }
  if (k < kc) {
    const x = v128.load32_splat(a);
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load(bp, 0)));
    c1 = f32x4.add(c1, f32x4.mul(x, v128.load(bp, 16)));
  }
  finishRow(c, f32x4.add(c0, d0), f32x4.add(c1, d1), bias, acc);
}

// Copy an edge tile (h rows, w columns, row stride 32 bytes) into C, adding bias/C.
function storeEdge(t: usize, h: i32, w: i32, c: usize, ldc: usize, bias: usize, acc: i32): void {
  for (let i = 0; i < h; i++) {
    const s = t + (<usize>i << 5);
    const d = c + <usize>i * ldc;
    for (let j = 0; j < w; j++) {
      const o = <usize>j << 2;
      let v = load<f32>(s + o);
      if (bias != 0) v += load<f32>(bias + o);
      if (acc != 0) v += load<f32>(d + o);
      store<f32>(d + o, v);
    }
  }
}

// ---- driver --------------------------------------------------------------------

const FORM_NT: i32 = 0;
const FORM_TN: i32 = 1;
const FORM_NN: i32 = 2;

function gemm(form: i32, M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, bias: usize,
  accumulate: i32, scratch: usize): void {
  if (M <= 0 || N <= 0) return;
  const bp = scratch;
  const tile = scratch + PANEL_BYTES;
  const ldc = <usize>N << 2;
  if (K <= 0) { // C = bias (+ C): no products at all
    for (let i = 0; i < M; i++) {
      const d = c + <usize>i * ldc;
      for (let j = 0; j < N; j++) {
        const o = <usize>j << 2;
        let v: f32 = bias != 0 ? load<f32>(bias + o) : 0;
        if (accumulate != 0) v += load<f32>(d + o);
        store<f32>(d + o, v);
      }
    }
    return;
  }
  // Split K evenly into blocks of at most KC_MAX (multiples of 4 but the last).
  const nkb = (K + KC_MAX - 1) / KC_MAX;
  const kcb = (((K + nkb - 1) / nkb) + 3) & ~3;
  const rowA = form != FORM_TN;
  const lda: usize = rowA ? <usize>K << 2 : <usize>M << 2; // bytes between rows (NT, NN) or k-steps (TN)
  const ldb: usize = form == FORM_NT ? <usize>K << 2 : <usize>N << 2;
  for (let k0 = 0; k0 < K; k0 += kcb) {
    const kc = min(kcb, K - k0);
    const acc = k0 == 0 ? accumulate : 1;
    const bs: usize = k0 == 0 ? bias : 0;
    for (let j0 = 0; j0 < N; j0 += NR) {
      const w = min(NR, N - j0);
      if (form == FORM_NT) packNK(b + <usize>j0 * ldb + (<usize>k0 << 2), ldb, kc, w, bp);
      else packKN(b + <usize>k0 * ldb + (<usize>j0 << 2), ldb, kc, w, bp);
      const bj: usize = bs != 0 ? bs + (<usize>j0 << 2) : 0;
      let i0 = 0;
      for (; i0 + MR <= M; i0 += MR) {
        const ct = c + <usize>i0 * ldc + (<usize>j0 << 2);
        const full = w == NR;
        const out = full ? ct : tile;
        const ldo: usize = full ? ldc : 32;
        if (rowA) {
          const a0 = a + <usize>i0 * lda + (<usize>k0 << 2);
          tileRowA(kc, a0, a0 + lda, a0 + 2 * lda, a0 + 3 * lda, bp, out, ldo, full ? bj : 0, full ? acc : 0);
        } else {
          tileColA(kc, a + <usize>k0 * lda + (<usize>i0 << 2), lda, bp, out, ldo, full ? bj : 0, full ? acc : 0);
        }
        if (!full) storeEdge(tile, MR, w, ct, ldc, bj, acc);
      }
      for (; i0 < M; i0++) {
        const ct = c + <usize>i0 * ldc + (<usize>j0 << 2);
        const ar = rowA ? a + <usize>i0 * lda + (<usize>k0 << 2) : a + <usize>k0 * lda + (<usize>i0 << 2);
        const step: usize = rowA ? 4 : lda;
        if (w == NR) tileRow(kc, ar, step, bp, ct, bj, acc);
        else {
          tileRow(kc, ar, step, bp, tile, 0, 0);
          storeEdge(tile, 1, w, ct, ldc, bj, acc);
        }
      }
    }
  }
}

/** C(M,N) = A(M,K) · B(N,K)ᵀ [+ bias(N)] [+ C]; bias = 0 means none. */
export function gemmNT(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, bias: usize,
  accumulate: i32, scratch: usize): void {
  gemm(FORM_NT, M, N, K, a, b, c, bias, accumulate, scratch);
}

/** C(M,N) = A(K,M)ᵀ · B(K,N) [+ C]. */
export function gemmTN(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize,
  accumulate: i32, scratch: usize): void {
  gemm(FORM_TN, M, N, K, a, b, c, 0, accumulate, scratch);
}

/** C(M,N) = A(M,K) · B(K,N) [+ C]. */
export function gemmNN(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize,
  accumulate: i32, scratch: usize): void {
  gemm(FORM_NN, M, N, K, a, b, c, 0, accumulate, scratch);
}
