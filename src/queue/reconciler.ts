// Postgres is the truth, BullMQ only delivers. The reconciler heals every way the
// two can disagree about a job Postgres holds as queued or running:
// - BullMQ has never heard of it: Redis lost its data (a restart without
//   persistence, FLUSHALL), or the API died between its insert and its enqueue;
// - BullMQ holds it as completed or failed while Postgres disagrees (a terminal
//   write that never reached Postgres).
// Either way the job is enqueued again with its own id as BullMQ's job id, so a job
// BullMQ does know is never added twice and nothing trains twice at once. A job that
// was running when Redis vanished loses its lock; its worker stops it (lock-lost)
// and the next attempt resumes from the latest checkpoint, as after a crash.
//
// Runs on API and worker start, then every RECONCILE_INTERVAL_MS, in as many
// processes as there are; a Postgres advisory lock (held on a connection of its own,
// released when that connection ends, however it ends) lets one round run at a time.
import pg from 'pg';
import type { Logger } from '../logger.js';
import type { PrismaClient } from '../db/client.js';
import { enqueueTraining, type TrainQueue } from './train-queue.js';

/** pg_try_advisory_lock key: "trainyard reconciler", any constant the project does not use elsewhere. */
export const RECONCILER_LOCK_KEY = 7_348_201_117;

export interface ReconcilerOptions {
  prisma: PrismaClient;
  /** the advisory lock's connection goes here (the database of `prisma`) */
  databaseUrl: string;
  queue: TrainQueue;
  logger: Logger;
  /** between rounds; 0 = only the round at start (default 30 s) */
  intervalMs?: number;
}

export interface ReconcileReport {
  /** false: another process held the lock and ran the round */
  ran: boolean;
  /** jobs BullMQ did not know, enqueued */
  enqueued: string[];
  /** jobs BullMQ held as completed/failed while Postgres said queued/running, enqueued again */
  replaced: string[];
}

/** Jobs looked up in Redis at a time. */
const BATCH = 50;

export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: ReconcilerOptions) {}

  /** One round now, then one every intervalMs. Errors are logged, never thrown: the next round retries. */
  start(): this {
    this.schedule(0);
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round.catch(() => {});
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.round = this.reconcile()
        .catch((err) => this.opts.logger.warn({ err }, 'reconcile round failed; the next one retries'))
        .finally(() => {
          const every = this.opts.intervalMs ?? 30_000;
          if (every > 0) this.schedule(every);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** One round under the advisory lock; answers ran: false when another process holds it. */
  async reconcile(): Promise<ReconcileReport> {
    const lock = new pg.Client({ connectionString: this.opts.databaseUrl, connectionTimeoutMillis: 5000 });
    lock.on('error', () => {}); // a lost connection releases the lock; the round's own queries fail and say so
    await lock.connect();
    try {
      const { rows } = await lock.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [RECONCILER_LOCK_KEY]);
      if (!rows[0]?.locked) return { ran: false, enqueued: [], replaced: [] };
      try {
        return await this.heal();
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1::bigint)', [RECONCILER_LOCK_KEY]).catch(() => {});
      }
    } finally {
      await lock.end().catch(() => {});
    }
  }

  private async heal(): Promise<ReconcileReport> {
    const { prisma, queue, logger } = this.opts;
    // every tenant's jobs: this is the operator's view of the queue, not a request's read
    const active = await prisma.job.findMany({
      // a cancel-requested one too: the worker that takes it ends it cancelled
      where: { status: { in: ['queued', 'running'] } },
      select: { id: true, status: true },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    const report: ReconcileReport = { ran: true, enqueued: [], replaced: [] };
    for (let i = 0; i < active.length; i += BATCH) {
      await Promise.all(active.slice(i, i + BATCH).map(async ({ id, status }) => {
        const job = await queue.getJob(id);
        if (!job) {
          await enqueueTraining(queue, id);
          report.enqueued.push(id);
          logger.info({ jobId: id, status }, `reconciler: Postgres holds job ${id} as ${status} but the queue did not know it; queued it again`);
          return;
        }
        const state = await job.getState();
        if (state !== 'completed' && state !== 'failed') return;
        // read Postgres again: the job may have ended between our read and BullMQ's
        const now = await prisma.job.findUnique({ where: { id }, select: { status: true } });
        if (now?.status !== 'queued' && now?.status !== 'running') return;
        try {
          await job.remove();
        } catch (err) {
          logger.warn({ err, jobId: id }, 'reconciler: could not remove the stale queue entry; the next round retries');
          return;
        }
        await enqueueTraining(queue, id);
        report.replaced.push(id);
        logger.info({ jobId: id, status: now.status, queueState: state }, `reconciler: the queue held job ${id} as ${state} but Postgres says ${now.status}; queued it again`);
      }));
    }
    return report;
  }
}
