// WebAssembly SIMD matrix products for the three forms backprop needs (see
// src/core/kernels/types.ts). Compiled by AssemblyScript (scripts/build-wasm.mjs),
// never by tsc. All pointers are byte offsets into the one imported shared memory.
//
// Scheme (GotoBLAS in miniature):
//   for each block of at most KC_MAX steps of k
//     for each block of at most MC rows of C: pack A's block as 4-row tiles (kc, 4)
//       for each panel of NR = 8 columns: pack B's panel as (kc, 8), zero-padded
//         for each 4 rows: a 4×8 register tile, 8 f32x4 accumulators, updated by
//                          c[i,:] += splat(A[i,k]) · panel[k,:]
// Packing is where the three forms differ (NT transposes B's panel, NT and NN
// transpose A's tiles, TN copies them); the micro-kernel is one and the same, so the
// transposed products run exactly as fast as the plain one. Packing costs
// O((M + N)·K) per call against O(M·N·K) of arithmetic. Per-instance scratch (given
// by the caller) holds the packed blocks and one edge tile, so threads never share it.
//
// The module keeps no static data and no shadow stack: it writes only to C and to
// [scratch, scratch + SCRATCH_BYTES).

import { madd } from './madd';

const NR: i32 = 8;
const MR: i32 = 4;
/** Longest k-block: a packed panel is KC_MAX·NR floats (16 KiB), at home in L1. */
const KC_MAX: i32 = 512;
/**
 * Rows of A packed at a time: an A block is MC·KC_MAX floats (256 KiB), at home in L2,
 * and a 128-row batch is one block, so each B panel is packed once per k-block. Against
 * MC = 64, the 128-row products of the reference workload ran 2–4% faster (min of 30
 * interleaved trials per product, in one process); the 64-row ones are the same.
 */
const MC: i32 = 128;
const PANEL_BYTES: i32 = KC_MAX * NR * 4;
const A_BYTES: i32 = MC * KC_MAX * 4;
const TILE_BYTES: i32 = MR * NR * 4;
const SCRATCH: i32 = PANEL_BYTES + A_BYTES + TILE_BYTES;

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

// A block: rows i0..i0+mc of A for steps k0..k0+kc, as mc/4 tiles of (kc, 4), rows past
// M zero. NT, NN: A(M,K) row-major (lda bytes per row), so each tile is a transpose.
function packRowA(a: usize, lda: usize, mc: i32, kc: i32, ap: usize): void {
  for (let i = 0; i < mc; i += MR) {
    const h = min(MR, mc - i);
    const r = a + <usize>i * lda;
    let k = 0;
    if (h == MR) {
      for (; k + 4 <= kc; k += 4) {
        const s = r + (<usize>k << 2);
        const r0 = v128.load(s);
        const r1 = v128.load(s + lda);
        const r2 = v128.load(s + 2 * lda);
        const r3 = v128.load(s + 3 * lda);
        const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
        const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        const d = ap + (<usize>k << 4);
        v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), 0);
        v128.store(d, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 16);
        v128.store(d, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 32);
        v128.store(d, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 48);
      }
    }
    for (; k < kc; k++) {
      const d = ap + (<usize>k << 4);
      v128.store(d, f32x4.splat(0));
      for (let l = 0; l < h; l++) store<f32>(d + (<usize>l << 2), load<f32>(r + <usize>l * lda + (<usize>k << 2)));
    }
    ap += <usize>kc << 4;
  }
}

// The same for TN: A(K,M) (lda bytes per k), where a tile's 4 values of one k are
// already contiguous.
function packColA(a: usize, lda: usize, mc: i32, kc: i32, ap: usize): void {
  for (let i = 0; i < mc; i += MR) {
    const h = min(MR, mc - i);
    let s = a + (<usize>i << 2);
    if (h == MR) {
      for (let k = 0; k < kc; k++) {
        v128.store(ap, v128.load(s));
        s += lda;
        ap += 16;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        v128.store(ap, f32x4.splat(0));
        for (let l = 0; l < h; l++) store<f32>(ap + (<usize>l << 2), load<f32>(s + (<usize>l << 2)));
        s += lda;
        ap += 16;
      }
    }
  }
}

