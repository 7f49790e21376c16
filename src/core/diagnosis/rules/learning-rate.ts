// A learning rate that is too high shows three ways: the loss explodes in the first
// epoch (and may settle at a useless level), the loss jumps up and down from epoch to
// epoch instead of falling, or ReLU units die (pushed to where they output 0 for every
// input, so no gradient ever revives them). All three are reported only when the
// network fits badly: a run that recovered and fits well needs no alarm.
import { fmt, median, noise, pct, series } from '../series.js';
import type { DiagnosisContext, EpochMetrics, Finding } from '../types.js';

/** Epoch 1's mean train_loss 10× the first step's: a few steps threw the weights far away. */
export const BLOW_UP_RATIO = 10;
/** Training loss 10% above its lowest and beyond its noise: the updates overshoot. */
export const DIVERGENCE_FACTOR = 1.1;
/** ... and risen by 5% of epoch 1's loss: a rise that matters next to what was learned. */
export const GIVEN_BACK = 0.05;
/** Updates of 1% of the weights per step (10× the usual 1e-3): steps that overshoot. */
export const HIGH_UPDATE_RATIO = 1e-2;
/** Gradients at 1/100 of their peak in every layer, with a poor fit: dead units, not convergence. */
export const COLLAPSE = 1e-2;
const RELU_FAMILY = new Set(['relu', 'leaky-relu', 'prelu', 'elu', 'maxout']);
/** Half the units of a ReLU layer dead for a whole epoch: the layer has lost its width. */
export const DEAD_FRACTION = 0.5;
/** Trend over noise needed to call a change real (about 3σ). */
export const SIGNIFICANT = 3;

const lrText = (ctx: DiagnosisContext) =>
  ctx.optimizer ? ` (learningRate ${ctx.optimizer.learningRate} with ${ctx.optimizer.type})` : '';

/** The loss the untrained network starts from: the first step's, else ln C for a classifier. */
export function startingLoss(ctx: DiagnosisContext): number | undefined {
  if (ctx.initialLoss !== undefined && Number.isFinite(ctx.initialLoss) && ctx.initialLoss > 0) return ctx.initialLoss;
  return ctx.task === 'classification' ? Math.log(Math.max(2, ctx.outputSize)) : undefined;
}

export function diverged(history: EpochMetrics[], ctx: DiagnosisContext): Finding | null {
  const losses = series(history, 'train_loss');
  const last = history.at(-1)?.metrics.train_loss;
  if (last !== undefined && !Number.isFinite(last)) {
    return {
      kind: 'diverged', cause: 'learning-rate-too-high',
      message: `train_loss is ${last} at epoch ${history.at(-1)!.epoch}: the updates overshot${lrText(ctx)}`,
      evidence: { train_loss: last, epoch: history.at(-1)!.epoch },
    };
  }
  if (losses.length < 2) return null;
  const min = Math.min(...losses), now = losses.at(-1)!;
  const sigma = noise(losses);
  // and it gave back a real share (5%) of the loss the run started from: 0.018 → 0.033 at 100% accuracy is no divergence
  if (!(now > min * DIVERGENCE_FACTOR && now - min > SIGNIFICANT * sigma && now - min > GIVEN_BACK * losses[0]!)) return null;
  const minEpoch = history[losses.indexOf(min)]!.epoch;
  return {
    kind: 'diverged', cause: 'learning-rate-too-high',
    message: `train_loss rose from ${fmt(min)} at epoch ${minEpoch} to ${fmt(now)} at epoch ${history.at(-1)!.epoch}: ` +
      `the updates overshoot${lrText(ctx)}`,
    evidence: { lowest_train_loss: min, lowest_epoch: minEpoch, train_loss: now, noise: sigma },
  };
}

export function blowUp(history: EpochMetrics[], ctx: DiagnosisContext, poorFit: boolean): Finding | null {
  const first = history[0];
  const start = startingLoss(ctx);
  if (!poorFit || first?.epoch !== 1 || start === undefined) return null;
  const loss1 = first.metrics.train_loss;
  if (loss1 === undefined || !(loss1 / start >= BLOW_UP_RATIO)) return null;
  const ratio = loss1 / start;
  const now = history.at(-1)!.metrics.train_loss!;
  const from = ctx.initialLoss !== undefined ? `the first step's ${fmt(start)}` : `ln ${ctx.outputSize} = ${fmt(start)}, where an untrained classifier starts`;
  return {
    kind: 'loss-blow-up', cause: 'learning-rate-too-high',
    message: `the loss blew up in epoch 1: its mean train_loss ${fmt(loss1)} is ${ratio.toPrecision(3)}× ${from}, ` +
      `and it is ${fmt(now)} at epoch ${history.at(-1)!.epoch}${lrText(ctx)}`,
    evidence: { starting_loss: start, first_epoch_train_loss: loss1, blow_up_ratio: ratio, train_loss: now },
  };
}

