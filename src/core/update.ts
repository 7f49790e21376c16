// The parameter update over one range [from, to) of the flat buffers, run by every
// thread on its own slice after the gradients are computed (steps 1, 2 and 4 fused into
// one pass where the optimizer has one and 3 and 5 have nothing to do: reducedStep):
//   1. reduce   g = g₀ + g₁ + … (fixed order: deterministic for a given thread count)
//   2. measure  Σg² per layer (before regularization: the data gradient, for grad_norm)
//   3. regularize g += λ2·w + λ1·sign(w) on weights
//   4. step     the optimizer on [from, to)
//   5. measure  Σ(Δw)² and Σw² per layer when update_ratio is sampled
// Per-layer sums go to `partial` (LAYER_STATS per trainable layer); the caller adds
// the threads' partials and takes square roots (step-stats.ts).
import type { ParamPlan } from './model.js';
import type { VectorKernels } from './kernels/types.js';
import type { Optimizer } from './optimizers/index.js';
import { applyRegularization } from './regularization.js';
import { LAYER_STATS } from './step-stats.js';

export interface UpdateContext {
  params: Float32Array;
  /** the reduced gradient, also thread 0's own gradient buffer */
  grads: Float32Array;
  /** gradient buffers of threads 1… to add into grads */
  others: Float32Array[];
  snapshot: Float32Array;
  optimizer: Optimizer;
  l1: number;
  l2: number;
  /** weight tensors, in trainable-layer order: [from, to) */
  weights: Array<[number, number]>;
  /** this thread's vector kernels (reduce, sums of squares) */
  vector: VectorKernels;
}

export function weightRanges(plan: ParamPlan): Array<[number, number]> {
  return plan.weightOf.filter((e) => e !== undefined).map((e) => [e!.offset, e!.offset + e!.length]);
}

/** [from, to) of thread k of T over n parameters, 16-float aligned. */
export function shardRange(n: number, k: number, T: number): [number, number] {
  const per = Math.ceil(n / T / 16) * 16;
  return [Math.min(n, k * per), Math.min(n, (k + 1) * per)];
}

export function updateRange(u: UpdateContext, from: number, to: number, step: number, sampleRatio: boolean,
  partial: Float64Array): void {
  const { params: p, grads: g, others, snapshot: s } = u;
  partial.fill(0);
  // without L1/L2 and an update-ratio sample, steps 1, 2 and 4 are one pass where the rule has one
  if (!sampleRatio && u.l1 === 0 && u.l2 === 0 && u.optimizer.stepReduced) return reducedStep(u, from, to, step, partial);
  for (let k = 0; k < others.length; k++) u.vector.addInto(g, others[k], from, to);
  for (let l = 0; l < u.weights.length; l++) {
    const a = Math.max(from, u.weights[l][0]), b = Math.min(to, u.weights[l][1]);
    if (a >= b) continue;
    partial[l * LAYER_STATS.size + LAYER_STATS.gradSq] = u.vector.sumSquares(g, a, b);
    applyRegularization(p, g, a, b, u.l1, u.l2);
    if (sampleRatio) u.vector.copy(s, p, a, b);
  }
  u.optimizer.step(p, g, step, from, to);
  if (!sampleRatio) return;
  for (let l = 0; l < u.weights.length; l++) {
    const a = Math.max(from, u.weights[l][0]), b = Math.min(to, u.weights[l][1]);
    if (a >= b) continue;
    partial[l * LAYER_STATS.size + LAYER_STATS.updateSq] = u.vector.sumSquaredDiff(p, s, a, b);
    partial[l * LAYER_STATS.size + LAYER_STATS.weightSq] = u.vector.sumSquares(s, a, b);
  }
}

// updateRange in one pass per piece of [from, to): the weight tensors' pieces (whose Σg²
// is grad_norm) and the rest (biases, slopes, padding) between them.
function reducedStep(u: UpdateContext, from: number, to: number, step: number, partial: Float64Array): void {
  const { params: p, grads: g, others } = u;
  for (let k = 0; k + 1 < others.length; k++) u.vector.addInto(g, others[k], from, to);
  const last = others.length > 0 ? others[others.length - 1] : null;
  const opt = u.optimizer;
  let at = from;
  for (let l = 0; l < u.weights.length; l++) {
    const a = Math.max(from, u.weights[l][0]), b = Math.min(to, u.weights[l][1]);
    if (a >= b) continue;
    if (at < a) opt.stepReduced!(p, g, last, step, at, a);
    partial[l * LAYER_STATS.size + LAYER_STATS.gradSq] = opt.stepReduced!(p, g, last, step, a, b);
    at = b;
  }
  if (at < to) opt.stepReduced!(p, g, last, step, at, to);
}