// ---- micro-kernel --------------------------------------------------------------


// Finish one row of a tile: optional bias, optional old C, then store 8 floats; with
// relu = (byte distance from C to the activation buffer A) also A = max(C, 0), the
// fused epilogue that spares the layer a pass over Z (wasm's max keeps NaN a NaN).
@inline function finishRow(c: usize, lo: v128, hi: v128, bias: usize, acc: i32, relu: usize): void {
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
  if (relu != 0) {
    const zero = f32x4.splat(0);
    v128.store(c + relu, f32x4.max(lo, zero));
    v128.store(c + relu, f32x4.max(hi, zero), 16);
  }
}

// Tile C(4,8) at c (ldc bytes per row) = packed A tile (kc,4) · packed panel (kc,8).
// One k per iteration on purpose: V8 hoists the loads of an unrolled body and then
// spills accumulators; this loop keeps 8 accumulators, 2 panel vectors and 4 splats
// in 14 of the 16 xmm registers, and packing A leaves only two pointers to advance.
function tile(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, bias: usize, acc: i32, relu: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = bp + (<usize>kc << 5);
  do {
    const b0 = v128.load(bp, 0), b1 = v128.load(bp, 16);
    const x0 = v128.load32_splat(ap, 0);
    const x1 = v128.load32_splat(ap, 4);
    const x2 = v128.load32_splat(ap, 8);
    const x3 = v128.load32_splat(ap, 12);
    c00 = madd(x0, b0, c00); c01 = madd(x0, b1, c01);
    c10 = madd(x1, b0, c10); c11 = madd(x1, b1, c11);
    c20 = madd(x2, b0, c20); c21 = madd(x2, b1, c21);
    c30 = madd(x3, b0, c30); c31 = madd(x3, b1, c31);
    ap += 16;
    bp += 32;
  } while (bp < end);
  finishRow(c, c00, c01, bias, acc, relu);
  finishRow(c + ldc, c10, c11, bias, acc, relu);
  finishRow(c + 2 * ldc, c20, c21, bias, acc, relu);
  finishRow(c + 3 * ldc, c30, c31, bias, acc, relu);
}

// Copy an edge tile (h rows, w columns, row stride 32 bytes) into C, adding bias/C.
function storeEdge(t: usize, h: i32, w: i32, c: usize, ldc: usize, bias: usize, acc: i32, relu: usize): void {
  for (let i = 0; i < h; i++) {
    const s = t + (<usize>i << 5);
    const d = c + <usize>i * ldc;
    for (let j = 0; j < w; j++) {
      const o = <usize>j << 2;
      let v = load<f32>(s + o);
      if (bias != 0) v += load<f32>(bias + o);
      if (acc != 0) v += load<f32>(d + o);
      store<f32>(d + o, v);
      if (relu != 0) store<f32>(d + o + relu, v > 0 ? v : (v != v ? v : 0));
    }
  }
}

// ---- driver --------------------------------------------------------------------

const FORM_NT: i32 = 0;
const FORM_TN: i32 = 1;
const FORM_NN: i32 = 2;

