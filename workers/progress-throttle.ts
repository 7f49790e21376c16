// Writes training progress to Postgres at most every `intervalMs` (default 2 s),
// with at most one write in flight: the trainer reports after every step, which
// would otherwise be thousands of UPDATEs a second.
import type { TrainProgress } from '../src/core/train-types.js';

export interface JobProgress extends TrainProgress {
  updatedAt: string;
}

export function toJobProgress(p: TrainProgress): JobProgress {
  return { ...p, updatedAt: new Date().toISOString() };
}

export class ProgressThrottle {
  private lastWrite = 0;
  private inFlight: Promise<void> | null = null;
  latest: JobProgress | null = null;

  constructor(
    private readonly write: (p: JobProgress) => Promise<void>,
    private readonly intervalMs = 2_000,
    /** milliseconds; tests pass a clock of their own */
    private readonly now: () => number = Date.now,
  ) {}

  /** Called by the trainer's onProgress hook: synchronous, never throws. */
  report(p: TrainProgress): void {
    this.latest = toJobProgress(p);
    const now = this.now();
    if (this.inFlight || now - this.lastWrite < this.intervalMs) return;
    this.lastWrite = now;
    this.inFlight = this.write(this.latest).finally(() => {
      this.inFlight = null;
    });
  }

  /** The epoch-end write carries progress itself: restart the interval. */
  touched(): void {
    this.lastWrite = this.now();
  }

  /** Waits for a write in flight, so it cannot land after the job's final state. */
  async settle(): Promise<void> {
    await this.inFlight;
  }
}
