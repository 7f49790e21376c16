// The BullMQ worker that trains jobs: takes a job id off the queue, trains it on the
// core and persists everything the core produces. Used by workers/worker.ts (the
// process entry) and by the integration tests (in-process).
//
// Shutdown: close() aborts every running job with reason 'shutdown'. The core stops
// between two batches and hands back a checkpoint of that exact point, stored as the
// job's 'resume' checkpoint; the job goes back to 'queued' (event 'requeued') and is
// moved to BullMQ's delayed set for 1 s with DelayedError, which does not count as a
// failed attempt. The next worker resumes it at the next batch.
//
// Crash: a worker that dies stops renewing its BullMQ lock; another worker's stall
// check puts the job back in the queue (onStalled: 'queued' in Postgres too), and the
// next attempt resumes from the latest checkpoint by step, replaying what was lost.
// Replayed epochs overwrite their metric points (training-records.ts), and the
// result is bit-identical to an uninterrupted run. After maxStalledCount + 1 deaths
// BullMQ fails the job (onFailed writes a reason a person understands).
//
// Threads: one ThreadPool (TRAINER_THREADS − 1 threads) per concurrent job slot, so
// jobs never share a pool; a job uses min(spec.training.threads, TRAINER_THREADS), all of
// TRAINER_THREADS when the spec names none; progress.threads and result.threads say which.
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../src/config.js';
import { ThreadPool, threadEngine } from '../src/core/pool.js';
import { train } from '../src/core/trainer.js';
import type { EpochEnd, TrainResult } from '../src/core/train-types.js';
import { loadDataset } from '../src/data/load.js';
import type { PrismaClient } from '../src/db/client.js';
import type { Prisma } from '../src/generated/prisma/client.js';
import {
  addEvent, checkpointData, describeLastSeen, finishCancelled, finishFailed, finishSucceeded, lastSeen, latestCheckpoint,
  recordEpoch, requeueJob, requeueStalled, startJob, updateProgress, type CheckpointBlob, type JobFailure, type ResumePoint,
} from '../src/db/repositories/training-records.js';
import { jobLogger, type Logger } from '../src/logger.js';
import { subscribeCancels } from '../src/queue/cancel-channel.js';
import { publishJobEvents } from '../src/queue/job-events-channel.js';
import { createRedis } from '../src/queue/connection.js';
import { TRAIN_QUEUE, type TrainJobPayload } from '../src/queue/train-queue.js';
import { trainWorkerSettings, type TrainWorkerSettings } from '../src/queue/worker-settings.js';
import { parseJobSpec, toTrainSpec } from '../src/spec/index.js';
import { describeFailure, isPermanent, PermanentJobError } from './job-failure.js';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import { EpochWriteBuffer } from './epoch-write-buffer.js';
import type { WorkerMetrics } from './worker-metrics.js';
import { ProgressThrottle, toJobProgress, type JobProgress } from './progress-throttle.js';
import { SweepTrials } from './sweep-trials.js';

type Json = Prisma.InputJsonValue;

export interface TrainingWorkerOptions {
  config: Config;
  prisma: PrismaClient;
  logger: Logger;
  /** default config.workerConcurrency */
  concurrency?: number;
  /** how long a job shut down mid-run waits before another worker may take it (default 1000 ms) */
  requeueDelayMs?: number;
  /**
   * A pause point for tests: awaited after training ended and before the job's
   * terminal write, the window in which a cancel races the end of the job.
   */
  beforeTerminalWrite?: (jobId: string) => Promise<void>;
  /** how often running sweeps are advanced, whatever was noticed (default 5000 ms; workers/sweep-trials.ts) */
  sweepReconcileMs?: number;
  /** epochs a job holds in memory while Postgres is unreachable before its training pauses (default 8; epoch-write-buffer.ts) */
  maxHeldEpochs?: number;
  /** first retry delay of held writes (default 250 ms, doubling up to 5 s) */
  writeRetryMs?: number;
  /** Prometheus metrics of this worker process (workers/worker-metrics.ts) */
  metrics?: WorkerMetrics;
}

/** cancel: the API asked; shutdown: SIGTERM; lock-lost: BullMQ gave the job to another worker */
type AbortReason = 'cancel' | 'shutdown' | 'lock-lost';

/** This worker lost the job's lock (frozen too long): another worker owns it now, so write nothing more. */
export class LockLostError extends Error {
  constructor(jobId: string) {
    super(`lost the lock on job ${jobId}: another worker has taken it over`);
    this.name = 'LockLostError';
  }
}

