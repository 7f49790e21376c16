// Base specs from examples/experiments, scaled to the run's budget level.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context, Level } from './types.js';

// A job spec as JSON: the experiments edit copies of it field by field.
export type Spec = any;

export function loadSpec(ctx: Context, file: string): Spec {
  return JSON.parse(readFileSync(join(ctx.examples, file), 'utf8'));
}

/** The spec at this level: quick caps data and epochs hard; moderate takes the claim's own caps; full is the file. */
export function scaled(spec: Spec, level: Level, moderate: { limit?: number; epochs?: number }): Spec {
  const s = structuredClone(spec);
  const cap = level === 'quick' ? { limit: 600, epochs: 2 } : level === 'moderate' ? moderate : {};
  if (cap.limit !== undefined) s.dataset.limit = Math.min(s.dataset.limit ?? Infinity, cap.limit);
  if (cap.epochs !== undefined) s.training.epochs = Math.min(s.training.epochs, cap.epochs);
  if (level === 'quick') {
    // the code path, not the result: small batches and narrow layers keep CI fast
    if (s.training.batchSize > 64) s.training.batchSize = 64;
    for (const l of s.model.layers) if (l.units > 32 && l !== s.model.layers.at(-1)) l.units = 32;
  }
  return s;
}

export function budgetOf(spec: Spec): string {
  const d = spec.dataset;
  return `${d.name}${d.limit !== undefined ? ` limit ${d.limit}` : ' (all)'}, validationSplit ${d.validationSplit ?? 0}, ${spec.training.epochs} epoch${spec.training.epochs === 1 ? "" : "s"}, batch ${spec.training.batchSize}`;
}

/** The last value of a metric series, or NaN. */
export function last(points: Array<{ value: number }> | undefined): number {
  return points && points.length ? points[points.length - 1].value : NaN;
}

export function curve(points: Array<{ epoch: number; value: number }> | undefined): Array<[number, number]> {
  return (points ?? []).map((p) => [p.epoch, p.value]);
}

export const round = (v: number, d = 4): number => +v.toFixed(d);
