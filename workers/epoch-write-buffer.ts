// Training outlives a Postgres outage: each epoch's writes (metric points, decision,
// checkpoint, event) go through this buffer, in order. While Postgres answers, a
// submit resolves when its write has committed, exactly as a direct write. While it
// is unreachable the writes wait here and are retried with exponential backoff
// (initialBackoffMs, doubling up to maxBackoffMs), and training goes on; past
// maxHeld waiting writes, submit does not resolve until one commits: training
// pauses instead of dropping data (each held epoch holds its checkpoint's bytes).
//
// Exactly once: a write is retried only when it failed for a connection reason, and
// recordEpoch is idempotent (upserts keyed by (job, name, step) and (job, epoch), one
// 'epoch' event per epoch, a checkpoint replaces its epoch's), so a retry of a write
// whose commit reached Postgres but whose answer did not changes nothing.
import type { Logger } from '../src/logger.js';

export interface EpochWriteBufferOptions {
  /** writes held while Postgres is unreachable before training pauses (default 8) */
  maxHeld?: number;
  /** first retry delay (default 250 ms), doubled after each failure up to maxBackoffMs (default 5000 ms) */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** whether an error means "Postgres unreachable, retry" (anything else fails the job) */
  isRetryable: (err: unknown) => boolean;
  logger: Logger;
}

interface Entry {
  run: () => Promise<void>;
  done: boolean;
}

export class EpochWriteBuffer {
  private readonly entries: Entry[] = [];
  private draining = false;
  /** a retryable failure happened and no write has committed since */
  private unreachable = false;
  private failure: unknown = undefined;
  private waiters: (() => void)[] = [];
  private readonly maxHeld: number;

  constructor(private readonly opts: EpochWriteBufferOptions) {
    this.maxHeld = Math.max(1, opts.maxHeld ?? 8);
  }

  /** writes not committed yet */
  get held(): number {
    return this.entries.length;
  }

  /**
   * Queues `write`. Resolves once it committed, or, while Postgres is unreachable,
   * once it is held and at most maxHeld writes are waiting. Rejects with the first
   * non-retryable error of this or an earlier write.
   */
  async submit(write: () => Promise<void>): Promise<void> {
    const entry: Entry = { run: write, done: false };
    this.entries.push(entry);
    this.kick();
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (entry.done) return;
      if (this.unreachable && this.entries.length <= this.maxHeld) return;
      await this.changed();
    }
  }

  /** Resolves when every held write has committed; rejects with a non-retryable error. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (this.entries.length === 0) return;
      await this.changed();
    }
  }

  /**
   * Runs `write` (a terminal write: succeeded, failed, requeued) after every held
   * write, retrying it like them while Postgres is unreachable.
   */
  async writeAfterHeld<T>(write: () => Promise<T>): Promise<T> {
    await this.flush();
    let backoff = this.opts.initialBackoffMs ?? 250;
    for (;;) {
      try {
        return await write();
      } catch (err) {
        if (!this.opts.isRetryable(err)) throw err;
        this.opts.logger.warn({ err: errorText(err), retryInMs: backoff }, 'Postgres unreachable: the final write waits and retries');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 5000);
      }
    }
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = true;
    void this.drain().finally(() => {
      this.draining = false;
      this.notify();
    });
  }

  private async drain(): Promise<void> {
    let backoff = this.opts.initialBackoffMs ?? 250;
    let failures = 0;
    while (this.entries.length > 0 && this.failure === undefined) {
      const entry = this.entries[0]!;
      try {
        await entry.run();
      } catch (err) {
        if (!this.opts.isRetryable(err)) {
          this.failure = err;
          this.notify();
          return;
        }
        failures++;
        if (!this.unreachable) {
          this.opts.logger.warn({ err: errorText(err), held: this.entries.length }, 'Postgres unreachable: holding epoch writes and retrying; training goes on');
        }
        this.unreachable = true;
        this.notify();
        await sleep(backoff);
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 5000);
        continue;
      }
      this.entries.shift();
      entry.done = true;
      if (this.unreachable && this.entries.length === 0) {
        this.opts.logger.info({ retries: failures }, 'Postgres is back: every held epoch write has committed');
      }
      if (this.entries.length === 0) this.unreachable = false;
      backoff = this.opts.initialBackoffMs ?? 250;
      this.notify();
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message.split('\n').filter(Boolean).at(-1) ?? err.message : String(err);
}
