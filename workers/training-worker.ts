// The BullMQ worker that trains jobs: takes a job id off the queue, trains it on the
// core and persists everything the core produces. Used by workers/worker.ts (the
// process entry) and by the integration tests (in-process).
//
// Shutdown: close() aborts every running job with reason 'shutdown'. The core stops
// between two batches; the job goes back to 'queued' (event 'requeued') and is moved
// to BullMQ's delayed set for 1 s with DelayedError, which does not count as a failed
// attempt. The next worker resumes it from its latest epoch checkpoint.
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../src/config.js';
import { train } from '../src/core/trainer.js';
import type { EpochEnd, TrainResult } from '../src/core/train-types.js';
import { loadDataset } from '../src/data/load.js';
import type { PrismaClient } from '../src/db/client.js';
import type { Prisma } from '../src/generated/prisma/client.js';
import {
  addEvent, checkpointData, finishCancelled, finishFailed, finishSucceeded, latestCheckpoint, pruneCheckpoints,
  recordEpoch, requeueJob, startJob, updateProgress,
} from '../src/db/repositories/training-records.js';
import { jobLogger, type Logger } from '../src/logger.js';
import { subscribeCancels } from '../src/queue/cancel-channel.js';
import { createRedis } from '../src/queue/connection.js';
import { TRAIN_QUEUE, type TrainJobPayload } from '../src/queue/train-queue.js';
import { TRAIN_WORKER_SETTINGS } from '../src/queue/worker-settings.js';
import { validateJobSpec, formatProblems } from '../src/spec/index.js';
import { describeFailure, isPermanent, JobSpecError } from './job-failure.js';
import { ProgressThrottle, toJobProgress, type JobProgress } from './progress-throttle.js';

type Json = Prisma.InputJsonValue;

export interface TrainingWorkerOptions {
  config: Config;
  prisma: PrismaClient;
  logger: Logger;
  /** default config.workerConcurrency */
  concurrency?: number;
  /** how long a job shut down mid-run waits before another worker may take it (default 1000 ms) */
  requeueDelayMs?: number;
}

type AbortReason = 'cancel' | 'shutdown';

export class TrainingWorker {
  readonly worker: Worker<TrainJobPayload, void, string>;
  private readonly active = new Map<string, AbortController>();
  private closing = false;

  private constructor(
    private readonly opts: TrainingWorkerOptions,
    private readonly connection: Redis,
    private readonly subscriber: Redis,
    private unsubscribe: () => Promise<void>,
  ) {
    const { config, logger } = opts;
    this.worker = new Worker<TrainJobPayload, void, string>(TRAIN_QUEUE, (job, token) => this.process(job, token), {
      connection,
      prefix: config.queuePrefix,
      concurrency: opts.concurrency ?? config.workerConcurrency,
      ...TRAIN_WORKER_SETTINGS,
      autorun: false,
    });
    this.worker.on('error', (err) => logger.error({ err }, 'worker error'));
    this.worker.on('stalled', (jobId) => void this.onStalled(jobId));
    this.worker.on('failed', (job, err) => void this.onFailed(job, err));
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
    return w;
  }

  /** Ids of the jobs this worker is training right now. */
  get runningJobIds(): string[] {
    return [...this.active.keys()];
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
    await this.unsubscribe().catch(() => {});
    this.subscriber.disconnect();
    this.connection.disconnect();
  }

