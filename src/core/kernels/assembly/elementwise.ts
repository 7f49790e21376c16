// Element-wise passes of a ReLU dense layer's backward, f32x4 at a time (the readable
// forms are src/core/activations.ts and src/core/layers/dense.ts, which stay the
// reference and the fallback). Pointers are byte offsets of element 0.

// ReLU': dZ = dA ⊙ [Z > 0], in place over n floats of dA.
export function reluBackward(z: usize, da: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(da + o, v128.and(v128.load(da + o), f32x4.gt(v128.load(z + o), zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    if (!(load<f32>(z + o) > 0)) store<f32>(da + o, 0);
  }
}

// db(units) = Σ_rows dZ(rows, units), dZ's rows `stride` floats apart (a block of the
// columns of a wider dZ): each column summed top to bottom, in the same order as the
// scalar loop, so the sums are bit-identical to it.
export function columnSums(dz: usize, rows: i32, units: i32, db: usize, stride: i32): void {
  const ld = <usize>stride << 2;
  let j = 0;
  for (; j + 4 <= units; j += 4) {
    const o = <usize>j << 2;
    let s = f32x4.splat(0);
    let p = dz + o;
    for (let r = 0; r < rows; r++) { s = f32x4.add(s, v128.load(p)); p += ld; }
    v128.store(db + o, s);
  }
  for (; j < units; j++) {
    const o = <usize>j << 2;
    let s: f32 = 0;
    let p = dz + o;
    for (let r = 0; r < rows; r++) { s += load<f32>(p); p += ld; }
    store<f32>(db + o, s);
  }
}
