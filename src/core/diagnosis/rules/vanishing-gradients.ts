// Vanishing gradients: with sigmoid or tanh, each layer multiplies the backward signal
// by σ' ≤ 1/4 (tanh' ≤ 1), so layers near the input get tiny gradients and barely move
// while the last layers converge. Evidence: the first layer's grad_norm against the last's.
import { saturatingLayers } from '../facts.js';
import { fmt } from '../series.js';
import type { DiagnosisContext, EpochMetrics, Finding } from '../types.js';

/** Two orders of magnitude between the first and the last layer's gradient norm: saturation, not noise. */
export const VANISHING_RATIO = 1e-2;

export function vanishingGradients(record: EpochMetrics, ctx: DiagnosisContext): Finding | null {
  const saturating = saturatingLayers(ctx);
  if (saturating.length === 0) return null;
  const layers = Object.keys(record.metrics)
    .filter((k) => k.startsWith('grad_norm/'))
    .map((k) => Number(k.slice('grad_norm/'.length)))
    .filter((i) => Number.isInteger(i))
    .sort((a, b) => a - b);
  if (layers.length < 2) return null;
  const firstLayer = layers[0]!, lastLayer = layers[layers.length - 1]!;
  const gFirst = record.metrics[`grad_norm/${firstLayer}`]!, gLast = record.metrics[`grad_norm/${lastLayer}`]!;
  if (!(gLast > 0) || !Number.isFinite(gFirst)) return null;
  const ratio = gFirst / gLast;
  if (ratio >= VANISHING_RATIO) return null;

  const evidence: Record<string, number> = {
    [`grad_norm/${firstLayer}`]: gFirst, [`grad_norm/${lastLayer}`]: gLast, ratio, saturating_layers: saturating.length, epoch: record.epoch,
  };
  for (const i of [firstLayer, lastLayer]) {
    const u = record.metrics[`update_ratio/${i}`];
    if (u !== undefined) evidence[`update_ratio/${i}`] = u;
  }
  const kinds = [...new Set(saturating)].join('/');
  return {
    kind: 'vanishing-gradients', cause: 'saturating-activations',
    message: `the first layer's gradient norm (grad_norm/${firstLayer} = ${fmt(gFirst)}) is ` +
      (ratio > 0 ? `${Math.log10(1 / ratio).toFixed(1)} orders of magnitude below` : 'zero, far below') +
      ` the last layer's (grad_norm/${lastLayer} = ${fmt(gLast)}): through ${saturating.length} ${kinds} hidden layers ` +
      `the gradient shrinks at every layer, so layers near the input barely move while the last ones converge`,
    evidence,
  };
}
