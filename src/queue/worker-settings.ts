// Lock and stall settings for training jobs, which run for minutes to hours.
import type { WorkerOptions } from 'bullmq';
import type { Config } from '../config.js';

/**
 * lockDuration 60 s, renewed every 30 s while the job runs (BullMQ renews at half
 * the duration; the trainer yields to the event loop every 50 ms so renewals get
 * through). A worker that dies stops renewing; within lockDuration + 2 ×
 * stalledInterval another worker's stall check moves the job back to waiting and
 * the next attempt resumes from the latest checkpoint.
 * maxStalledCount 2: the third time a job loses its worker it fails ("the worker
 * running this job died 3 times") instead of killing workers forever.
 */
export const WORKER_DEFAULTS = {
  lockDuration: 60_000,
  stalledInterval: 30_000,
  maxStalledCount: 2,
} as const satisfies Partial<WorkerOptions>;

export type TrainWorkerSettings = { lockDuration: number; stalledInterval: number; maxStalledCount: number };

/** WORKER_LOCK_MS / WORKER_STALLED_INTERVAL_MS / WORKER_MAX_STALLED_COUNT over the defaults. */
export function trainWorkerSettings(
  config: Pick<Config, 'workerLockMs' | 'workerStalledIntervalMs' | 'workerMaxStalledCount'>,
): TrainWorkerSettings {
  return {
    lockDuration: config.workerLockMs ?? WORKER_DEFAULTS.lockDuration,
    stalledInterval: config.workerStalledIntervalMs ?? WORKER_DEFAULTS.stalledInterval,
    maxStalledCount: config.workerMaxStalledCount ?? WORKER_DEFAULTS.maxStalledCount,
  };
}

