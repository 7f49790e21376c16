// What buildApp needs from the outside world; tests pass real instances.
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { PrismaClient } from '../db/client.js';
import type { TrainQueue } from '../queue/train-queue.js';
import type { JobEventSubscriber } from '../queue/job-events-channel.js';

export interface AppOptions {
  config: Config;
  prisma: PrismaClient;
  queue: TrainQueue;
  /** publishes cancel requests and answers /ready's PING (a non-blocking connection) */
  redis: Redis;
  logger: Logger;
  /**
   * The process's one subscriber to "job X has new events" (SSE streams wait on it).
   * Default: the events route opens its own on config.redisUrl and closes it with the app.
   */
  events?: JobEventSubscriber;
  /** Test seams. afterJobInsert: awaited between a new job's insert and its enqueue; a throw there is a crash in that gap. */
  hooks?: { afterJobInsert?(jobId: string): Promise<void> };
}
