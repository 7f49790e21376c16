// The one BullMQ queue Trainyard uses, its payload and its retry policy.
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

export const TRAIN_QUEUE = 'train';
/** BullMQ job name (the queue holds one kind of job). */
export const TRAIN_JOB_NAME = 'train';

/** The queue carries only our job id: Postgres is the source of truth for the spec. */
export interface TrainJobPayload {
  jobId: string;
}

/**
 * attempts: a job whose worker crashed, or was shut down mid-run, is retried at most
 * 3 times in total, each retry resuming from the latest checkpoint. Failures that can
 * never succeed (invalid spec, divergence…) throw UnrecoverableError and skip retries.
 */
export const TRAIN_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export type TrainQueue = Queue<TrainJobPayload, void, string>;

export function createTrainQueue(connection: Redis, prefix: string): TrainQueue {
  return new Queue<TrainJobPayload, void, string>(TRAIN_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: TRAIN_JOB_OPTIONS,
  });
}

/** jobId = our job's uuid, so enqueueing twice is a no-op and cancel can find it. */
export async function enqueueTraining(queue: TrainQueue, jobId: string): Promise<void> {
  await queue.add(TRAIN_JOB_NAME, { jobId }, { jobId });
}

/**
 * Removes a job that no worker has taken yet. Returns false when it is active
 * (locked by a worker) and so cannot be removed.
 */
export async function removeQueuedTraining(queue: TrainQueue, jobId: string): Promise<boolean> {
  const job = await queue.getJob(jobId);
  if (!job) return true;
  const state = await job.getState();
  if (state === 'active') return false;
  try {
    await job.remove();
    return true;
  } catch {
    // taken by a worker between getState and remove
    return false;
  }
}
