import { madd } from './madd';

// The WASM SIMD ceiling: the fastest f32x4 multiply-then-add streams this toolchain
// (AssemblyScript → binaryen → V8) emits, with operands in L1, so a kernel's GFLOP/s
// can be read as a fraction of what the machine can do through WebAssembly at all.
// WebAssembly SIMD has no fused multiply-add, so in the baseline build each c += a·b
// is two instructions and the ceiling is set by how many mul and add V8's code issues
// per cycle; the relaxed build (madd.ts) measures its own, fused, ceiling.
//
// Each function runs `reps` passes over a buffer of `n` f32x4 vectors at `buf` (keep
// it ≤ 16 KiB) and returns a value that depends on every accumulator (so nothing is
// dead code); FLOP per pass are given beside each (bench/kernels.ts counts them).

// 8 accumulators fed by 2 loads and 4 loop-invariant splats per step (14 of the 16
// xmm registers): 8 independent add chains cover the add latency × issue width of
// current x86 cores, and every product is distinct, so nothing folds away.
// FLOP per pass = (n / 2) · 8 · 4 · 2
export function peakStream(buf: usize, n: i32, reps: i32, s: f32): f32 {
  const s0 = f32x4.splat(s), s1 = f32x4.splat(s * 0.5), s2 = f32x4.splat(s * 0.25), s3 = f32x4.splat(s * 0.125);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  const end = buf + (<usize>n << 4);
  for (let r = 0; r < reps; r++) {
    let p = buf;
    do {
      const b0 = v128.load(p, 0), b1 = v128.load(p, 16);
      c0 = madd(s0, b0, c0); c1 = madd(s0, b1, c1);
      c2 = madd(s1, b0, c2); c3 = madd(s1, b1, c3);
      c4 = madd(s2, b0, c4); c5 = madd(s2, b1, c5);
      c6 = madd(s3, b0, c6); c7 = madd(s3, b1, c7);
      p += 32;
    } while (p < end);
  }
  const t = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
}

// The micro-kernel's own loop shape (gemm.ts tile): per step 2 panel loads, 4 splat
// loads, 8 mul+add into 8 accumulators — its ceiling when both operands sit in L1.
// `buf` holds n steps of (4 splat floats, 8 panel floats) = 48 bytes each.
// FLOP per pass = n · 8 · 4 · 2
export function peakTile(buf: usize, n: i32, reps: i32): f32 {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const bp0 = buf + (<usize>n << 4);
  for (let r = 0; r < reps; r++) {
    let ap = buf, bp = bp0;
    const end = bp0 + (<usize>n << 5);
    do {
      const b0 = v128.load(bp, 0), b1 = v128.load(bp, 16);
      const x0 = v128.load32_splat(ap, 0), x1 = v128.load32_splat(ap, 4);
      const x2 = v128.load32_splat(ap, 8), x3 = v128.load32_splat(ap, 12);
      c00 = madd(x0, b0, c00); c01 = madd(x0, b1, c01);
      c10 = madd(x1, b0, c10); c11 = madd(x1, b1, c11);
      c20 = madd(x2, b0, c20); c21 = madd(x2, b1, c21);
      c30 = madd(x3, b0, c30); c31 = madd(x3, b1, c31);
      ap += 16;
      bp += 32;
    } while (bp < end);
  }
  const t = f32x4.add(f32x4.add(f32x4.add(c00, c01), f32x4.add(c10, c11)), f32x4.add(f32x4.add(c20, c21), f32x4.add(c30, c31)));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
}
