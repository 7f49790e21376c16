// What the spec says about the model, in the words the rules need: hidden layers and
// their widths, the narrowest one, dropout layers, saturating activations.
import type { DiagnosisContext } from './types.js';

export const SATURATING = new Set(['sigmoid', 'tanh']);

export interface HiddenLayer { index: number; units: number; activation: string }

/** The layers before the output layer that have units (dense, maxout), by spec index. */
export function hiddenLayers(ctx: DiagnosisContext): HiddenLayer[] {
  const layers = ctx.layers;
  if (!layers) return [];
  let last = -1;
  for (let i = 0; i < layers.length; i++) if (layers[i]!.type !== 'dropout') last = i;
  const out: HiddenLayer[] = [];
  layers.forEach((l, index) => {
    if (index === last || l.type === 'dropout') return;
    out.push({ index, units: l.units, activation: l.type === 'dense' ? l.activation : l.type });
  });
  return out;
}

/** Hidden layers narrower than the number of classes: the information cannot get through them. */
export function narrowLayers(ctx: DiagnosisContext): HiddenLayer[] {
  if (ctx.task !== 'classification') return [];
  return hiddenLayers(ctx).filter((l) => l.units < ctx.outputSize);
}

export function dropoutLayers(ctx: DiagnosisContext): Array<{ index: number; rate: number }> {
  return (ctx.layers ?? []).flatMap((l, index) => (l.type === 'dropout' ? [{ index, rate: l.rate }] : []));
}

/** Hidden layers with sigmoid or tanh (from the activations when no layers are given). */
export function saturatingLayers(ctx: DiagnosisContext): string[] {
  const hidden = hiddenLayers(ctx);
  if (hidden.length > 0) return hidden.map((l) => l.activation).filter((a) => SATURATING.has(a));
  return ctx.activations.slice(0, -1).filter((a) => SATURATING.has(a));
}

/** "layer 1 (2 units)", "layers 1 and 3 (rate 0.5, 0.5)" */
export function listLayers(items: Array<{ index: number }>, detail: (x: never) => string): string {
  const ix = items.map((x) => String(x.index));
  const names = ix.length === 1 ? `layer ${ix[0]}` : `layers ${ix.slice(0, -1).join(', ')} and ${ix.at(-1)}`;
  return `${names} (${items.map((x) => detail(x as never)).join(', ')})`;
}