/** BullMQ's reason for a job whose worker died more than maxStalledCount times. */
const STALLED_TOO_OFTEN = 'job stalled more than allowable limit';

export class TrainingWorker {
  readonly worker: Worker<TrainJobPayload, void, string>;
  readonly settings: TrainWorkerSettings;
  private readonly active = new Map<string, AbortController>();
  /** each running job's epoch writes (held while Postgres is unreachable) */
  private readonly writeBuffers = new Map<string, EpochWriteBuffer>();
  /** idle thread pools; at most `concurrency` exist, one per job running at a time */
  private readonly idlePools: ThreadPool[] = [];
  private readonly pools: ThreadPool[] = [];
  private closing = false;
  private readonly sweeps: SweepTrials;

  private constructor(
    private readonly opts: TrainingWorkerOptions,
    private readonly connection: Redis,
    private readonly subscriber: Redis,
    private unsubscribe: () => Promise<void>,
  ) {
    const { config, logger } = opts;
    this.settings = trainWorkerSettings(config);
    this.worker = new Worker<TrainJobPayload, void, string>(TRAIN_QUEUE, (job, token) => this.process(job, token), {
      connection,
      prefix: config.queuePrefix,
      concurrency: opts.concurrency ?? config.workerConcurrency,
      ...this.settings,
      autorun: false,
    });
    this.worker.on('error', (err) => logger.error({ err }, 'worker error'));
    this.worker.on('lockRenewalFailed', (jobIds: string[]) => {
      for (const jobId of jobIds) this.abort(jobId, 'lock-lost');
    });
    this.worker.on('stalled', (jobId) => void this.onStalled(jobId));
    this.worker.on('failed', (job, err) => void this.onFailed(job, err));
    this.sweeps = new SweepTrials({ prisma: opts.prisma, redis: connection, prefix: config.queuePrefix, logger, reconcileMs: opts.sweepReconcileMs });
  }

  static async start(opts: TrainingWorkerOptions): Promise<TrainingWorker> {
    const { config } = opts;
    const connection = createRedis(config.redisUrl, { connectionName: 'trainyard-worker' });
    const subscriber = createRedis(config.redisUrl, { connectionName: 'trainyard-worker-cancel' });
    for (const redis of [connection, subscriber]) {
      redis.on('error', (err) => opts.logger.warn({ err: err.message }, 'Redis connection error'));
    }
    const self: { w?: TrainingWorker } = {};
    const unsubscribe = await subscribeCancels(subscriber, config.queuePrefix, (jobId) => self.w?.abort(jobId, 'cancel'));
    const w = new TrainingWorker(opts, connection, subscriber, unsubscribe);
    self.w = w;
    void w.worker.run();
    await w.worker.waitUntilReady();
    w.sweeps.start();
    return w;
  }

  /** Epoch writes waiting for Postgres, over all running jobs. */
  get heldWrites(): number {
    let n = 0;
    for (const b of this.writeBuffers.values()) n += b.held;
    return n;
  }

  /** Ids of the jobs this worker is training right now. */
  get runningJobIds(): string[] {
    return [...this.active.keys()];
  }

  /**
   * Tells the API processes that `jobId` has new events (their SSE streams then read
   * Postgres). After a commit only; fire and forget: a lost message only delays a
   * stream until its safety poll.
   */
  private announce(jobId: string): void {
    publishJobEvents(this.connection, this.opts.config.queuePrefix, jobId)
      .catch((err) => this.opts.logger.warn({ err, jobId }, 'could not announce new job events'));
  }

  private abort(jobId: string, reason: AbortReason): void {
    const controller = this.active.get(jobId);
    if (controller && !controller.signal.aborted) controller.abort(reason);
  }

