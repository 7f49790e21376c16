// Lock and stall settings for training jobs, which run for minutes to hours.
import type { WorkerOptions } from 'bullmq';

/**
 * lockDuration 60 s, renewed every 30 s while the job runs (BullMQ renews at half
 * the duration). A worker that dies stops renewing; within lockDuration +
 * stalledInterval another worker's stall check moves the job back to waiting.
 * maxStalledCount 2: a job that keeps killing its workers fails after the second
 * stall instead of looping forever.
 */
export const TRAIN_WORKER_SETTINGS = {
  lockDuration: 60_000,
  stalledInterval: 30_000,
  maxStalledCount: 2,
} as const satisfies Partial<WorkerOptions>;
