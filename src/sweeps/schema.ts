// The sweep body (DESIGN.md "Sweeps") as one TypeBox schema: the route's schema, the
// OpenAPI document and the static types come from here. What relates fields to
// each other (pointers vs the job-spec schema, ranges, grid size, every trial's spec)
// is checked in validate.ts.
import Type, { type Static } from 'typebox';
import { LIMITS, MONITORS } from '../spec/schema.js';

/** A sweep is one machine's worth of jobs, not a cluster's. */
export const SWEEP_LIMITS = {
  maxTrials: 1_000,
  parallelism: 100,
  parameters: 32,
} as const;

export const DISTRIBUTIONS = ['uniform', 'log-uniform', 'int-uniform'] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

export const ValuesParameterSchema = Type.Object({
  values: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 1_000, description: 'The values to try (categorical).' }),
}, { additionalProperties: false, description: 'A categorical parameter: grid takes every value in order, random picks one uniformly.' });

export const RangeParameterSchema = Type.Object({
  distribution: Type.Enum([...DISTRIBUTIONS], {
    description: "'uniform' in [min, max), 'log-uniform' (log of the value uniform; min > 0), 'int-uniform' (an integer in [min, max]). Needs method 'random'.",
  }),
  min: Type.Number({ description: 'Lower end of the range.' }),
  max: Type.Number({ description: 'Upper end of the range.' }),
}, { additionalProperties: false, description: 'A sampled parameter (method random only).' });

export const ParameterSchema = Type.Union([ValuesParameterSchema, RangeParameterSchema], {
  description: '`values` (categorical) or a `distribution` with `min` and `max`.',
});

export const ObjectiveSchema = Type.Object({
  metric: Type.Enum([...MONITORS], { description: 'The per-epoch metric the sweep optimises.' }),
  mode: Type.Optional(Type.Enum(['min', 'max'], { description: 'Default: max for accuracies, min for losses.' })),
}, { additionalProperties: false });

export const PRUNER_TYPES = ['none', 'median', 'asha'] as const;
export type PrunerType = (typeof PRUNER_TYPES)[number];

export const PrunerSchema = Type.Object({
  type: Type.Enum([...PRUNER_TYPES], {
    description: "'none', 'median' (Vizier's median stopping rule) or 'asha' (asynchronous successive halving).",
  }),
  minEpochs: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.epochs, description: 'No decision before this epoch (and ASHA\'s first rung). Default 1.' })),
  reductionFactor: Type.Optional(Type.Integer({ minimum: 2, maximum: 100, description: 'ASHA: rungs at minEpochs · reductionFactor^k; the top 1/reductionFactor continue. Default 3.' })),
}, { additionalProperties: false });

export const SweepSpecSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: LIMITS.nameLength, description: 'A name for the sweep, 1 to 200 characters.' }),
  spec: Type.Unknown({ description: 'A complete job spec: the base of every trial.' }),
  parameters: Type.Record(Type.String(), ParameterSchema, {
    minProperties: 1, maxProperties: SWEEP_LIMITS.parameters,
    description: 'JSON pointers into the spec (e.g. /optimizer/learningRate), each with its values or range.',
  }),
  method: Type.Enum(['grid', 'random'], { description: "'grid': the cartesian product of the values, in order; 'random': maxTrials samples." }),
  maxTrials: Type.Optional(Type.Integer({
    minimum: 1, maximum: SWEEP_LIMITS.maxTrials,
    description: 'random: how many trials (required). grid: an upper bound on the product (default: the product).',
  })),
  parallelism: Type.Optional(Type.Integer({ minimum: 1, maximum: SWEEP_LIMITS.parallelism, description: 'Trials queued or running at once. Default 1.' })),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.seed, description: 'Seed of the random sampler: same seed, same trials. Default 0.' })),
  objective: ObjectiveSchema,
  pruner: Type.Optional(PrunerSchema),
}, { title: 'SweepSpec', additionalProperties: false, description: 'A sweep: many variants of one job spec.' });

export type SweepSpec = Static<typeof SweepSpecSchema>;
export type ParameterSpec = Static<typeof ParameterSchema>;
export type RangeParameter = Static<typeof RangeParameterSchema>;

/** A value of a JSON document (what a parameter sets). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface Objective {
  metric: (typeof MONITORS)[number];
  mode: 'min' | 'max';
}

export interface PrunerSettings {
  type: PrunerType;
  minEpochs: number;
  reductionFactor: number;
}

/** One trial of the plan: the value of each parameter, in the sweep's parameter order. */
export type TrialParams = Record<string, JsonValue>;

/** A sweep with every default filled in, and its whole plan. */
export interface NormalizedSweep {
  name: string;
  /** the base spec as submitted */
  spec: Record<string, JsonValue>;
  parameters: Record<string, ParameterSpec>;
  method: 'grid' | 'random';
  maxTrials: number;
  parallelism: number;
  seed: number;
  objective: Objective;
  pruner: PrunerSettings;
  trials: TrialParams[];
}

export function objectiveMode(metric: string, mode: 'min' | 'max' | undefined): 'min' | 'max' {
  return mode ?? (metric.endsWith('accuracy') ? 'max' : 'min');
}