  /** Graceful shutdown: running jobs stop between batches and go back to the queue. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const jobId of this.active.keys()) this.abort(jobId, 'shutdown');
    await this.worker.close();
    await this.sweeps.close();
    await Promise.all(this.pools.map((p) => p.close()));
    await this.unsubscribe().catch(() => {});
    this.subscriber.disconnect();
    this.connection.disconnect();
  }

  private takePool(): ThreadPool {
    const idle = this.idlePools.pop();
    if (idle) return idle;
    const pool = new ThreadPool(this.opts.config.trainerThreads - 1);
    this.pools.push(pool);
    return pool;
  }

  private async process(job: Job<TrainJobPayload, void, string>, token?: string): Promise<void> {
    const { prisma, config } = this.opts;
    const { jobId } = job.data;
    const log = jobLogger(this.opts.logger, jobId, { bullAttempt: job.attemptsMade + 1 });
    const controller = new AbortController();
    this.active.set(jobId, controller);
    if (this.closing) controller.abort('shutdown');
    const writes = new EpochWriteBuffer({
      isRetryable: isDatabaseUnavailable, logger: log, maxHeld: this.opts.maxHeldEpochs,
      ...(this.opts.writeRetryMs !== undefined && { initialBackoffMs: this.opts.writeRetryMs }),
    });
    this.writeBuffers.set(jobId, writes);
    const count = (outcome: string) => this.opts.metrics?.jobEnded(outcome);
    let attempt = 0;
    let pool: ThreadPool | undefined;
    /** the thread count this attempt trains with, reported in progress and result */
    let threads: number | undefined;
    let sweepId: string | null = null;
    const progress = new ProgressThrottle(async (p) => {
      await updateProgress(prisma, jobId, { ...p, threads } as unknown as Json).catch((err) => log.warn({ err }, 'progress update failed'));
    });
    try {
      const started = await startJob(prisma, jobId);
      this.announce(jobId);
      if (started.kind !== 'missing') sweepId = started.job.sweepId;
      if (started.kind !== 'started') {
        log.info({ outcome: started.kind }, 'nothing to train');
        return;
      }
      const row = started.job;
      attempt = row.attempt;

      // a spec stored before a validation rule existed: JobSpecError, failed for good
      const spec = parseJobSpec(row.spec);

      const data = loadDataset(spec.dataset, { dataDir: config.dataDir });
      const resume = await latestCheckpoint(prisma, jobId);
      if (resume) {
        const batchesPerEpoch = Math.ceil(data.train.n / spec.training.batchSize);
        const { message, data: details } = describeResume(resume, batchesPerEpoch);
        await addEvent(prisma, jobId, attempt, 'resumed', message, details as Json);
        this.announce(jobId);
        log.info({ attempt, ...details }, message);
      } else {
        await addEvent(prisma, jobId, attempt, attempt > 1 ? 'retried' : 'started', attempt > 1 ? `attempt ${attempt} started` : 'started');
        this.announce(jobId);
        log.info({ attempt }, 'started');
      }

      let initialWeights: Uint8Array | undefined;
      const initialId = spec.initialWeights?.checkpointId;
      if (initialId !== undefined && !resume) {
        initialWeights = (await checkpointData(prisma, initialId)) ?? undefined;
        if (!initialWeights) throw new PermanentJobError('CHECKPOINT_NOT_FOUND', `initialWeights.checkpointId ${initialId} does not exist (any more)`);
      }

      // a step splits into at most batchSize shards (threadEngine)
      threads = Math.max(1, Math.min(spec.training.threads ?? config.trainerThreads, config.trainerThreads, spec.training.batchSize));
      const retention = { keepLast: spec.checkpoints.keepLast, keepBest: spec.checkpoints.keepBest };

      pool = this.takePool();
      const result = await train({
        spec: toTrainSpec({ ...spec, training: { ...spec.training, threads } }),
        engine: threadEngine(pool),
        data,
        specHash: row.specHash,
        resumeFrom: resume?.data,
        initialWeights,
        signal: controller.signal,
        hooks: {
          onProgress: (p) => {
            progress.report(p);
            // lets tests (and people reading logs) see an epoch under way without a progress write
            if (p.batch === 1) log.debug({ epoch: p.epoch, step: p.step }, 'first batch of the epoch done');
          },
          onEpochEnd: async (e: EpochEnd) => {
            // keepBest means the best epoch has a checkpoint even when everyEpochs skips it
            const checkpoint = e.checkpointDue || (retention.keepBest && e.isBest)
              ? { epoch: e.epoch, step: e.step, isBest: e.isBest, metrics: e.metrics, data: e.checkpoint() }
              : null;
            const current: JobProgress = progress.latest ?? toJobProgress({
              epoch: e.epoch, epochs: spec.training.epochs, step: e.step, batch: 0, batchesPerEpoch: 0, samplesPerSecond: 0, etaSeconds: 0,
            });
            progress.touched();
            await progress.settle();
            this.opts.metrics?.epochDone(e.metrics.epoch_seconds, e.metrics.samples_per_second);
            const epochWrite = {
              jobId, attempt, epoch: e.epoch, step: e.step, points: e.points, metrics: e.metrics, decision: e.decision,
              checkpoint, retention, progress: { ...current, threads, epoch: e.epoch, step: e.step, updatedAt: new Date().toISOString() } as unknown as Json,
            };
            log.debug({ epoch: e.epoch, metrics: e.metrics }, 'epoch done');
            // resolves at the commit; while Postgres is down, as soon as the write is held (training goes on)
            let cancelRequested = false;
            await writes.submit(async () => {
              ({ cancelRequested } = await recordEpoch(prisma, epochWrite));
              this.announce(jobId);
              // the pub/sub message may have gone to no one (sent before we subscribed)
              if (cancelRequested) controller.abort('cancel');
            });
            // a sweep's pruner stops the trial through the cancel path; it ends 'pruned'
            if (!cancelRequested && sweepId !== null && await this.sweeps.afterEpoch(jobId, sweepId, e.epoch, spec.training.epochs)) controller.abort('cancel');
          },
        },
      });
      await progress.settle();

      if (result.status === 'cancelled') {
        const reason = controller.signal.reason as AbortReason;
        if (reason === 'lock-lost') throw new LockLostError(jobId);
        // where training stopped, inside epoch result.epochs + 1: the next attempt continues at the next batch
        const stoppedAt: CheckpointBlob = { epoch: result.epochs, step: result.step, isBest: false, metrics: {}, data: result.checkpoint };
        const where = `in epoch ${result.epochs + 1} at step ${result.step}`;
        if (reason === 'shutdown') {
          const outcome = await writes.writeAfterHeld(() => requeueJob(prisma, {
            jobId, attempt, type: 'requeued', checkpoint: stoppedAt,
            message: `the worker shut down ${where}; another worker resumes it from there`,
            cancelledMessage: `cancelled ${where} (the worker was shutting down); the checkpoint of that point is kept`,
          }));
          count(outcome === 'cancelled' ? 'cancelled' : 'requeued');
          if (outcome === 'cancelled') {
            log.info({ epoch: result.epochs, step: result.step }, 'cancelled on shutdown: a cancel was requested');
            return;
          }
          log.info({ epoch: result.epochs, step: result.step }, 'requeued on shutdown');
          await job.moveToDelayed(Date.now() + (this.opts.requeueDelayMs ?? 1000), token);
          throw new DelayedError();
        }
        await writes.writeAfterHeld(() => finishCancelled(prisma, row, `cancelled ${where}; the checkpoint of that point is kept`, stoppedAt));
        count('cancelled');
        log.info({ epoch: result.epochs, step: result.step }, 'cancelled');
        return;
      }

      await this.opts.beforeTerminalWrite?.(jobId);
      const ranThreads = threads; // set before train() started; a const for the closure below
      const outcome = await writes.writeAfterHeld(() => finishSucceeded(prisma, {
        jobId, attempt,
        result: resultJson(result, ranThreads),
        diagnosis: result.diagnosis as unknown as Json,
        testPoints: result.testPoints,
        finalWeights: { epoch: result.epochs, step: result.step, isBest: false, metrics: result.finalMetrics, data: result.weights },
        progress: { ...(progress.latest ?? {}), threads, epoch: result.epochs, step: result.step, etaSeconds: 0, updatedAt: new Date().toISOString() } as Json,
        stoppedAt: { epoch: result.epochs, step: result.step, isBest: false, metrics: result.finalMetrics, data: result.checkpoint },
      }));
      count(outcome === 'finished' ? 'duplicate' : outcome);
      if (outcome === 'cancelled') log.info({ epochs: result.epochs, step: result.step }, 'cancelled after the last epoch, before the terminal write');
      else log.info({ epochs: result.epochs, stoppedEarly: result.stoppedEarly, finalMetrics: result.finalMetrics, outcome }, outcome);
    } catch (err) {
      await progress.settle();
      if (err instanceof DelayedError) throw err;
      if (err instanceof LockLostError) {
        count('lock-lost');
        log.warn('lost the job lock; another worker has taken over, this attempt stops without writing');
        throw err;
      }
      const failure = describeFailure(err);
      if (isPermanent(err)) {
        log.warn({ failure }, 'failed');
        count('failed');
        await finishFailed(prisma, jobId, attempt, failure);
        throw new UnrecoverableError(failure.message);
      }
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= attempts) {
        log.error({ err }, 'failed on the last attempt');
        count('failed');
        await finishFailed(prisma, jobId, attempt, failure).catch((e) => log.error({ err: e }, 'could not record the failure'));
      } else {
        log.warn({ err }, 'attempt failed; BullMQ retries it');
        count('retrying');
        const outcome = await requeueJob(prisma, {
          jobId, attempt, type: 'retrying', failure,
          message: `attempt ${attempt} failed: ${failure.message}`,
          cancelledMessage: `cancelled after attempt ${attempt} failed (${failure.message}); it is not retried`,
        }).catch((e) => log.warn({ err: e }, 'could not requeue the job'));
        // cancelled meanwhile: nothing for BullMQ to retry
        if (outcome === 'cancelled') return;
      }
      throw err;
    } finally {
      // the terminal / requeue writes above have committed (or failed) by now
      this.announce(jobId);
      this.active.delete(jobId);
      this.writeBuffers.delete(jobId);
      if (pool) this.idlePools.push(pool);
      if (sweepId !== null) await this.sweeps.afterTrialEnd(sweepId);
    }
  }

  /**
   * BullMQ moved a job back to waiting because its worker stopped renewing the lock.
   * The next attempt may already have started by now; requeueStalled only touches an
   * attempt that started well before the stall was seen. A dead worker's attempt
   * started at least lockDuration / 2 before (its last lock renewal, then a full
   * lockDuration without one); the margin of lockDuration / 4 absorbs clock skew
   * between machines.
   */
  private async onStalled(jobId: string): Promise<void> {
    const startedBefore = new Date(Date.now() - this.settings.lockDuration / 4);
    await requeueStalled(this.opts.prisma, jobId, startedBefore)
      .then((requeued) => requeued && this.announce(jobId))
      .catch((err) => this.opts.logger.warn({ err, jobId }, 'could not requeue a stalled job'));
  }

  /** A job BullMQ failed without our processor deciding it (stalled too often, retries used up). */
  private async onFailed(job: Job<TrainJobPayload, void, string> | undefined, err: Error): Promise<void> {
    if (!job || err instanceof LockLostError) return;
    const { prisma } = this.opts;
    const row = await prisma.job.findUnique({ where: { id: job.data.jobId }, select: { status: true, attempt: true, progress: true } }).catch(() => null);
    if (!row || (row.status !== 'running' && row.status !== 'queued')) return;
    let failure: JobFailure;
    if (err.message === STALLED_TOO_OFTEN) {
      const deaths = job.stalledCounter;
      failure = {
        code: 'WORKER_LOST',
        message: `the worker running this job died ${deaths} time${deaths === 1 ? '' : 's'}; ${describeLastSeen(row.progress)}. ` +
          `Trainyard gives up after ${this.settings.maxStalledCount + 1} (WORKER_MAX_STALLED_COUNT = ${this.settings.maxStalledCount}): ` +
          'look for an out-of-memory kill or a crash in the worker logs',
        ...(lastSeen(row.progress) ?? {}),
      };
    } else if (job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError) {
      failure = { code: 'WORKER_LOST', message: `gave up on the job: ${err.message}` };
    } else {
      return;
    }
    await finishFailed(prisma, job.data.jobId, row.attempt, failure)
      .then(() => this.announce(job.data.jobId))
      .catch((e) => this.opts.logger.warn({ err: e }, 'could not record the failure'));
  }
}

/** "resumed from epoch N, step S", and where inside the next epoch for a 'resume' checkpoint. */
function describeResume(r: ResumePoint, batchesPerEpoch: number): { message: string; data: Record<string, string | number> } {
  const base = `resumed from epoch ${r.epoch}, step ${r.step}`;
  const batch = r.step - r.epoch * batchesPerEpoch;
  if (r.kind === 'resume' && batch > 0) {
    return {
      message: `${base} (inside epoch ${r.epoch + 1}: continues after batch ${batch} of ${batchesPerEpoch})`,
      data: { epoch: r.epoch, step: r.step, batch, checkpointId: r.checkpointId, kind: r.kind },
    };
  }
  return { message: base, data: { epoch: r.epoch, step: r.step, checkpointId: r.checkpointId, kind: r.kind } };
}

function resultJson(r: TrainResult, threads: number): Json {
  return {
    threads,
    epochs: r.epochs,
    step: r.step,
    finalMetrics: r.finalMetrics,
    best: r.best,
    testMetrics: r.testMetrics,
    stoppedEarly: r.stoppedEarly,
    stopDecision: r.stopDecision,
  } as unknown as Json;
}
