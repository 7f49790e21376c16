// The worker's part in sweeps (DESIGN.md "Sweeps"): after each epoch of a trial the
// sweep's pruner decides (the decision is stored with its numbers and a sentence;
// a prune goes through the cancel path with cancel_reason 'pruned'), and after a
// trial's terminal write the sweep advances (its next trials are created and queued).
// A reconcile at start and every `reconcileMs` advances every running sweep, so a
// process that died between a terminal write and the advance loses nothing.
import type { Redis } from 'ioredis';
import type { PrismaClient } from '../src/db/client.js';
import {
  advanceSweep, pruningContext, reconcileSweeps, recordDecision, requestPrune, trialCurves,
} from '../src/db/repositories/sweeps.js';
import type { Logger } from '../src/logger.js';
import { publishCancel } from '../src/queue/cancel-channel.js';
import { createTrainQueue, enqueueTraining, type TrainQueue } from '../src/queue/train-queue.js';
import { prunerDecision } from '../src/sweeps/index.js';

export interface SweepTrialsOptions {
  prisma: PrismaClient;
  /** a non-blocking connection: the queue's and the cancel channel's */
  redis: Redis;
  prefix: string;
  logger: Logger;
  /** default 5000 ms */
  reconcileMs?: number;
}

export class SweepTrials {
  private readonly queue: TrainQueue;
  private timer: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> | undefined;

  constructor(private readonly opts: SweepTrialsOptions) {
    this.queue = createTrainQueue(opts.redis, opts.prefix);
  }

  start(): void {
    this.reconcile();
    this.timer = setInterval(() => this.reconcile(), this.opts.reconcileMs ?? 5000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.reconciling;
    await this.queue.close();
  }

  private reconcile(): void {
    if (this.reconciling) return;
    this.reconciling = reconcileSweeps(this.opts.prisma, (jobId) => enqueueTraining(this.queue, jobId))
      .then(() => undefined)
      .catch((err) => this.opts.logger.warn({ err }, 'could not reconcile the sweeps'))
      .finally(() => { this.reconciling = undefined; });
  }

  /**
   * The pruner's decision for a trial that has just recorded `epoch`. True: stop it
   * (it was marked for pruning and the cancel channel told every worker).
   */
  async afterEpoch(jobId: string, sweepId: string, epoch: number, epochs: number): Promise<boolean> {
    const { prisma, logger } = this.opts;
    try {
      const ctx = await pruningContext(prisma, sweepId);
      if (!ctx || ctx.pruner.type === 'none' || ctx.status !== 'running') return false;
      const curves = await trialCurves(prisma, sweepId, ctx.objective.metric);
      const trial = curves.find((c) => c.jobId === jobId);
      if (!trial) return false;
      const decision = prunerDecision(ctx.pruner.type, {
        metric: ctx.objective.metric, mode: ctx.objective.mode,
        minEpochs: ctx.pruner.minEpochs, reductionFactor: ctx.pruner.reductionFactor, epochs,
      }, trial, epoch, curves);
      if (!decision) return false;
      await recordDecision(prisma, sweepId, jobId, decision);
      logger.info({ jobId, sweepId, epoch, decision: decision.decision, value: decision.value, threshold: decision.threshold }, decision.reason);
      if (decision.decision !== 'prune') return false;
      if (await requestPrune(prisma, jobId)) await publishCancel(this.opts.redis, this.opts.prefix, jobId);
      return true;
    } catch (err) {
      // a pruner that cannot decide lets the trial train on; it never fails the trial
      logger.warn({ err, jobId, sweepId, epoch }, 'the sweep pruner could not decide');
      return false;
    }
  }

  /** A trial has ended (or gone back to the queue): fill its slot. */
  async afterTrialEnd(sweepId: string): Promise<void> {
    try {
      const advance = await advanceSweep(this.opts.prisma, sweepId);
      for (const jobId of advance?.queued ?? []) await enqueueTraining(this.queue, jobId);
    } catch (err) {
      this.opts.logger.warn({ err, sweepId }, 'could not advance the sweep; the reconcile will');
    }
  }
}
