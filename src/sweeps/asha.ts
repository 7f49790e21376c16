// ASHA, asynchronous successive halving (Li et al., "A System for Massively Parallel
// Hyperparameter Tuning", MLSys 2020), in its stopping form (as Optuna's
// SuccessiveHalvingPruner and Ray Tune's ASHA scheduler run it): rung k is at epoch
// r_k = minEpochs · η^k (η = reductionFactor). A trial that reaches r_k is compared
// with every trial that has reached r_k so far, itself included (n of them), by the
// objective at r_k; it continues (is promoted) only if it is among the top
// max(1, ⌊n/η⌋), and is stopped otherwise. Between rungs no decision is taken, nor at
// the trial's last epoch (nothing is left to stop).
import { better, fmt, type TrialCurve } from './curves.js';
import type { PrunerContext, PrunerDecision } from './decision.js';

/** k with epoch = minEpochs · η^k, or null when the epoch is not a rung. */
export function rungOf(epoch: number, minEpochs: number, eta: number): number | null {
  for (let k = 0, r = minEpochs; r <= epoch; k++, r *= eta) if (r === epoch) return k;
  return null;
}

export function ashaDecision(ctx: PrunerContext, trial: TrialCurve, epoch: number, others: readonly TrialCurve[]): PrunerDecision | null {
  if (epoch < ctx.minEpochs || epoch >= ctx.epochs) return null;
  const rung = rungOf(epoch, ctx.minEpochs, ctx.reductionFactor);
  const value = trial.values.get(epoch);
  if (rung === null || value === undefined || Number.isNaN(value)) return null;
  const eta = ctx.reductionFactor;
  const competitors = [value, ...others.filter((o) => o.jobId !== trial.jobId && o.values.has(epoch)).map((o) => o.values.get(epoch)!)]
    .filter((v) => !Number.isNaN(v))
    .sort((a, b) => (better(ctx.mode, a, b) ? -1 : better(ctx.mode, b, a) ? 1 : 0));
  const n = competitors.length;
  const keep = Math.max(1, Math.floor(n / eta));
  const threshold = competitors[keep - 1]!;
  const at = `${ctx.metric} ${fmt(value)} at rung ${rung} (epoch ${epoch})`;
  const field = `${n} trial${n === 1 ? '' : 's'} that reached it`;
  const cut = `the top ${keep} (1/${eta}) of ${field} continue, the ${ordinal(keep)} best being ${fmt(threshold)}`;
  if (better(ctx.mode, threshold, value)) {
    return { decision: 'prune', epoch, rung, value, threshold, reason: `${at} is ${ctx.mode === 'max' ? 'below' : 'above'} ${fmt(threshold)}: ${cut}` };
  }
  return { decision: 'promote', epoch, rung, value, threshold, reason: `${at} is among the top ${keep} of ${field} (1/${eta}; the ${ordinal(keep)} best is ${fmt(threshold)}): it continues to the next rung` };
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${s}`;
}
