// Response schemas shared by the routes. Each does serialization and the OpenAPI
// document at once.
import Type, { type Static, type TSchema } from 'typebox';
import { JOB_STATUSES } from '../db/repositories/job-status.js';
import type { JobFailure } from '../db/repositories/training-records.js';
import { CAUSES, FINDING_KINDS, type Diagnosis } from '../core/diagnosis.js';
import type { TrainProgress, TrainResult } from '../core/train-types.js';
import type { EarlyStoppingDecision } from '../core/types.js';
import { MONITORS } from '../spec/schema.js';

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable, machine-readable, e.g. VALIDATION_FAILED, NOT_FOUND' }),
      message: Type.String({ description: 'a sentence for people' }),
      details: Type.Array(
        Type.Object({
          pointer: Type.String({ description: 'JSON pointer to the field, e.g. /model/layers/3/units' }),
          message: Type.String(),
        }),
      ),
    }),
  },
  { title: 'Error' },
);

const Timestamp = (description: string) => Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description });

export const JobStatusSchema = Type.Enum([...JOB_STATUSES], {
  description: 'queued → running → succeeded | failed | cancelled | pruned (pruned: a sweep\'s pruner stopped the trial; a running job whose worker stopped goes back to queued)',
});

/**
 * A stored metric value: a number; null where the worker stored a non-finite value
 * (JSON has no NaN, so jsonb holds null); "NaN" / "Infinity" / "-Infinity" where it
 * was spelled with jsonNumber (src/db/json-number.ts).
 */
const StoredNumber = Type.Union([Type.Number(), Type.Null(), Type.Enum(['NaN', 'Infinity', '-Infinity'])]);
const MetricMap = (description: string) => Type.Record(Type.String(), StoredNumber, { description });

export const JobProgressSchema = Type.Object(
  {
    epoch: Type.Integer({ description: 'the epoch being trained (1-based); once finished, epochs completed' }),
    epochs: Type.Optional(Type.Integer({ description: 'spec.training.epochs' })),
    step: Type.Integer({ description: 'global optimizer step' }),
    batch: Type.Optional(Type.Integer({ description: 'batch within the epoch (1-based)' })),
    batchesPerEpoch: Type.Optional(Type.Integer()),
    samplesPerSecond: Type.Optional(StoredNumber),
    etaSeconds: Type.Optional(StoredNumber),
    threads: Type.Optional(Type.Integer({ description: 'threads this attempt trains with (spec.training.threads, else the worker\'s TRAINER_THREADS)' })),
    updatedAt: Type.String({ format: 'date-time', description: 'when the worker wrote this (at most every 2 s)' }),
  },
  { title: 'JobProgress' },
);

export const StopDecisionSchema = Type.Object(
  {
    epoch: Type.Integer(),
    monitor: Type.Enum([...MONITORS]),
    value: StoredNumber,
    best: StoredNumber,
    bestEpoch: Type.Integer(),
    wait: Type.Integer({ description: 'epochs since the last improvement' }),
    decision: Type.Enum(['improved', 'continue', 'stop']),
    reason: Type.String(),
  },
  { title: 'StopDecision' },
);

export const JobResultSchema = Type.Object(
  {
    threads: Type.Optional(Type.Integer({ description: 'threads the last attempt trained with' })),
    epochs: Type.Integer({ description: 'epochs completed' }),
    step: Type.Integer({ description: 'global optimizer steps' }),
    finalMetrics: MetricMap('the last epoch\'s metrics (after restoreBest: the best epoch\'s)'),
    best: Type.Union([Type.Object({ epoch: Type.Integer(), metrics: MetricMap('that epoch\'s metrics') }), Type.Null()], {
      description: 'the best epoch by the early-stopping monitor (else train_loss)',
    }),
    testMetrics: Type.Union([MetricMap('test_loss, test_accuracy'), Type.Null()], { description: 'where the data set has a test split' }),
    stoppedEarly: Type.Boolean(),
    stopDecision: Type.Union([StopDecisionSchema, Type.Null()], { description: 'the early-stopping decision that stopped the job' }),
  },
  { title: 'JobResult' },
);

export const JobErrorSchema = Type.Object(
  {
    code: Type.String({ description: 'e.g. DIVERGED, DATASET_MISSING, INCOMPATIBLE_WEIGHTS, WORKER_LOST, INTERNAL' }),
    message: Type.String({ description: 'what went wrong, for people' }),
    attempt: Type.Optional(Type.Integer({ description: 'the attempt that failed, where it is not the current one' })),
    epoch: Type.Optional(Type.Integer()),
    step: Type.Optional(Type.Integer()),
  },
  { title: 'JobError' },
);

