// Then the validation error: overfitting is val_loss rising from its minimum while the
// training loss keeps falling. The rise is weighed against the epoch-to-epoch noise of
// val_loss itself (a small validation set jumps by ±1% without meaning anything) and
// graded: mild when real but small, clear when val_loss rose by a good part of itself.
import { fmt, noise, pct, series } from '../series.js';
import type { DiagnosisContext, EpochMetrics, Finding } from '../types.js';
import { SIGNIFICANT } from './learning-rate.js';

/** val_loss must have stayed above its minimum for this many epochs: one bad epoch is noise. */
export const OVERFIT_RISING_EPOCHS = 2;
/** A rise of 15% of the lowest val_loss (and beyond its noise) is clear overfitting; less is mild. */
export const CLEAR_RISE = 0.15;

export function overfitting(history: EpochMetrics[], _ctx: DiagnosisContext): Finding | null {
  const withVal = history.filter((r) => Number.isFinite(r.metrics.val_loss) && Number.isFinite(r.metrics.train_loss));
  if (withVal.length < OVERFIT_RISING_EPOCHS + 1) return null;
  const val = series(withVal, 'val_loss');
  let best = 0;
  for (let i = 1; i < val.length; i++) if (val[i]! < val[best]!) best = i;
  const since = val.length - 1 - best;
  if (since < OVERFIT_RISING_EPOCHS) return null;

  const atBest = withVal[best]!, now = withVal.at(-1)!;
  const minVal = val[best]!, valNow = val.at(-1)!;
  const trainAtBest = atBest.metrics.train_loss!, train = now.metrics.train_loss!;
  if (!(train < trainAtBest)) return null; // val worse while train no better: not memorizing
  const sigma = noise(val);
  const rise = valNow - minVal;
  // the rise must hold at the end, not be one high point: mean of the last two epochs counts
  const tail = (val.at(-1)! + val.at(-2)!) / 2 - minVal;
  const z = Math.min(rise, tail) / sigma;
  if (!(z >= SIGNIFICANT)) return null;

  const relRise = rise / minVal;
  const severity = relRise >= CLEAR_RISE ? 'clear' : 'mild';
  const trainFall = (trainAtBest - train) / trainAtBest;
  const evidence: Record<string, number> = {
    best_val_loss: minVal, best_val_epoch: atBest.epoch, val_loss: valNow, val_loss_noise: sigma, rise_over_noise: z,
    relative_rise: relRise, train_loss: train, train_loss_at_best: trainAtBest, epochs_since_best: since, epoch: now.epoch,
  };
  const trainAcc = now.metrics.train_accuracy, valAcc = now.metrics.val_accuracy;
  if (trainAcc !== undefined) evidence.train_accuracy = trainAcc;
  if (valAcc !== undefined) evidence.val_accuracy = valAcc;
  const accText = trainAcc !== undefined && valAcc !== undefined ? `; train_accuracy ${pct(trainAcc)}, val_accuracy ${pct(valAcc)}` : '';
  return {
    kind: 'overfitting', severity,
    message: `${severity === 'clear' ? 'the network memorizes its training set' : 'a mild rise'}: val_loss was lowest at epoch ${atBest.epoch} ` +
      `(${fmt(minVal)}) and rose ${pct(relRise)} in ${since} epochs to ${fmt(valNow)} (${z.toFixed(1)}× its epoch-to-epoch noise ±${fmt(sigma)}), ` +
      `while train_loss fell ${pct(trainFall)} to ${fmt(train)}${accText}`,
    evidence,
  };
}
