// The training error first: does the network fit its training set, and is it still
// getting better? A poor fit that has stopped improving is underfitting, and its cause
// is looked for in the spec (a layer narrower than the classes, too few units, dropout,
// steps too small to move the weights); a curve still falling fast needs more epochs.
import { dropoutLayers, hiddenLayers, listLayers, narrowLayers, saturatingLayers } from '../facts.js';
import { fmt, mean, noise, pct, series, slope } from '../series.js';
import type { Cause, DiagnosisContext, EpochMetrics, Finding } from '../types.js';
import { SIGNIFICANT, gradientsCollapsed, updateRatios } from './learning-rate.js';

/** "Barely above chance": accuracy below chance + 10% of the way from chance to 100%. */
export const CHANCE_MARGIN = 0.1;
/**
 * A classifier fits its training set when its accuracy is at least 80% of the way from
 * chance to 100% (82% for 10 classes, 73% for 3): below that it misses whole regions.
 */
export const POOR_FIT = 0.8;
/** The training loss must fall by at least 5% of its epoch-1 value to count as learning at all. */
export const MIN_LOSS_DROP = 0.05;
/** A cross-entropy within 10% of ln C is what uniform guessing over C classes scores. */
export const CHANCE_LOSS_TOLERANCE = 0.1;
/** Still improving fast: the monitored loss fell ≥ 4% of its level per epoch over the last epochs, beyond its noise. */
export const IMPROVING_RATE = 0.04;
/** The window (epochs) the recent trend is measured over. */
export const TREND_EPOCHS = 3;
/**
 * Updates below 1e-4 of the weights per step barely move them (the rule of thumb for a
 * good learning rate is an update_ratio near 1e-3): the learning rate is too low.
 */
export const LOW_UPDATE_RATIO = 1e-4;
/** A hidden layer this narrow (or narrower) is a small model for anything but a toy problem. */
export const FEW_UNITS = 8;

/** A hidden layer this wide can fit far more than a 2-D toy set or an MNIST subset: its plateau is the data's. */
export const WIDE = 64;

function widestHidden(ctx: DiagnosisContext): number {
  const h = hiddenLayers(ctx);
  return h.length ? Math.max(...h.map((l) => l.units)) : 0;
}

export interface Fit {
  /** classifier: max(train_accuracy, val_accuracy) (dropout lowers the training-mode accuracy); null for regression */
  accuracy: number | null;
  chance: number;
  poor: boolean;
  /** the recent trend of val_loss (else train_loss): relative fall per epoch and its size over the noise */
  rate: number;
  significance: number;
  improving: boolean;
  monitor: 'val_loss' | 'train_loss';
}

export function measureFit(history: EpochMetrics[], ctx: DiagnosisContext): Fit {
  const last = history.at(-1)!.metrics;
  const classes = Math.max(2, ctx.outputSize), chance = 1 / classes;
  let accuracy: number | null = null;
  if (ctx.task === 'classification' && last.train_accuracy !== undefined) {
    accuracy = Math.max(last.train_accuracy, last.val_accuracy ?? 0);
  }
  const monitor = series(history, 'val_loss').length === history.length ? 'val_loss' : 'train_loss';
  const ys = series(history, monitor);
  const window = ys.slice(-Math.min(TREND_EPOCHS, ys.length));
  const s = slope(window);
  const rate = window.length >= 2 ? -s / mean(window) : 0;
  const significance = window.length >= 2 ? (-s * (window.length - 1)) / noise(ys) : 0;
  // two points have no noise to compare with: a trend needs three epochs
  const improving = ys.length >= 3 && rate >= IMPROVING_RATE && significance >= SIGNIFICANT;
  const poor = accuracy !== null ? accuracy < chance + POOR_FIT * (1 - chance) : false;
  return { accuracy, chance, poor, rate, significance, improving, monitor };
}

/** The spec's likeliest reason for a training problem, in the order the evidence is strongest. */
export function trainingCause(history: EpochMetrics[], ctx: DiagnosisContext): { cause: Cause; text: string; evidence: Record<string, number> } | null {
  const ratios = updateRatios(history.at(-1)!);
  // tiny updates from dead gradients are no sign of a small learning rate
  if (ratios.length > 0 && Math.max(...ratios) < LOW_UPDATE_RATIO && !gradientsCollapsed(history)) {
    const top = Math.max(...ratios);
    const lr = ctx.optimizer ? ` with learningRate ${ctx.optimizer.learningRate}` : '';
    return {
      cause: 'learning-rate-too-low', evidence: { max_update_ratio: top },
      text: `the steps are too small${lr}: the largest update_ratio (‖Δw‖/‖w‖ per step) is ${fmt(top)}, where about 1e-3 moves weights well`,
    };
  }
  const dropout = dropoutLayers(ctx);
  if (dropout.length > 0) {
    return {
      cause: 'dropout', evidence: { dropout_layers: dropout.length, max_dropout_rate: Math.max(...dropout.map((d) => d.rate)) },
      text: `dropout at ${listLayers(dropout, (d: { rate: number }) => `rate ${d.rate}`)} makes fitting harder still, and dropout only helps a net that overfits`,
    };
  }
  const narrow = narrowLayers(ctx);
  if (narrow.length > 0) {
    return {
      cause: 'narrow-layer', evidence: { narrowest_units: Math.min(...narrow.map((l) => l.units)), classes: ctx.outputSize },
      text: `${listLayers(narrow, (l: { units: number }) => `${l.units} units`)} is narrower than the ${ctx.outputSize} classes: ` +
        `everything the output needs must pass through it`,
    };
  }
  const hidden = hiddenLayers(ctx);
  if (ctx.layers && (hidden.length === 0 || Math.max(...hidden.map((l) => l.units)) <= FEW_UNITS)) {
    const widest = hidden.length ? Math.max(...hidden.map((l) => l.units)) : 0;
    return {
      cause: 'too-few-units', evidence: { widest_hidden_units: widest },
      text: hidden.length ? `the widest hidden layer has ${widest} units: the model is too small for the data` : 'the model has no hidden layer: it can only draw linear boundaries',
    };
  }
  if (saturatingLayers(ctx).length > 0) {
    return { cause: 'saturating-activations', evidence: {}, text: 'sigmoid/tanh hidden layers saturate and slow training down' };
  }
  return null;
}