export const DiagnosisSchema = Type.Object(
  {
    verdict: Type.Enum(['healthy', 'underfitting', 'overfitting', 'vanishing-gradients', 'not-learning', 'train-longer', 'too-early']),
    cause: Type.Optional(Type.Union([Type.Enum([...CAUSES]), Type.Null()], { description: 'what in the spec the main finding blames, if anything' })),
    severity: Type.Optional(Type.Union([Type.Enum(['mild', 'clear']), Type.Null()], { description: 'overfitting: mild (beyond the noise, but small) or clear' })),
    summary: Type.String(),
    findings: Type.Array(Type.Object({
      kind: Type.Enum([...FINDING_KINDS]),
      message: Type.String(),
      evidence: MetricMap('the numbers the finding rests on'),
      cause: Type.Optional(Type.Enum([...CAUSES])),
      severity: Type.Optional(Type.Enum(['mild', 'clear'])),
    })),
    suggestions: Type.Array(Type.String()),
  },
  { title: 'Diagnosis', description: 'what the training curves say, in the order of the "tips for training deep networks"' },
);

const nullable = <T extends TSchema>(schema: T, description: string) => Type.Union([schema, Type.Null()], { description });

/** The fields a job and a list item share. */
const jobHeader = {
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  status: JobStatusSchema,
  attempt: Type.Integer({ description: 'how many times a worker has started this job' }),
  cancelRequested: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Timestamp('when the latest attempt started'),
  finishedAt: Timestamp('when the job reached succeeded, failed, cancelled or pruned'),
  progress: nullable(JobProgressSchema, 'null until a worker reports'),
};

export const JobSchema = Type.Object(
  {
    ...jobHeader,
    spec: Type.Unknown({ description: 'the job spec as it trains, with every default filled in (see JobSpec)' }),
    result: nullable(JobResultSchema, 'once succeeded'),
    error: nullable(JobErrorSchema, 'once failed; also while queued again after a lost worker'),
    diagnosis: nullable(DiagnosisSchema, 'from the first epoch on'),
    sweepId: nullable(Type.String({ format: 'uuid' }), 'the sweep this job is a trial of (GET /v1/sweeps/{id}); null for a job submitted on its own'),
  },
  { title: 'Job' },
);

export const JobSummarySchema = Type.Object(
  {
    ...jobHeader,
    specSummary: Type.Object({
      dataset: Type.String({ description: 'spec.dataset.name' }),
      layers: Type.Integer({ description: 'how many layers spec.model.layers has' }),
      epochs: Type.Integer({ description: 'spec.training.epochs' }),
      optimizer: Type.String({ description: 'spec.optimizer.type' }),
      loss: Type.String({ description: 'spec.loss' }),
    }),
    best: nullable(Type.Object({ epoch: Type.Integer(), metrics: MetricMap("that epoch's metrics") }), "result.best once succeeded"),
    error: nullable(Type.Object({ code: Type.String(), message: Type.String() }), 'error.code and error.message once failed'),
    verdict: nullable(DiagnosisSchema.properties.verdict, 'diagnosis.verdict'),
  },
  {
    title: 'JobSummary',
    description: 'A list item: the job without its spec (inline data can be megabytes), result and diagnosis; GET /v1/jobs/{id} has them all.',
  },
);

