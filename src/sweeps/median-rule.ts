// The median stopping rule (Golovin et al., "Google Vizier", KDD 2017, §3.2.2): stop
// trial t at step s if its best objective so far is strictly worse than the median
// of the running averages ō_τ^{1:s} = (1/s)·Σ_{i≤s} o_τ^i of the other trials that
// have reached step s. Vizier compares with completed trials; here every other trial
// that has reported epoch s counts (asynchronous, like Optuna's MedianPruner), and a
// step is an epoch. No decision before minEpochs, nor at the trial's last epoch.
import { bestUpTo, better, fmt, median, runningAverage, type TrialCurve } from './curves.js';
import type { PrunerContext, PrunerDecision } from './decision.js';

export function medianDecision(ctx: PrunerContext, trial: TrialCurve, epoch: number, others: readonly TrialCurve[]): PrunerDecision | null {
  if (epoch < ctx.minEpochs || epoch >= ctx.epochs) return null;
  const best = bestUpTo(trial, epoch, ctx.mode);
  if (best === null) return null;
  const averages = others
    .filter((o) => o.jobId !== trial.jobId && o.values.has(epoch))
    .map((o) => runningAverage(o, epoch)!)
    .filter((v) => !Number.isNaN(v));
  const { metric } = ctx;
  const own = `${metric} ${fmt(best.value)} (its best up to epoch ${epoch})`;
  if (averages.length === 0) {
    return { decision: 'continue', epoch, rung: null, value: best.value, threshold: null, reason: `${own}: no other trial has reached epoch ${epoch} yet, so there is no median to compare with` };
  }
  const m = median(averages);
  const of = `the median ${fmt(m)} of ${averages.length} other trial${averages.length === 1 ? '' : 's'}' mean ${metric} over epochs 1–${epoch}`;
  const worseWord = ctx.mode === 'max' ? 'below' : 'above';
  if (better(ctx.mode, m, best.value)) {
    return { decision: 'prune', epoch, rung: null, value: best.value, threshold: m, reason: `${own} is ${worseWord} ${of}` };
  }
  return { decision: 'continue', epoch, rung: null, value: best.value, threshold: m, reason: `${own} is not ${worseWord} ${of}` };
}
