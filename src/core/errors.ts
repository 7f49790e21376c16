// Errors a caller must tell apart. A job failing with one of these can never succeed
// by retrying (BullMQ's UnrecoverableError is raised for them by the worker).

/** Loss or weights became NaN/Inf: names where and the likely cause. */
export class DivergenceError extends Error {
  readonly code = 'DIVERGED';
  constructor(message: string, readonly epoch: number, readonly step: number, readonly detail: Record<string, number | string> = {}) {
    super(message);
    this.name = 'DivergenceError';
  }
}

/** Initial weights or a resume checkpoint whose tensors do not fit the spec's model. */
export class IncompatibleWeightsError extends Error {
  readonly code = 'INCOMPATIBLE_WEIGHTS';
  constructor(message: string, readonly problems: string[] = []) {
    super(problems.length ? `${message}: ${problems.join('; ')}` : message);
    this.name = 'IncompatibleWeightsError';
  }
}

/** A checkpoint that is not a resume checkpoint of this trainer (or of another spec). */
export class ResumeError extends Error {
  readonly code = 'BAD_RESUME_CHECKPOINT';
  constructor(message: string) {
    super(message);
    this.name = 'ResumeError';
  }
}