export const JobListSchema = Type.Object({
  items: Type.Array(JobSummarySchema),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` for the next page; null on the last page' }),
});

export type JobView = Static<typeof JobSchema>;
export type JobSummaryView = Static<typeof JobSummarySchema>;

// Compile-time: what the worker stores fits these schemas.
type Assert<T extends true> = T;
type Fits<A, B> = [A] extends [B] ? true : false;
export type _StoredShapesFit = [
  Assert<Fits<TrainProgress & { updatedAt: string }, Static<typeof JobProgressSchema>>>,
  Assert<Fits<JobFailure, Static<typeof JobErrorSchema>>>,
  Assert<Fits<Diagnosis, Static<typeof DiagnosisSchema>>>,
  Assert<Fits<EarlyStoppingDecision, Static<typeof StopDecisionSchema>>>,
  Assert<Fits<Pick<TrainResult, 'epochs' | 'step' | 'finalMetrics' | 'best' | 'testMetrics' | 'stoppedEarly' | 'stopDecision'>, Static<typeof JobResultSchema>>>,
];

/** A number, or NaN / ±Infinity (not JSON numbers) as the strings "NaN", "Infinity", "-Infinity". */
export const JsonNumberSchema = Type.Union([Type.Number(), Type.Enum(['NaN', 'Infinity', '-Infinity'])], {
  description: 'a number; NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity"',
});

export { jsonNumber, type JsonNumber } from '../db/json-number.js';

export const CheckpointSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    kind: Type.Enum(['epoch', 'resume', 'final', 'upload'], {
      description:
        'epoch: written at the end of an epoch (with optimizer state for resuming); resume: where an attempt stopped inside an epoch ' +
        '(shutdown or cancel); final: the weights the job ended with; upload: POST /v1/checkpoints',
    }),
    epoch: Type.Union([Type.Integer(), Type.Null()]),
    step: Type.Union([Type.Integer(), Type.Null()], { description: 'global optimizer step' }),
    metrics: Type.Union([Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()])), Type.Null()], {
      description: "that epoch's metrics (null for a non-finite value)",
    }),
    size: Type.Integer({ description: 'bytes' }),
    sha256: Type.String({ description: 'hex SHA-256 of the file; also its ETag' }),
    best: Type.Boolean({
      description: "the checkpoint holding the weights of the job's best epoch (early stopping's bestEpoch, else the lowest val_loss or train_loss): " +
        "that epoch's checkpoint, or the final one when the job restored the best weights; none when nothing holds them",
    }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Checkpoint' },
);

export const CheckpointListSchema = Type.Object({
  items: Type.Array(CheckpointSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` for the next page; null on the last page' }),
});

export const TensorInfoSchema = Type.Object({
  name: Type.String({ description: 'e.g. layers.0.weight' }),
  shape: Type.Array(Type.Integer()),
  dtype: Type.String({ description: 'safetensors dtype, e.g. F32' }),
});

export const UploadedCheckpointSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'use as initialWeights.checkpointId' }),
    kind: Type.Literal('upload'),
    size: Type.Integer({ description: 'bytes' }),
    sha256: Type.String(),
    tensors: Type.Array(TensorInfoSchema),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'UploadedCheckpoint' },
);

export const EarlyStoppingDecisionSchema = Type.Object(
  {
    epoch: Type.Integer(),
    monitor: Type.String({ description: 'val_loss, val_accuracy, train_loss or train_accuracy' }),
    value: JsonNumberSchema,
    best: JsonNumberSchema,
    bestEpoch: Type.Integer(),
    wait: Type.Integer({ description: 'epochs since the last improvement' }),
    decision: Type.Enum(['improved', 'continue', 'stop']),
    reason: Type.String({ description: 'the decision in a sentence' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'EarlyStoppingDecision' },
);

export const EarlyStoppingListSchema = Type.Object({ items: Type.Array(EarlyStoppingDecisionSchema) });

export const MAX_PREDICT_ROWS = 10_000;

export const PredictRequestSchema = Type.Object(
  {
    inputs: Type.Array(Type.Array(Type.Number()), {
      minItems: 1,
      maxItems: MAX_PREDICT_ROWS,
      description: `rows of input features, each as wide as the model's input (e.g. 784 for MNIST); 1 to ${MAX_PREDICT_ROWS} rows`,
    }),
    weights: Type.Optional(Type.Enum(['best', 'final'], {
      description: "final (default): the weights the job ended with (while it runs: its newest checkpoint); best: the job's best checkpoint",
    })),
  },
  // unknown fields are refused, as in specs: a misspelt "weight" must not silently mean final
  { title: 'PredictRequest', additionalProperties: false },
);

export const PredictResponseSchema = Type.Object(
  {
    outputs: Type.Array(Type.Array(Type.Number()), { description: 'one row per input: class probabilities for a softmax output, else the output values' }),
    predictions: Type.Optional(Type.Array(Type.Integer(), { description: 'arg-max class per input (classifiers only)' })),
    checkpointId: Type.String({ format: 'uuid', description: 'the checkpoint whose weights were used' }),
    epoch: Type.Union([Type.Integer(), Type.Null()], { description: "that checkpoint's epoch" }),
  },
  { title: 'Prediction' },
);
