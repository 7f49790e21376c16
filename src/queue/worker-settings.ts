// Lock and stall settings for training jobs, which run for minutes to hours.
import type { WorkerOptions } from 'bullmq';
import type { Config } from '../config.js';

/**
 * lockDuration 60 s, renewed every 30 s while the job runs (BullMQ renews at half
 * the duration; the trainer yields to the event loop every 20 ms so renewals get
 * through). A worker that dies stops renewing; within lockDuration + 2 ×
 * stalledInterval another worker's stall check moves the job back to waiting and
 * the next attempt resumes from the latest checkpoint.
 * maxStalledCount 2: the third time a job loses its worker it fails ("the worker
 * running this job died 3 times") instead of killing workers forever.
 */
export type TrainWorkerSettings = Required<Pick<WorkerOptions, 'lockDuration' | 'stalledInterval' | 'maxStalledCount'>>;

/** BullMQ's names for WORKER_LOCK_MS / WORKER_STALLED_INTERVAL_MS / WORKER_MAX_STALLED_COUNT (defaults in src/config.ts). */
export function trainWorkerSettings(
  config: Pick<Config, 'workerLockMs' | 'workerStalledIntervalMs' | 'workerMaxStalledCount'>,
): TrainWorkerSettings {
  return {
    lockDuration: config.workerLockMs,
    stalledInterval: config.workerStalledIntervalMs,
    maxStalledCount: config.workerMaxStalledCount,
  };
}

