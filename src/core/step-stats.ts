// What one optimizer step measures, in flat Float64Arrays: every thread writes its
// share (pool threads into shared memory) and nothing is allocated per step.
//
// Loss statistics of a batch or of one thread's shard, LOSS_STATS.size numbers:
//   sum      Σ per-sample loss (÷ rows = the batch loss)
//   correct  arg-max hits (classification)
// Layer statistics, LAYER_STATS.size numbers per trainable layer l from l·LAYER_STATS.size:
//   gradSq    Σg² of the data gradient, before L1/L2     → grad_norm/<i>
//   updateSq  Σ(Δw)² of the step                          → update_ratio/<i>, when sampled
//   weightSq  Σw² before the step                         → update_ratio/<i>, when sampled

export const LOSS_STATS = { sum: 0, correct: 1, size: 2 } as const;
export const LAYER_STATS = { gradSq: 0, updateSq: 1, weightSq: 2, size: 3 } as const;

/** ‖g‖ of trainable layer l's weight gradient. */
export function gradNorm(layerStats: Float64Array, l: number): number {
  return Math.sqrt(layerStats[l * LAYER_STATS.size + LAYER_STATS.gradSq]);
}

/** ‖Δw‖ / ‖w‖ of trainable layer l's step (1 for the denominator of all-zero weights). */
export function updateRatio(layerStats: Float64Array, l: number): number {
  const at = l * LAYER_STATS.size;
  return Math.sqrt(layerStats[at + LAYER_STATS.updateSq]) / (Math.sqrt(layerStats[at + LAYER_STATS.weightSq]) || 1);
}