function gemm(form: i32, M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, bias: usize,
  accumulate: i32, scratch: usize, out: usize, ldaTN: i32): void {
  const relu: usize = out != 0 ? out - c : 0; // offsets wrap, so out below c works too
  if (M <= 0 || N <= 0) return;
  const bp = scratch;
  const ap = scratch + PANEL_BYTES;
  const edge = ap + A_BYTES;
  const ldc = <usize>N << 2;
  if (K <= 0) { // C = bias (+ C): no products at all
    for (let i = 0; i < M; i++) {
      const d = c + <usize>i * ldc;
      for (let j = 0; j < N; j++) {
        const o = <usize>j << 2;
        let v: f32 = bias != 0 ? load<f32>(bias + o) : 0;
        if (accumulate != 0) v += load<f32>(d + o);
        store<f32>(d + o, v);
        if (relu != 0) store<f32>(d + o + relu, v > 0 ? v : (v != v ? v : 0));
      }
    }
    return;
  }
  // Split K evenly into blocks of at most KC_MAX (multiples of 4 but the last).
  const nkb = (K + KC_MAX - 1) / KC_MAX;
  const kcb = (((K + nkb - 1) / nkb) + 3) & ~3;
  const rowA = form != FORM_TN;
  const lda: usize = rowA ? <usize>K << 2 : <usize>ldaTN << 2; // bytes between rows (NT, NN) or k-steps (TN)
  const ldb: usize = form == FORM_NT ? <usize>K << 2 : <usize>N << 2;
  for (let k0 = 0; k0 < K; k0 += kcb) {
    const kc = min(kcb, K - k0);
    const acc = k0 == 0 ? accumulate : 1;
    const bs: usize = k0 == 0 ? bias : 0;
    const rl: usize = k0 + kc >= K ? relu : 0; // the activation only once C is complete
    for (let m0 = 0; m0 < M; m0 += MC) {
      const mc = min(MC, M - m0);
      if (rowA) packRowA(a + <usize>m0 * lda + (<usize>k0 << 2), lda, mc, kc, ap);
      else packColA(a + <usize>k0 * lda + (<usize>m0 << 2), lda, mc, kc, ap);
      for (let j0 = 0; j0 < N; j0 += NR) {
        const w = min(NR, N - j0);
        if (form == FORM_NT) packNK(b + <usize>j0 * ldb + (<usize>k0 << 2), ldb, kc, w, bp);
        else packKN(b + <usize>k0 * ldb + (<usize>j0 << 2), ldb, kc, w, bp);
        const bj: usize = bs != 0 ? bs + (<usize>j0 << 2) : 0;
        for (let i = 0; i < mc; i += MR) {
          const h = min(MR, mc - i);
          const ct = c + <usize>(m0 + i) * ldc + (<usize>j0 << 2);
          const at = ap + <usize>i * (<usize>kc << 2);
          if (h == MR && w == NR) tile(kc, at, bp, ct, ldc, bj, acc, rl);
          else {
            tile(kc, at, bp, edge, 32, 0, 0, 0);
            storeEdge(edge, h, w, ct, ldc, bj, acc, rl);
          }
        }
      }
    }
  }
}

/** C(M,N) = A(M,K) · B(N,K)ᵀ [+ bias(N)] [+ C]; bias = 0 means none. reluOut ≠ 0: also reluOut = max(C, 0). */
export function gemmNT(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, bias: usize,
  accumulate: i32, scratch: usize, reluOut: usize): void {
  gemm(FORM_NT, M, N, K, a, b, c, bias, accumulate, scratch, reluOut, 0);
}

/**
 * C(M,N) = A(K,M)ᵀ · B(K,N) [+ C], A's k-steps lda floats apart (≥ M): columns of a
 * wider matrix, so a thread can take a block of a layer's units. Each C[i,j] is summed
 * over k in the same order whatever M and the block's first column are.
 */
export function gemmTN(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize,
  accumulate: i32, scratch: usize, lda: i32): void {
  gemm(FORM_TN, M, N, K, a, b, c, 0, accumulate, scratch, 0, lda);
}

/** C(M,N) = A(M,K) · B(K,N) [+ C]. */
export function gemmNN(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize,
  accumulate: i32, scratch: usize): void {
  gemm(FORM_NN, M, N, K, a, b, c, 0, accumulate, scratch, 0, 0);
}

// The optimizers' update passes live beside the matrix products so one module serves a thread.
export { adamUpdate, rmspropUpdate, adagradUpdate, sumSquares, sumSquaredDiff, copyRange } from './optim';
export { reluBackward, columnSums } from './elementwise';

// The ceiling streams bench/kernels.ts measures kernels against.
export { peakStream, peakTile } from './peak';