export function trainingFit(history: EpochMetrics[], ctx: DiagnosisContext, fit: Fit): Finding | null {
  const first = history[0]!.metrics, last = history.at(-1)!.metrics;
  const epoch = history.at(-1)!.epoch;
  const loss0 = first.train_loss, loss = last.train_loss;
  if (loss0 === undefined || loss === undefined) return null;
  const drop = (loss0 - loss) / Math.abs(loss0 || 1);
  const flat = drop < MIN_LOSS_DROP;
  const evidence: Record<string, number> = { first_train_loss: loss0, train_loss: loss, relative_drop: drop, epoch };
  const found = trainingCause(history, ctx);
  const because = found ? `; ${found.text}` : '';
  const withCause = (f: Finding): Finding => (found ? { ...f, cause: found.cause, evidence: { ...f.evidence, ...found.evidence } } : f);

  if (ctx.task === 'classification') {
    const classes = Math.max(2, ctx.outputSize), chance = fit.chance;
    const acc = fit.accuracy;
    if (acc !== null) Object.assign(evidence, { accuracy: acc, chance_accuracy: chance });
    const chanceLoss = Math.log(classes);
    const atChanceLoss = Math.abs(loss - chanceLoss) < CHANCE_LOSS_TOLERANCE * chanceLoss;
    const nearChance = acc !== null && acc < chance + CHANCE_MARGIN * (1 - chance);
    if (flat && atChanceLoss && (acc === null || nearChance || fit.poor)) {
      evidence.chance_loss = chanceLoss;
      return withCause({
        kind: 'not-learning',
        message: `train_loss stays at ${fmt(loss)}, close to ln ${classes} = ${fmt(chanceLoss)}, the loss of guessing uniformly among ` +
          `${classes} classes` + (acc !== null ? `, and accuracy ${pct(acc)} is chance level (${pct(chance)})` : '') + because,
        evidence,
      });
    }
    if (!fit.poor || acc === null) return null;
    // a narrow layer caps the fit however long it trains; otherwise a fast fall means "train longer"
    // (barely above chance, though, it is a training problem whatever the trend)
    if (fit.improving && !nearChance && found?.cause !== 'narrow-layer' && found?.cause !== 'learning-rate-too-low') return null;
    // a wide model, no dropout, steps of a sound size, levelled off well above chance: the classes overlap
    // (noise in the data) rather than the model being too small, so nothing in the spec is to blame
    if (!found && !nearChance && widestHidden(ctx) >= WIDE) return null;
    const trend = fit.improving ? `${fit.monitor} still falls ${pct(fit.rate)} per epoch` : `${fit.monitor} has levelled off (${pct(Math.max(fit.rate, 0))} per epoch over the last epochs)`;
    return withCause({
      kind: 'underfitting',
      message: `the network does not fit its training set: accuracy ${pct(acc)} after ${epoch} epochs ` +
        `(chance ${pct(chance)}), and ${trend}${because}`,
      evidence: { ...evidence, recent_rate: fit.rate },
    });
  }

  if (flat && !fit.improving) {
    return withCause({
      kind: 'underfitting',
      message: `train_loss fell only ${pct(drop)} since epoch 1 (${fmt(loss0)} → ${fmt(loss)})${because}`,
      evidence,
    });
  }
  return null;
}

export function stillImproving(history: EpochMetrics[], ctx: DiagnosisContext, fit: Fit): Finding | null {
  if (!fit.improving) return null;
  const epoch = history.at(-1)!.epoch;
  const ys = series(history, fit.monitor);
  return {
    kind: 'still-improving', cause: 'too-few-epochs',
    message: `${fit.monitor} still falls ${pct(fit.rate)} per epoch over the last ${Math.min(TREND_EPOCHS, ys.length)} epochs ` +
      `(${fit.significance.toFixed(1)}× its epoch-to-epoch noise) and is ${fmt(ys.at(-1)!)} at epoch ${epoch}` +
      (ctx.epochs !== undefined && ctx.epochs === epoch ? `, the last of the ${ctx.epochs} epochs asked for` : ''),
    evidence: { recent_rate: fit.rate, significance: fit.significance, [fit.monitor]: ys.at(-1)!, epoch },
  };
}
