// Inference over a whole split, in chunks of the replica's rows. Dropout follows the
// spec's inference rule: 'weight-scaling' runs the deterministic network (inverted
// dropout already folded the (1 − p) factor into training), 'mc-ensemble' averages
// the outputs of K sampled thinned networks.
import type { Split } from './dataset.js';
import { mseForward } from './losses/mse.js';
import type { ForwardContext } from './layers/layer.js';
import type { Replica } from './model.js';
import { LOSS_STATS } from './step-stats.js';
import type { TrainSpec } from './types.js';

export interface EvalResult { loss: number; accuracy: number | null; n: number }

export interface InferenceOptions { mode: 'weight-scaling' | 'mc-ensemble'; mcSamples: number; seed: number }

/** Runs the network on rows [start, start+rows) already loaded in replica.X; result in `out` (rows, C). */
export function inferLoaded(replica: Replica, rows: number, opts: InferenceOptions, ctx: ForwardContext, out: Float32Array,
  sampleBase: number): void {
  const C = replica.plan.outputSize, n = rows * C;
  if (opts.mode === 'weight-scaling' || !replica.model.layers.some((l) => l.type === 'dropout')) {
    ctx.dropout = 'infer';
    out.set(replica.forward(rows, ctx).subarray(0, n));
    return;
  }
  ctx.dropout = 'mc';
  ctx.rowOffset = sampleBase;
  out.fill(0, 0, n);
  for (let s = 0; s < opts.mcSamples; s++) {
    ctx.key = s;
    const y = replica.forward(rows, ctx);
    for (let i = 0; i < n; i++) out[i] += y[i];
  }
  const inv = 1 / opts.mcSamples;
  for (let i = 0; i < n; i++) out[i] *= inv;
}

/** The inference rule of a run (spec.model's dropout inference; MC masks keyed by the training seed). */
export function inferenceOptions(spec: TrainSpec): InferenceOptions {
  return { mode: spec.model.dropoutInference, mcSamples: spec.model.mcSamples, seed: spec.training.seed };
}

/**
 * Adds the loss sum and correct count (LOSS_STATS) of rows [from, to) of `split` to
 * `stats`, in chunks of the replica's rows; `out` holds maxRows × outputs. Any thread
 * may take any range: MC masks are keyed by the row's index in the split.
 */
export function evaluateRows(replica: Replica, split: Split, from: number, to: number, opts: InferenceOptions,
  out: Float32Array, stats: Float64Array): void {
  const C = replica.plan.outputSize;
  const ctx: ForwardContext = { dropout: 'infer', seed: opts.seed, key: 0, rowOffset: 0 };
  const softmaxOut = replica.loss === 'cross-entropy';
  for (let start = from; start < to; start += replica.maxRows) {
    const rows = Math.min(replica.maxRows, to - start);
    replica.load(split, null, start, rows);
    inferLoaded(replica, rows, opts, ctx, out, start);
    if (softmaxOut) {
      // cross-entropy from probabilities: −log p_y (clamped so a confident miss stays finite)
      for (let r = 0; r < rows; r++) {
        const y = replica.labels![r];
        let arg = 0;
        for (let j = 1; j < C; j++) if (out[r * C + j] > out[r * C + arg]) arg = j;
        stats[LOSS_STATS.sum] -= Math.log(Math.max(out[r * C + y], 1e-30));
        if (arg === y) stats[LOSS_STATS.correct]++;
      }
    } else {
      mseForward(out, rows, C, replica.targets, replica.labels, 0, stats);
    }
  }
}

/** Mean loss and accuracy of n rows from their LOSS_STATS sums. */
export function evalResult(stats: Float64Array, n: number, task: Replica['task']): EvalResult {
  return { loss: stats[LOSS_STATS.sum] / n, accuracy: task === 'classification' ? stats[LOSS_STATS.correct] / n : null, n };
}

export function evaluateSplit(replica: Replica, split: Split, opts: InferenceOptions, out: Float32Array): EvalResult {
  const stats = new Float64Array(LOSS_STATS.size);
  evaluateRows(replica, split, 0, split.n, opts, out, stats);
  return evalResult(stats, split.n, replica.task);
}