  private async process(job: Job<TrainJobPayload, void, string>, token?: string): Promise<void> {
    const { prisma, config } = this.opts;
    const { jobId } = job.data;
    const log = jobLogger(this.opts.logger, jobId, { bullAttempt: job.attemptsMade + 1 });
    const controller = new AbortController();
    this.active.set(jobId, controller);
    if (this.closing) controller.abort('shutdown');
    let attempt = 0;
    const progress = new ProgressThrottle(async (p) => {
      await updateProgress(prisma, jobId, p as unknown as Json).catch((err) => log.warn({ err }, 'progress update failed'));
    });
    try {
      const started = await startJob(prisma, jobId);
      if (started.kind !== 'started') {
        log.info({ outcome: started.kind }, 'nothing to train');
        return;
      }
      const row = started.job;
      attempt = row.attempt;

      const checked = validateJobSpec(row.spec);
      if (!checked.ok) throw new JobSpecError('INVALID_SPEC', `the stored spec is not valid: ${formatProblems(checked.problems)}`);
      const spec = checked.spec;

      const resume = await latestCheckpoint(prisma, jobId);
      if (resume) {
        await addEvent(prisma, jobId, attempt, 'resumed', `resumed from epoch ${resume.epoch}`, { epoch: resume.epoch, step: resume.step });
        log.info({ attempt, epoch: resume.epoch }, 'resuming');
      } else {
        await addEvent(prisma, jobId, attempt, attempt > 1 ? 'retried' : 'started', attempt > 1 ? `attempt ${attempt} started` : 'started');
        log.info({ attempt }, 'started');
      }

      let initialWeights: Uint8Array | undefined;
      const initialId = spec.initialWeights?.checkpointId;
      if (initialId !== undefined && !resume) {
        initialWeights = (await checkpointData(prisma, initialId)) ?? undefined;
        if (!initialWeights) throw new JobSpecError('CHECKPOINT_NOT_FOUND', `initialWeights.checkpointId ${initialId} does not exist (any more)`);
      }

      const data = loadDataset(spec.dataset, { dataDir: config.dataDir });
      const threads = Math.max(1, Math.min(spec.training.threads, config.trainerThreads));
      const keep = spec.checkpoints;

      const result = await train({
        spec: { ...spec, training: { ...spec.training, threads } },
        data,
        specHash: row.specHash,
        resumeFrom: resume?.data,
        initialWeights,
        signal: controller.signal,
        hooks: {
          onProgress: (p) => progress.report(p),
          onEpochEnd: async (e: EpochEnd) => {
            const checkpoint = e.checkpointDue
              ? { epoch: e.epoch, step: e.step, isBest: e.isBest, metrics: e.metrics, data: e.checkpoint() }
              : null;
            const current: JobProgress = progress.latest ?? toJobProgress({
              epoch: e.epoch, epochs: spec.training.epochs, step: e.step, batch: 0, batchesPerEpoch: 0, samplesPerSecond: 0, etaSeconds: 0,
            });
            progress.touched();
            await progress.settle();
            const { cancelRequested } = await recordEpoch(prisma, {
              jobId, attempt, epoch: e.epoch, step: e.step, points: e.points, metrics: e.metrics, decision: e.decision,
              checkpoint, progress: { ...current, epoch: e.epoch, step: e.step, updatedAt: new Date().toISOString() } as unknown as Json,
            });
            if (checkpoint) await pruneCheckpoints(prisma, jobId, keep.keepLast, keep.keepBest);
            log.debug({ epoch: e.epoch, metrics: e.metrics }, 'epoch done');
            // the pub/sub message may have gone to no one (sent before we subscribed)
            if (cancelRequested) controller.abort('cancel');
          },
        },
      });
      await progress.settle();

      if (result.status === 'cancelled') {
        if (controller.signal.reason === 'shutdown') {
          await requeueJob(prisma, jobId, attempt, 'requeued', `worker shut down after epoch ${result.epochs}; another worker resumes it`);
          log.info({ epochs: result.epochs }, 'requeued on shutdown');
          await job.moveToDelayed(Date.now() + (this.opts.requeueDelayMs ?? 1000), token);
          throw new DelayedError();
        }
        await finishCancelled(prisma, row, `cancelled after ${result.epochs} epoch(s)`);
        log.info({ epochs: result.epochs }, 'cancelled');
        return;
      }

      await finishSucceeded(prisma, {
        jobId, attempt,
        result: resultJson(result),
        diagnosis: result.diagnosis as unknown as Json,
        testPoints: result.testPoints,
        finalWeights: { epoch: result.epochs, step: result.step, isBest: false, metrics: result.finalMetrics, data: result.weights },
        progress: { ...(progress.latest ?? {}), epoch: result.epochs, step: result.step, etaSeconds: 0, updatedAt: new Date().toISOString() } as Json,
      });
      log.info({ epochs: result.epochs, stoppedEarly: result.stoppedEarly, finalMetrics: result.finalMetrics }, 'succeeded');
    } catch (err) {
      await progress.settle();
      if (err instanceof DelayedError) throw err;
      const failure = describeFailure(err);
      if (isPermanent(err)) {
        log.warn({ failure }, 'failed');
        await finishFailed(prisma, jobId, attempt, failure);
        throw new UnrecoverableError(failure.message);
      }
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= attempts) {
        log.error({ err }, 'failed on the last attempt');
        await finishFailed(prisma, jobId, attempt, failure).catch((e) => log.error({ err: e }, 'could not record the failure'));
      } else {
        log.warn({ err }, 'attempt failed; BullMQ retries it');
        await requeueJob(prisma, jobId, attempt, 'retrying', `attempt ${attempt} failed: ${failure.message}`).catch(() => {});
      }
      throw err;
    } finally {
      this.active.delete(jobId);
    }
  }

  /** BullMQ moved a job back to waiting because its worker stopped renewing the lock. */
  private async onStalled(jobId: string): Promise<void> {
    const row = await this.opts.prisma.job.findUnique({ where: { id: jobId }, select: { attempt: true } }).catch(() => null);
    if (!row) return;
    await requeueJob(this.opts.prisma, jobId, row.attempt, 'requeued', 'the worker running it stopped responding; another worker resumes it')
      .catch((err) => this.opts.logger.warn({ err, jobId }, 'could not requeue a stalled job'));
  }

  /** A job BullMQ failed without our processor deciding it (e.g. stalled too often). */
  private async onFailed(job: Job<TrainJobPayload, void, string> | undefined, err: Error): Promise<void> {
    if (!job) return;
    const { prisma } = this.opts;
    const row = await prisma.job.findUnique({ where: { id: job.data.jobId }, select: { status: true, attempt: true } }).catch(() => null);
    if (!row || (row.status !== 'running' && row.status !== 'queued')) return;
    const finalAttempt = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError || /stalled/i.test(err.message);
    if (!finalAttempt) return;
    await finishFailed(prisma, job.data.jobId, row.attempt, { code: 'WORKER_LOST', message: `gave up on the job: ${err.message}` })
      .catch((e) => this.opts.logger.warn({ err: e }, 'could not record the failure'));
  }
}

function resultJson(r: TrainResult): Json {
  return {
    epochs: r.epochs,
    step: r.step,
    finalMetrics: r.finalMetrics,
    best: r.best,
    testMetrics: r.testMetrics,
    stoppedEarly: r.stoppedEarly,
    stopDecision: r.stopDecision,
  } as unknown as Json;
}
