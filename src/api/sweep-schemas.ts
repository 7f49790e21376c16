// Response schemas of the sweep routes (DESIGN.md "Sweeps"): serialization and the
// OpenAPI document at once.
import Type, { type Static } from 'typebox';
import { JobStatusSchema } from './schemas.js';
import { ObjectiveSchema, ParameterSchema } from '../sweeps/schema.js';
import { JOB_STATUSES } from '../db/repositories/job-status.js';
import { SWEEP_STATUSES } from '../db/repositories/sweeps.js';

const Timestamp = (description: string) => Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description });
/** Objective values: finite numbers (NaN epochs are never the best). */
const Value = Type.Number();
const Params = Type.Record(Type.String(), Type.Unknown(), { description: '{ "<pointer>": value } for each of the sweep\'s parameters' });

export const SweepStatusSchema = Type.Enum([...SWEEP_STATUSES], {
  description: 'running → succeeded (every trial ended, at least one succeeded or was pruned) | failed | cancelled',
});

const sweepHeader = {
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  status: SweepStatusSchema,
  parameters: Type.Record(Type.String(), ParameterSchema),
  method: Type.Enum(['grid', 'random']),
  maxTrials: Type.Integer({ description: 'trials in the plan (grid: the product)' }),
  parallelism: Type.Integer(),
  seed: Type.Integer(),
  objective: Type.Object({ metric: ObjectiveSchema.properties.metric, mode: Type.Enum(['min', 'max']) }),
  pruner: Type.Object({
    type: Type.Enum(['none', 'median', 'asha']),
    minEpochs: Type.Integer(),
    reductionFactor: Type.Integer(),
  }),
  counts: Type.Object(Object.fromEntries(JOB_STATUSES.map((s) => [s, Type.Integer()])) as Record<(typeof JOB_STATUSES)[number], ReturnType<typeof Type.Integer>>, {
    description: 'trials per status (trials not created yet are in none)',
  }),
  best: Type.Union([
    Type.Object({ jobId: Type.String({ format: 'uuid' }), params: Params, value: Value, epoch: Type.Integer() }),
    Type.Null(),
  ], { description: 'the best objective over every trial, pruned ones included; null before any epoch' }),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Timestamp('when the sweep ended'),
};

export const SweepSchema = Type.Object({
  ...sweepHeader,
  spec: Type.Unknown({ description: 'the base spec of every trial, as submitted' }),
}, { title: 'Sweep' });

export const SweepSummarySchema = Type.Object(sweepHeader, { title: 'SweepSummary', description: 'a sweep without its base spec' });

export const SweepListSchema = Type.Object({
  items: Type.Array(SweepSummarySchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
}, { title: 'SweepList' });

export const TrialSchema = Type.Object({
  jobId: Type.String({ format: 'uuid', description: 'the trial is an ordinary job: GET /v1/jobs/{jobId}' }),
  index: Type.Integer({ description: 'its place in the sweep\'s plan' }),
  params: Params,
  status: JobStatusSchema,
  value: Type.Union([Value, Type.Null()], { description: 'the trial\'s best objective so far' }),
  epoch: Type.Union([Type.Integer(), Type.Null()], { description: 'the epoch that reached it' }),
  epochsTrained: Type.Integer(),
}, { title: 'Trial' });

export const TrialListSchema = Type.Object({
  items: Type.Array(TrialSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
}, { title: 'TrialList' });

export const SweepDecisionSchema = Type.Object({
  jobId: Type.String({ format: 'uuid' }),
  epoch: Type.Integer(),
  rung: Type.Union([Type.Integer(), Type.Null()], { description: 'ASHA: k, with epoch = minEpochs · reductionFactor^k' }),
  value: Value,
  threshold: Type.Union([Value, Type.Null()], { description: 'what value was compared with; null when there was nothing to compare with' }),
  decision: Type.Enum(['continue', 'prune', 'promote']),
  reason: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
}, { title: 'SweepDecision' });

export const SweepDecisionListSchema = Type.Object({ items: Type.Array(SweepDecisionSchema) }, { title: 'SweepDecisionList' });

export type SweepView = Static<typeof SweepSchema>;
export type SweepSummaryView = Static<typeof SweepSummarySchema>;
