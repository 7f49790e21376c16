// What buildApp needs from the outside world; tests pass real instances.
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { PrismaClient } from '../db/client.js';
import type { TrainQueue } from '../queue/train-queue.js';

export interface AppOptions {
  config: Config;
  prisma: PrismaClient;
  queue: TrainQueue;
  /** publishes cancel requests and answers /ready's PING (a non-blocking connection) */
  redis: Redis;
  logger: Logger;
}
