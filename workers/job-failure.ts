// Which errors end a job for good (failed, not retried) and how they read to a person.
import { DivergenceError, IncompatibleWeightsError, ResumeError } from '../src/core/errors.js';
import { DatasetError } from '../src/data/errors.js';
import type { JobFailure } from '../src/db/repositories/training-records.js';

/** A job that can never train: the spec, its dataset or its weights are the problem. */
export class JobSpecError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'JobSpecError';
  }
}

/** Retrying cannot help with these: BullMQ gets an UnrecoverableError. */
export function isPermanent(err: unknown): boolean {
  return (
    err instanceof DivergenceError ||
    err instanceof IncompatibleWeightsError ||
    err instanceof ResumeError ||
    err instanceof DatasetError ||
    err instanceof JobSpecError
  );
}

export function describeFailure(err: unknown): JobFailure {
  if (err instanceof DivergenceError) return { code: err.code, message: err.message, epoch: err.epoch, step: err.step };
  if (err instanceof IncompatibleWeightsError || err instanceof ResumeError || err instanceof DatasetError || err instanceof JobSpecError) {
    return { code: err.code, message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message: `the worker failed: ${message}` };
}
