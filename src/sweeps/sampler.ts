// The trial plan: grid expansion (the cartesian product, in order) and seeded random
// sampling. Both are pure functions of the sweep body, so the same body (the same
// seed) gives the same trials in the same order.
import { uniform } from '../core/rng.js';
import type { JsonValue, ParameterSpec, RangeParameter, TrialParams } from './schema.js';

/** The rng stream of sweep sampling (src/core/rng.ts streams 1-5 are training's). */
export const SWEEP_STREAM = 11;

export type ParameterList = readonly (readonly [pointer: string, spec: ParameterSpec])[];

export function isRange(p: ParameterSpec): p is RangeParameter {
  return 'distribution' in p;
}

/** How many trials the grid has: the product of the value counts. */
export function gridSize(parameters: ParameterList): number {
  return parameters.reduce((n, [, p]) => n * (isRange(p) ? 1 : p.values.length), 1);
}

/**
 * itertools.product order: the first parameter varies slowest, the last fastest.
 * Callers check gridSize first (only categorical parameters, at most maxTrials).
 */
export function gridTrials(parameters: ParameterList): TrialParams[] {
  const out: TrialParams[] = [];
  const n = gridSize(parameters);
  for (let i = 0; i < n; i++) {
    const trial: TrialParams = {};
    let rest = i;
    for (let j = parameters.length - 1; j >= 0; j--) {
      const [pointer, p] = parameters[j]!;
      const values = (p as { values: JsonValue[] }).values;
      trial[pointer] = values[rest % values.length]!;
      rest = Math.floor(rest / values.length);
    }
    // keep the sweep's parameter order in the object
    out.push(Object.fromEntries(parameters.map(([pointer]) => [pointer, trial[pointer]!])));
  }
  return out;
}

/**
 * One draw of a parameter from u ∈ [0, 1):
 * - values: values[⌊u·n⌋]
 * - uniform: min + u·(max − min)
 * - log-uniform: exp(ln min + u·(ln max − ln min))
 * - int-uniform: min + ⌊u·(max − min + 1)⌋, so both ends are reachable
 */
export function draw(p: ParameterSpec, u: number): JsonValue {
  if (!isRange(p)) return p.values[Math.min(p.values.length - 1, Math.floor(u * p.values.length))] as JsonValue;
  const { min, max } = p;
  switch (p.distribution) {
    case 'uniform': return min + u * (max - min);
    case 'log-uniform': return Math.min(max, Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))));
    case 'int-uniform': return Math.min(max, min + Math.floor(u * (max - min + 1)));
  }
}

/** Trial i's parameter j comes from the counter (seed, SWEEP_STREAM, i, j): no trial depends on another. */
export function randomTrials(parameters: ParameterList, count: number, seed: number): TrialParams[] {
  const out: TrialParams[] = [];
  for (let i = 0; i < count; i++) {
    out.push(Object.fromEntries(parameters.map(([pointer, p], j) => [pointer, draw(p, uniform(seed, SWEEP_STREAM, i, j))])));
  }
  return out;
}