export function oscillating(history: EpochMetrics[], ctx: DiagnosisContext, poorFit: boolean): Finding | null {
  const last = history.at(-1);
  if (!poorFit || !last || history.length < 3) return null;
  const ratios = updateRatios(last);
  if (ratios.length === 0) return null;
  const typical = median(ratios);
  if (!(typical >= HIGH_UPDATE_RATIO)) return null;
  // epoch 1 is a running mean over the untrained start: its drop is no oscillation
  const losses = series(history.slice(1), 'train_loss');
  const level = median(losses), sigma = noise(losses);
  return {
    kind: 'oscillating', cause: 'learning-rate-too-high',
    message: `each step moves the weights by ${pct(typical)} of their size (median update_ratio ${fmt(typical)}, ` +
      `where about 1e-3 is usual), so the steps overshoot and train_loss jumps by ±${fmt(sigma)} around ${fmt(level)} instead of settling${lrText(ctx)}`,
    evidence: { median_update_ratio: typical, train_loss_noise: sigma, train_loss_median: level },
  };
}

/** update_ratio/<i> of every layer in one epoch's metrics. */
export function updateRatios(record: EpochMetrics): number[] {
  return Object.entries(record.metrics).filter(([k, v]) => k.startsWith('update_ratio/') && Number.isFinite(v)).map(([, v]) => v);
}

/**
 * Every layer's gradient fell to 1/100 of its largest epoch value or less while the
 * fit is poor: the units stopped passing gradient (dead ReLUs), not a converged net.
 */
export function gradientsCollapsed(history: EpochMetrics[]): { layer: number; peak: number; now: number } | null {
  const last = history.at(-1)!.metrics;
  const layers = Object.keys(last).filter((k) => k.startsWith('grad_norm/'));
  if (layers.length === 0) return null;
  let worst: { layer: number; peak: number; now: number } | null = null;
  for (const k of layers) {
    const peak = Math.max(...series(history, k)), now = last[k]!;
    if (!(now <= COLLAPSE * peak)) return null;
    if (!worst || now / peak > worst.now / worst.peak) worst = { layer: Number(k.slice('grad_norm/'.length)), peak, now };
  }
  return worst;
}

export function deadUnits(history: EpochMetrics[], ctx: DiagnosisContext, poorFit: boolean): Finding | null {
  const last = history.at(-1);
  if (!poorFit || !last) return null;
  const dead = Object.entries(last.metrics)
    .filter(([k, v]) => k.startsWith('dead_units/') && v >= DEAD_FRACTION)
    .map(([k, v]) => ({ index: Number(k.slice('dead_units/'.length)), fraction: v }))
    .sort((a, b) => a.index - b.index);
  if (dead.length > 0) {
    const evidence: Record<string, number> = { epoch: last.epoch };
    for (const d of dead) evidence[`dead_units/${d.index}`] = d.fraction;
    const list = dead.map((d) => `${pct(d.fraction)} of layer ${d.index}`).join(', ');
    return {
      kind: 'dead-units', cause: 'learning-rate-too-high',
      message: `ReLU units died: ${list} output 0 for every sample of epoch ${last.epoch}, so no gradient reaches them ` +
        `again; large steps${lrText(ctx)} push units there`,
      evidence,
    };
  }
  // without dead_units/<i>: a ReLU-family net whose gradients all collapsed
  if (!ctx.activations.some((a) => RELU_FAMILY.has(a))) return null;
  const collapse = gradientsCollapsed(history);
  if (!collapse) return null;
  return {
    kind: 'dead-units', cause: 'learning-rate-too-high',
    message: `the gradients died: every layer's gradient norm fell to 1/100 of its peak or less (grad_norm/${collapse.layer} ` +
      `${fmt(collapse.peak)} → ${fmt(collapse.now)}) while the network still fits badly, the sign of ReLU units that output 0 for every ` +
      `input; large steps${lrText(ctx)} push units there`,
    evidence: { [`peak_grad_norm/${collapse.layer}`]: collapse.peak, [`grad_norm/${collapse.layer}`]: collapse.now, epoch: last.epoch },
  };
}
