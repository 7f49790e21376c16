// The second half of a training step, run by every thread on its own blocks of the
// weight matrices' rows after every thread's row-wise backprop (Replica.trainShard):
// for each trainable layer, its block's parameter gradients over the whole batch
// (Replica.paramGrads: no per-thread gradient buffers, nothing to reduce), then at once,
// while those gradients are in cache, the update of the block's parameters:
//   1. measure  Σg² per layer (before regularization: the data gradient, for grad_norm)
//   2. regularize g += λ2·w + λ1·sign(w) on weights
//   3. step     the optimizer on the block's ranges
//   4. measure  Σ(Δw)² and Σw² per layer when update_ratio is sampled
// (1 and 3 are one pass where the optimizer has one and 2 and 4 have nothing to do.)
// Each gradient element is the same sum, in the same order, whatever the thread count,
// so the parameters after a step do not depend on it; only PReLU's slopes (summed per
// thread first) and the double-precision per-layer sums do, by rounding.
// Per-layer sums are added to `partial` (LAYER_STATS per trainable layer); the caller
// adds the threads' partials and takes square roots (step-stats.ts).
import type { ParamBlock, ParamPlan, Replica } from './model.js';
import type { VectorKernels } from './kernels/types.js';
import type { Optimizer } from './optimizers/index.js';
import { applyRegularization } from './regularization.js';
import { LAYER_STATS } from './step-stats.js';

export interface UpdateContext {
  params: Float32Array;
  /** the gradient, one buffer every thread writes its blocks into */
  grads: Float32Array;
  snapshot: Float32Array;
  optimizer: Optimizer;
  l1: number;
  l2: number;
  /** weight tensors, in trainable-layer order: [from, to) */
  weights: Array<[number, number]>;
  /** this thread's vector kernels (sums of squares, copies) */
  vector: VectorKernels;
}

export function weightRanges(plan: ParamPlan): Array<[number, number]> {
  return plan.weightOf.filter((e) => e !== undefined).map((e) => [e!.offset, e!.offset + e!.length]);
}

/**
 * This thread's part of the step after the row-wise backprop of every thread: the
 * gradients of `blocks` (Replica.blocks) over the batch's `rows` rows, each block
 * updated right after its gradients. `partial` is overwritten.
 */
export function gradientsAndUpdate(r: Replica, blocks: readonly ParamBlock[], u: UpdateContext, rows: number, step: number,
  sampleRatio: boolean, partial: Float64Array): void {
  partial.fill(0);
  for (const b of blocks) {
    r.paramGrads(rows, b);
    for (const [from, to] of b.ranges) updateRange(u, from, to, step, sampleRatio, partial);
  }
}

/** Steps 1–4 over [from, to) of the flat buffers, adding to `partial`. */
export function updateRange(u: UpdateContext, from: number, to: number, step: number, sampleRatio: boolean,
  partial: Float64Array): void {
  const { params: p, grads: g, snapshot: s } = u;
  // without L1/L2 and an update-ratio sample, steps 1 and 3 are one pass where the rule has one
  if (!sampleRatio && u.l1 === 0 && u.l2 === 0 && u.optimizer.stepMeasured) return fusedStep(u, from, to, step, partial);
  for (let l = 0; l < u.weights.length; l++) {
    const a = Math.max(from, u.weights[l][0]), b = Math.min(to, u.weights[l][1]);
    if (a >= b) continue;
    partial[l * LAYER_STATS.size + LAYER_STATS.gradSq] += u.vector.sumSquares(g, a, b);
    applyRegularization(p, g, a, b, u.l1, u.l2);
    if (sampleRatio) u.vector.copy(s, p, a, b);
  }
  u.optimizer.step(p, g, step, from, to);
  if (!sampleRatio) return;
  for (let l = 0; l < u.weights.length; l++) {
    const a = Math.max(from, u.weights[l][0]), b = Math.min(to, u.weights[l][1]);
    if (a >= b) continue;
    partial[l * LAYER_STATS.size + LAYER_STATS.updateSq] += u.vector.sumSquaredDiff(p, s, a, b);
    partial[l * LAYER_STATS.size + LAYER_STATS.weightSq] += u.vector.sumSquares(s, a, b);
  }
}

// updateRange in one pass per piece of [from, to): the weight tensors' pieces (whose Σg²
// is grad_norm) and the rest (biases, slopes) between them.
function fusedStep(u: UpdateContext, from: number, to: number, step: number, partial: Float64Array): void {
  const { params: p, grads: g } = u;
  const opt = u.optimizer;
  let at = from;
  for (let l = 0; l < u.weights.length; l++) {
    const a = Math.max(from, u.weights[l][0]), b = Math.min(to, u.weights[l][1]);
    if (a >= b) continue;
    if (at < a) opt.stepMeasured!(p, g, step, at, a);
    partial[l * LAYER_STATS.size + LAYER_STATS.gradSq] += opt.stepMeasured!(p, g, step, a, b);
    at = b;
  }
  if (at < to) opt.stepMeasured!(p, g, step, at, to);
}
