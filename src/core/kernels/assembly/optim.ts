// The optimizers' update passes over [from, to) of the flat parameter buffer, f32x4 at a time, the
// same update rules as src/core/optimizers/*.ts (which stay the readable reference
// and the fallback). Pointers are byte offsets of element 0 of each buffer.

// Adam on the four floats at p, m, v with gradient gi (the constants splatted by the caller)
@inline function adamFour(p: usize, m: usize, v: usize, gi: v128, vb1: v128, vb1c: v128, vb2: v128, vb2c: v128,
  vss: v128, vbc: v128, veps: v128): void {
  const mi = f32x4.add(f32x4.mul(vb1, v128.load(m)), f32x4.mul(vb1c, gi));
  const vi = f32x4.add(f32x4.mul(vb2, v128.load(v)), f32x4.mul(vb2c, f32x4.mul(gi, gi)));
  v128.store(m, mi);
  v128.store(v, vi);
  const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vi), vbc), veps);
  v128.store(p, f32x4.sub(v128.load(p), f32x4.div(f32x4.mul(vss, mi), denom)));
}

@inline function adamOne(p: usize, g: usize, m: usize, v: usize, i: i32, b1: f32, b2: f32, stepSize: f32, invBc2Sqrt: f32, eps: f32): void {
  const o = <usize>i << 2;
  const gi = load<f32>(g + o);
  const mi = b1 * load<f32>(m + o) + (1 - b1) * gi;
  const vi = b2 * load<f32>(v + o) + (1 - b2) * gi * gi;
  store<f32>(m + o, mi);
  store<f32>(v + o, vi);
  store<f32>(p + o, load<f32>(p + o) - stepSize * mi / (Mathf.sqrt(vi) * invBc2Sqrt + eps));
}

// Adam:  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  p −= stepSize·m / (√v / √(1−β2^t) + ε)
//        with stepSize = lr / (1 − β1^t) — PyTorch's arrangement of the bias corrections —
// over [from, to). Returns Σg², summed in sumSquares' order (so grad_norm is the same
// number either way): one pass instead of sumSquares + the step; the sum ignored is the
// plain step.
export function adamUpdate(p: usize, g: usize, m: usize, v: usize, from: i32, to: i32,
  b1: f32, b2: f32, stepSize: f32, invBc2Sqrt: f32, eps: f32): f64 {
  const vb1 = f32x4.splat(b1), vb1c = f32x4.splat(1 - b1), vb2 = f32x4.splat(b2), vb2c = f32x4.splat(1 - b2);
  const vss = f32x4.splat(stepSize), vbc = f32x4.splat(invBc2Sqrt), veps = f32x4.splat(eps);
  let acc = f64x2.splat(0);
  let s: f64 = 0;
  let i = from;
  for (; i < to && (i & 3) != 0; i++) {
    s += squareOf(g, i);
    adamOne(p, g, m, v, i, b1, b2, stepSize, invBc2Sqrt, eps);
  }
  for (; i + 4 <= to; i += 4) {
    const k = <usize>i << 2;
    const gi = v128.load(g + k);
    acc = addSquares(acc, low(gi), high(gi));
    adamFour(p + k, m + k, v + k, gi, vb1, vb1c, vb2, vb2c, vss, vbc, veps);
  }
  for (; i < to; i++) {
    s += squareOf(g, i);
    adamOne(p, g, m, v, i, b1, b2, stepSize, invBc2Sqrt, eps);
  }
  return s + f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
}

// g[i]² in double precision
@inline function squareOf(g: usize, i: i32): f64 {
  const x = load<f32>(g + (<usize>i << 2));
  return <f64>x * <f64>x;
}

// RMSprop: sq = α·sq + (1−α)·g²;  p −= lr·g / (√sq + ε)
export function rmspropUpdate(p: usize, g: usize, sq: usize, from: i32, to: i32, alpha: f32, lr: f32, eps: f32): void {
  const va = f32x4.splat(alpha), vac = f32x4.splat(1 - alpha), vlr = f32x4.splat(lr), veps = f32x4.splat(eps);
  let i = from;
  for (; i < to && (i & 3) != 0; i++) rmspropOne(p, g, sq, i, alpha, lr, eps);
  for (; i + 4 <= to; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const s = f32x4.add(f32x4.mul(va, v128.load(sq + o)), f32x4.mul(vac, f32x4.mul(gi, gi)));
    v128.store(sq + o, s);
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.div(f32x4.mul(vlr, gi), f32x4.add(f32x4.sqrt(s), veps))));
  }
  for (; i < to; i++) rmspropOne(p, g, sq, i, alpha, lr, eps);
}

