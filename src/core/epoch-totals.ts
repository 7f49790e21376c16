// The running sums of the epoch in progress, from which its metrics are made at the
// end (train_loss, train_accuracy, grad_norm/<i>, update_ratio/<i>, batch_loss points).
// A mid-epoch checkpoint (PartialEpoch) saves exactly these, so a resumed run finishes
// the epoch with the numbers an uninterrupted one would have.
import type { PartialEpoch } from './checkpoint.js';
import type { MetricPoint } from './types.js';

export class EpochTotals {
  lossSum = 0;
  correct = 0;
  seen = 0;
  /** steps that sampled update_ratio */
  ratioSteps = 0;
  /** the epoch's points so far; a new array every epoch (hooks may keep the last one) */
  points: MetricPoint[] = [];
  /** per spec layer index: Σ over steps of ‖g‖ and of ‖Δw‖/‖w‖ */
  readonly gradNormSum: Float64Array;
  readonly updRatioSum: Float64Array;

  constructor(layers: number) {
    this.gradNormSum = new Float64Array(layers);
    this.updRatioSum = new Float64Array(layers);
  }

  reset(): void {
    this.lossSum = 0; this.correct = 0; this.seen = 0; this.ratioSteps = 0;
    this.points = [];
    this.gradNormSum.fill(0); this.updRatioSum.fill(0);
  }

  restore(p: PartialEpoch): void {
    this.lossSum = p.lossSum; this.correct = p.correct; this.seen = p.seen; this.ratioSteps = p.ratioSteps;
    this.points = p.points;
    this.gradNormSum.set(p.gradNormSum); this.updRatioSum.set(p.updRatioSum);
  }

  /** The totals after `batch` batches and `seconds` of the epoch, for a mid-epoch checkpoint. */
  save(batch: number, seconds: number): PartialEpoch {
    return {
      batch, lossSum: this.lossSum, correct: this.correct, seen: this.seen, ratioSteps: this.ratioSteps,
      points: this.points, seconds, gradNormSum: Array.from(this.gradNormSum), updRatioSum: Array.from(this.updRatioSum),
    };
  }
}
