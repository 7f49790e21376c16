// L1 and L2 penalties on weights (never biases or PReLU slopes: the caller passes
// only weight ranges of the flat parameter buffer).
//   L2: loss + λ2/2·Σw²  → grad + λ2·w        (weight decay: with SGD,
//                                              w ← w·(1 − lr·λ2) − lr·g)
//   L1: loss + λ1·Σ|w|   → grad + λ1·sign(w)  (subtract a constant times sign(w))

/** A half-open range [from, to) of the flat parameter buffer. */
export type ParamRange = readonly [from: number, to: number];

// params, grads (size); adds λ2·w + λ1·sign(w) to grads[from, to), sign(0) = 0
export function applyRegularization(
  params: Float32Array, grads: Float32Array, from: number, to: number, l1: number, l2: number,
): void {
  if (l1 === 0 && l2 === 0) return;
  for (let i = from; i < to; i++) {
    const w = params[i];
    grads[i] += l2 * w + l1 * Math.sign(w);
  }
}

/** λ2/2·Σw² + λ1·Σ|w| over the weight ranges, for reporting next to the data loss. */
export function regularizationLoss(
  params: Float32Array, ranges: readonly ParamRange[], l1: number, l2: number,
): number {
  if (l1 === 0 && l2 === 0) return 0;
  let sumSq = 0, sumAbs = 0;
  for (const [from, to] of ranges) {
    for (let i = from; i < to; i++) {
      const w = params[i];
      sumSq += w * w;
      sumAbs += Math.abs(w);
    }
  }
  return (l2 / 2) * sumSq + l1 * sumAbs;
}