@inline function rmspropOne(p: usize, g: usize, sq: usize, i: i32, alpha: f32, lr: f32, eps: f32): void {
  const o = <usize>i << 2;
  const gi = load<f32>(g + o);
  const s = alpha * load<f32>(sq + o) + (1 - alpha) * gi * gi;
  store<f32>(sq + o, s);
  store<f32>(p + o, load<f32>(p + o) - lr * gi / (Mathf.sqrt(s) + eps));
}

// Adagrad: sum += g²;  p −= lr·g / (√sum + ε)
export function adagradUpdate(p: usize, g: usize, sum: usize, from: i32, to: i32, lr: f32, eps: f32): void {
  const vlr = f32x4.splat(lr), veps = f32x4.splat(eps);
  let i = from;
  for (; i < to && (i & 3) != 0; i++) adagradOne(p, g, sum, i, lr, eps);
  for (; i + 4 <= to; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const s = f32x4.add(v128.load(sum + o), f32x4.mul(gi, gi));
    v128.store(sum + o, s);
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.div(f32x4.mul(vlr, gi), f32x4.add(f32x4.sqrt(s), veps))));
  }
  for (; i < to; i++) adagradOne(p, g, sum, i, lr, eps);
}

@inline function adagradOne(p: usize, g: usize, sum: usize, i: i32, lr: f32, eps: f32): void {
  const o = <usize>i << 2;
  const gi = load<f32>(g + o);
  const s = load<f32>(sum + o) + gi * gi;
  store<f32>(sum + o, s);
  store<f32>(p + o, load<f32>(p + o) - lr * gi / (Mathf.sqrt(s) + eps));
}

// Σ g[i]² over [from, to), accumulated in f64 (a norm over ~10^5 terms stays exact to ~1e-12).
export function sumSquares(g: usize, from: i32, to: i32): f64 {
  let acc = f64x2.splat(0);
  let s: f64 = 0;
  let i = from;
  for (; i < to && (i & 3) != 0; i++) { const x = <f64>load<f32>(g + (<usize>i << 2)); s += x * x; }
  for (; i + 4 <= to; i += 4) {
    const x = v128.load(g + (<usize>i << 2));
    acc = addSquares(acc, low(x), high(x));
  }
  for (; i < to; i++) { const x = <f64>load<f32>(g + (<usize>i << 2)); s += x * x; }
  return s + f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
}

// Σ (a[i] − b[i])² over [from, to), in double precision (update_ratio's ‖Δw‖²)
export function sumSquaredDiff(a: usize, b: usize, from: i32, to: i32): f64 {
  let acc = f64x2.splat(0);
  let s: f64 = 0;
  let i = from;
  for (; i < to && (i & 3) != 0; i++) { const d = <f64>load<f32>(a + (<usize>i << 2)) - <f64>load<f32>(b + (<usize>i << 2)); s += d * d; }
  for (; i + 4 <= to; i += 4) {
    const k = <usize>i << 2;
    const x = v128.load(a + k), y = v128.load(b + k);
    acc = addSquares(acc, f64x2.sub(low(x), low(y)), f64x2.sub(high(x), high(y)));
  }
  for (; i < to; i++) { const d = <f64>load<f32>(a + (<usize>i << 2)) - <f64>load<f32>(b + (<usize>i << 2)); s += d * d; }
  return s + f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
}

// dst[i] = src[i] for i in [from, to)
export function copyRange(dst: usize, src: usize, from: i32, to: i32): void {
  if (to > from) memory.copy(dst + (<usize>from << 2), src + (<usize>from << 2), <usize>(to - from) << 2);
}

// lanes 0–1 and 2–3 of an f32x4 as f64x2
@inline function low(x: v128): v128 { return f64x2.promote_low_f32x4(x); }
@inline function high(x: v128): v128 { return f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 0, 1)); }
// acc + lo² + hi², lane-wise in f64
@inline function addSquares(acc: v128, lo: v128, hi: v128): v128 {
  return f64x2.add(acc, f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi)));
}
