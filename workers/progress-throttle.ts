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
  /** a copy of the newest report (the trainer reuses its object) and when it came, ms since the epoch */
  private last: TrainProgress | null = null;
  private reportedAt = 0;

  constructor(
    private readonly write: (p: JobProgress) => Promise<void>,
    private readonly intervalMs = 2_000,
    /** milliseconds; tests pass a clock of their own */
    private readonly now: () => number = Date.now,
  ) {}

  /** The newest report, stamped with the time it came; null before the first. */
  get latest(): JobProgress | null {
    return this.last && { ...this.last, updatedAt: new Date(this.reportedAt).toISOString() };
  }

  /**
   * Called by the trainer's onProgress hook after every step: synchronous, never throws,
   * and allocates nothing unless a write is due.
   */
  report(p: TrainProgress): void {
    if (this.last) Object.assign(this.last, p);
    else this.last = { ...p };
    this.reportedAt = Date.now();
    const now = this.now();
    if (this.inFlight || now - this.lastWrite < this.intervalMs) return;
    this.lastWrite = now;
    this.inFlight = this.write(this.latest!).finally(() => {
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
