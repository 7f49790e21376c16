// Response schemas shared by the routes. Each does serialization and the OpenAPI
// document at once.
import Type from 'typebox';
import { JOB_STATUSES } from '../db/repositories/job-status.js';

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
  description: 'queued → running → succeeded | failed | cancelled (a running job whose worker stopped goes back to queued)',
});

export const JobSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    status: JobStatusSchema,
    spec: Type.Unknown({ description: 'the job spec as it trains, with every default filled in' }),
    attempt: Type.Integer({ description: 'how many times a worker has started this job' }),
    cancelRequested: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Timestamp('when the latest attempt started'),
    finishedAt: Timestamp('when the job reached succeeded, failed or cancelled'),
    progress: Type.Unknown({ description: '{ epoch, epochs, step, batch, batchesPerEpoch, samplesPerSecond, etaSeconds, updatedAt } while running' }),
    result: Type.Unknown({ description: '{ epochs, step, finalMetrics, best, testMetrics, stoppedEarly, stopDecision } once succeeded' }),
    error: Type.Unknown({ description: '{ code, message, epoch?, step? } once failed' }),
    diagnosis: Type.Unknown({ description: 'what the training curves say (e.g. vanishing gradients, overfitting)' }),
  },
  { title: 'Job' },
);

export const JobListSchema = Type.Object({
  items: Type.Array(JobSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` for the next page; null on the last page' }),
});

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
