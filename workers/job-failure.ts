// Which errors end a job for good (failed, not retried) and how they read to a person.
import { DivergenceError, IncompatibleWeightsError, ResumeError } from '../src/core/errors.js';
import { DatasetError } from '../src/data/errors.js';
import type { JobFailure } from '../src/db/repositories/training-records.js';
import { formatProblems, JobSpecError } from '../src/spec/index.js';

/**
 * A job that can never train for a reason the worker finds itself (its initial
 * weights are gone, …). An invalid stored spec is the spec's own JobSpecError
 * (src/spec/validate.ts), which carries every problem with its pointer.
 */
export class PermanentJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

/** Retrying cannot help with these: BullMQ gets an UnrecoverableError. */
export function isPermanent(err: unknown): boolean {
  return (
    err instanceof DivergenceError ||
    err instanceof IncompatibleWeightsError ||
    err instanceof ResumeError ||
    err instanceof DatasetError ||
    err instanceof JobSpecError ||
    err instanceof PermanentJobError
  );
}

export function describeFailure(err: unknown): JobFailure {
  if (err instanceof DivergenceError) return { code: err.code, message: err.message, epoch: err.epoch, step: err.step };
  if (err instanceof JobSpecError) return { code: 'INVALID_SPEC', message: `the stored spec is not valid: ${formatProblems(err.problems)}` };
  if (err instanceof IncompatibleWeightsError || err instanceof ResumeError || err instanceof DatasetError || err instanceof PermanentJobError) {
    return { code: err.code, message: err.message };
  }
  // one line: driver errors (Prisma's above all) come with blank lines and indentation
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  return { code: 'INTERNAL', message: `the worker failed: ${message}` };
}
