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
