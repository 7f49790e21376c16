// What a worker writes while it trains a job: status transitions with their events,
// each epoch's metric points / early-stopping decision / checkpoint, progress, and
// the final result. Transitions are conditional updates, so a cancel from the API
// and a worker never overwrite each other.
//
// Replays are normal: a job whose worker died resumes from its latest checkpoint and
// trains the lost part again. Every write here is idempotent for a replayed epoch:
// metric points and decisions are upserts keyed by (job, name, step) / (job, epoch),
// an 'epoch' event is written once per epoch, a checkpoint replaces the one of the
// same epoch.
import { createHash, randomUUID } from 'node:crypto';
import type { PrismaClient } from '../client.js';
import { Prisma, type Job as JobRow } from '../../generated/prisma/client.js';
import type { EarlyStoppingDecision, MetricPoint } from '../../core/types.js';
import { jsonNumberReplacer } from '../json-number.js';

type Json = Prisma.InputJsonValue;

export interface CheckpointBlob {
  epoch: number;
  step: number;
  isBest: boolean;
  metrics: Record<string, number>;
  data: Uint8Array;
}

/**
 * Checkpoint kinds (checkpoints.kind): 'epoch' (end of an epoch, spec.checkpoints),
 * 'resume' (where an attempt stopped inside an epoch: worker shutdown or cancel; at
 * most one per job, dropped once a later epoch checkpoint exists), 'final' (the
 * weights of a succeeded job), 'upload' (POST /v1/checkpoints).
 */
export type CheckpointKind = 'epoch' | 'resume' | 'final' | 'upload';
/** the kinds a job can resume from: both carry the full resume state */
export const RESUMABLE_KINDS: readonly CheckpointKind[] = ['epoch', 'resume'];

export interface ResumePoint {
  checkpointId: string;
  kind: CheckpointKind;
  /** epochs completed; a 'resume' checkpoint lies inside epoch + 1 */
  epoch: number;
  step: number;
  data: Uint8Array;
}

export type StartOutcome =
  | { kind: 'started'; job: JobRow }
  /** cancelled before a worker got to it (or while it was being taken) */
  | { kind: 'cancelled'; job: JobRow }
  /** finished already (a duplicate delivery): nothing to do */
  | { kind: 'finished'; job: JobRow }
  | { kind: 'missing' };

/**
 * queued|running → running, attempt + 1, unless a cancel was requested. A job found
 * 'running' lost its previous worker before anyone noticed (the stall was reported
 * after this attempt was already taken): that is recorded here, as a 'requeued'
 * event and the job's error, exactly as requeueStalled would have.
 */
export async function startJob(prisma: PrismaClient, jobId: string): Promise<StartOutcome> {
  for (let tries = 0; tries < 3; tries++) {
    const before = await prisma.job.findUnique({ where: { id: jobId }, select: { status: true, attempt: true, progress: true, cancelRequested: true } });
    if (!before) return { kind: 'missing' };
    if (before.status !== 'queued' && before.status !== 'running') break;
    if (before.cancelRequested) break;
    const lost = before.status === 'running' ? lostWorker(before.attempt, before.progress) : null;
    // conditional on what we read: a concurrent requeue or cancel makes us read again
    // the claim and the lost attempt's 'requeued' event commit together (see requeueStalled)
    const claimed = await prisma.$transaction(async (tx) => {
      const updated = await tx.job.updateMany({
        where: { id: jobId, status: before.status, attempt: before.attempt, cancelRequested: false },
        data: {
          status: 'running', attempt: { increment: 1 }, startedAt: new Date(), finishedAt: null,
          ...(lost && { error: lost as unknown as Json }),
        },
      });
      if (updated.count === 0) return false;
      if (lost) {
        await tx.jobEvent.create({ data: { jobId, attempt: before.attempt, type: 'requeued', message: lost.message, data: lost as unknown as Json } });
      }
      return true;
    }, WRITE_TRANSACTION);
    if (!claimed) continue;
    return { kind: 'started', job: await prisma.job.findUniqueOrThrow({ where: { id: jobId } }) };
  }
  const job = await prisma.job.findUnique({ where: { id: jobId } });
  if (!job) return { kind: 'missing' };
  if (job.status === 'queued' || job.status === 'running') {
    // cancel requested before we started
    const cancelled = await finishCancelled(prisma, job, 'cancelled before training started');
    return { kind: 'cancelled', job: cancelled ?? job };
  }
  return job.status === 'cancelled' ? { kind: 'cancelled', job } : { kind: 'finished', job };
}

/** The failure recorded for an attempt whose worker stopped renewing its lock. */
function lostWorker(attempt: number, progress: unknown): JobFailure {
  return {
    code: 'WORKER_LOST',
    message: `the worker running attempt ${attempt} stopped responding, ${describeLastSeen(progress)}; another worker resumes it from its latest checkpoint`,
    attempt,
    ...(lastSeen(progress) ?? {}),
  };
}

export async function addEvent(
  prisma: PrismaClient,
  jobId: string,
  attempt: number,
  type: string,
  message: string,
  data?: Json,
): Promise<void> {
  await prisma.jobEvent.create({ data: { jobId, attempt, type, message, ...(data !== undefined && { data }) } });
}

/** The checkpoint a job resumes from: the furthest one by step (an epoch end or where an attempt stopped). */
export async function latestCheckpoint(prisma: PrismaClient, jobId: string): Promise<ResumePoint | null> {
  const row = await prisma.checkpoint.findFirst({
    where: { jobId, kind: { in: [...RESUMABLE_KINDS] } },
    orderBy: [{ step: 'desc' }, { createdAt: 'desc' }],
  });
  if (!row) return null;
  return { checkpointId: row.id, kind: row.kind as CheckpointKind, epoch: row.epoch ?? 0, step: row.step ?? 0, data: row.data };
}

export async function checkpointData(prisma: PrismaClient, checkpointId: string): Promise<Uint8Array | null> {
  const row = await prisma.checkpoint.findUnique({ where: { id: checkpointId }, select: { data: true } });
  return row?.data ?? null;
}

function checkpointRow(jobId: string, kind: CheckpointKind, blob: CheckpointBlob): Prisma.CheckpointCreateManyInput {
  const data = Buffer.from(blob.data.buffer, blob.data.byteOffset, blob.data.byteLength);
  return {
    id: randomUUID(),
    jobId,
    kind,
    epoch: blob.epoch,
    step: blob.step,
    isBest: blob.isBest,
    metrics: blob.metrics,
    size: data.byteLength,
    sha256: createHash('sha256').update(data).digest('hex'),
    data: new Uint8Array(data),
  };
}

/** One epoch as the worker writes it (not the core's per-epoch history entry). */
export interface EpochWrite {
  jobId: string;
  attempt: number;
  epoch: number;
  step: number;
  points: MetricPoint[];
  metrics: Record<string, number>;
  decision: EarlyStoppingDecision | null;
  checkpoint: CheckpointBlob | null;
  /** retention for this job's epoch checkpoints (spec.checkpoints) */
  retention: CheckpointRetention;
  progress: Json;
}

export interface CheckpointRetention {
  /** the newest keepLast epoch checkpoints stay */
  keepLast: number;
  /** the best one (by the early-stopping monitor) stays too, however old */
  keepBest: boolean;
}

/**
 * INSERT … ON CONFLICT DO UPDATE of all points in one statement: a replayed epoch
 * overwrites its points, never duplicates them. (Within one statement a key may
 * appear only once, so the last point of a (name, step) wins.)
 */
// Values travel as text ('0.45520916459044136', 'NaN', 'Infinity'): a float8[] parameter
// would lose NaN/±Infinity (sent as null) and, inside a batch transaction, digits.
export function upsertMetricPoints(prisma: Pick<PrismaClient, '$executeRaw'>, jobId: string, points: MetricPoint[], time: Date): Prisma.PrismaPromise<number> {
  const unique = new Map<string, MetricPoint>();
  for (const p of points) unique.set(`${p.name}\u0000${p.step}`, p);
  const rows = [...unique.values()];
  return prisma.$executeRaw`
    INSERT INTO "metric_points" ("job_id", "name", "step", "epoch", "value", "time")
    SELECT ${jobId}::uuid, p.name, p.step, p.epoch, p.value, ${time}::timestamptz
    FROM unnest(${rows.map((p) => p.name)}::text[], ${rows.map((p) => p.step)}::int[],
                ${rows.map((p) => p.epoch)}::int[], ${rows.map((p) => String(p.value))}::text[]::float8[]) AS p(name, step, epoch, value)
    ON CONFLICT ("job_id", "name", "step") DO UPDATE
      SET "epoch" = EXCLUDED."epoch", "value" = EXCLUDED."value", "time" = EXCLUDED."time"`;
}

/**
 * Writes a checkpoint and applies retention in the same transaction (the bytes live
 * in the row, so no row can ever point at missing data):
 * - an epoch checkpoint replaces any of the same or a later epoch (a replay) and
 *   makes 'resume' checkpoints at or before its step obsolete;
 * - the newest keepLast epoch checkpoints stay, and with keepBest the best one;
 * - is_best marks exactly one checkpoint per job: the best so far.
 */
function checkpointOps(prisma: Prisma.TransactionClient, jobId: string, blob: CheckpointBlob, retention: CheckpointRetention): Prisma.PrismaPromise<unknown>[] {
  const ops: Prisma.PrismaPromise<unknown>[] = [
    prisma.checkpoint.deleteMany({ where: { jobId, kind: 'epoch', epoch: { gte: blob.epoch } } }),
    prisma.checkpoint.deleteMany({ where: { jobId, kind: 'resume', step: { lte: blob.step } } }),
  ];
  if (blob.isBest) ops.push(prisma.checkpoint.updateMany({ where: { jobId, isBest: true }, data: { isBest: false } }));
  ops.push(prisma.checkpoint.createMany({ data: [checkpointRow(jobId, 'epoch', blob)] }));
  ops.push(prisma.$executeRaw`
    DELETE FROM "checkpoints"
    WHERE "job_id" = ${jobId}::uuid AND "kind" = 'epoch'
      AND NOT ("is_best" AND ${retention.keepBest}::boolean)
      AND "id" NOT IN (
        SELECT "id" FROM "checkpoints" WHERE "job_id" = ${jobId}::uuid AND "kind" = 'epoch'
        ORDER BY "step" DESC, "created_at" DESC LIMIT ${Math.max(1, retention.keepLast)}::int)`);
  return ops;
}

/**
 * One transaction per epoch: the metric points (one upsert), the decision, the
 * checkpoint with its retention, progress and the epoch's 'epoch' event. The event
 * is written only if the epoch has none yet: the event stream (GET /v1/jobs/:id/events)
 * shows every epoch once, with the values of its first run (a replay after a crash
 * computes the same ones). Returns whether a cancel was requested.
 */
/**
 * Interactive write transactions carry checkpoints of up to hundreds of MB; Prisma's
 * default 5 s timeout would fail them on a loaded machine.
 */
const WRITE_TRANSACTION = { maxWait: 10_000, timeout: 60_000 } as const;

export async function recordEpoch(prisma: PrismaClient, r: EpochWrite): Promise<{ cancelRequested: boolean }> {
  const time = new Date();
  // An interactive transaction, not a batch: Prisma compiles a batch that mixes raw
  // statements with model queries differently and rounds its numbers to 16 digits, so
  // the stored value would differ from the one the trainer reported (and SSE shows).
  return prisma.$transaction(async (tx) => {
    await upsertMetricPoints(tx, r.jobId, r.points, time);
    if (r.decision) {
      const d = r.decision;
      const fields = {
        monitor: d.monitor, value: d.value, best: d.best, bestEpoch: d.bestEpoch,
        wait: d.wait, decision: d.decision, reason: d.reason,
      };
      await tx.earlyStoppingDecision.upsert({
        where: { jobId_epoch: { jobId: r.jobId, epoch: d.epoch } },
        create: { jobId: r.jobId, epoch: d.epoch, ...fields },
        update: fields,
      });
    }
    if (r.checkpoint) for (const op of checkpointOps(tx, r.jobId, r.checkpoint, r.retention)) await op;
    const data = { epoch: r.epoch, step: r.step, metrics: r.metrics, ...(r.decision && { decision: r.decision.decision }) };
    await tx.$executeRaw`
      INSERT INTO "job_events" ("job_id", "type", "attempt", "message", "data")
      SELECT ${r.jobId}::uuid, 'epoch', ${r.attempt}::int, ${`epoch ${r.epoch} done`}, ${JSON.stringify(data, jsonNumberReplacer)}::jsonb
      WHERE NOT EXISTS (
        SELECT 1 FROM "job_events"
        WHERE "job_id" = ${r.jobId}::uuid AND "type" = 'epoch' AND ("data"->>'epoch')::int = ${r.epoch}::int)`;
    const job = await tx.job.update({ where: { id: r.jobId }, data: { progress: r.progress }, select: { cancelRequested: true } });
    return { cancelRequested: job.cancelRequested };
  }, WRITE_TRANSACTION);
}

export async function updateProgress(prisma: PrismaClient, jobId: string, progress: Json): Promise<void> {
  await prisma.job.updateMany({ where: { id: jobId, status: 'running' }, data: { progress } });
}

export interface SuccessRecord {
  jobId: string;
  attempt: number;
  result: Json;
  diagnosis: Json | null;
  testPoints: MetricPoint[];
  finalWeights: CheckpointBlob;
  progress: Json;
  /**
   * Where training ended (a resume checkpoint of the last step): kept as the job's
   * 'resume' checkpoint when a cancel request won the race against this write.
   */
  stoppedAt: CheckpointBlob;
}

/**
 * succeeded: the job is done. cancelled: a cancel was accepted (POST /cancel answered
 * 202) after training ended but before this write, and is honoured. finished: the job
 * had ended already (a duplicate delivery); nothing was written.
 */
export type FinishOutcome = 'succeeded' | 'cancelled' | 'finished';

/**
 * The terminal write of a job that trained to the end. Postgres orders it against a
 * cancel request (requestCancel: UPDATE … WHERE status IN ('queued','running')):
 * the job row is locked FOR UPDATE first, so a cancel either committed before (we see
 * cancel_requested and end the job 'cancelled', keeping where it stopped) or waits
 * for this transaction and then finds the job finished (the API answers 409). A 202
 * for a cancel therefore always means the job ends cancelled.
 */
export async function finishSucceeded(prisma: PrismaClient, s: SuccessRecord): Promise<FinishOutcome> {
  const time = new Date();
  return prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ status: string; cancel_requested: boolean; cancel_reason: string | null }[]>`
      SELECT "status", "cancel_requested", "cancel_reason" FROM "jobs" WHERE "id" = ${s.jobId}::uuid FOR UPDATE`;
    if (!row || (row.status !== 'running' && row.status !== 'queued')) return 'finished';
    if (row.cancel_requested) {
      const status = stoppedStatus(row.cancel_reason);
      await tx.job.update({ where: { id: s.jobId }, data: { status, finishedAt: time, progress: s.progress } });
      await tx.checkpoint.deleteMany({ where: { jobId: s.jobId, kind: 'resume' } });
      await tx.checkpoint.createMany({ data: [checkpointRow(s.jobId, 'resume', { ...s.stoppedAt, isBest: false })] });
      const where = `epoch ${s.stoppedAt.epoch}, step ${s.stoppedAt.step}`;
      await tx.jobEvent.create({
        data: {
          jobId: s.jobId, attempt: s.attempt, type: status,
          message: stoppedMessage(status, `cancelled: the cancel request arrived after the last epoch had trained (${where}) but before the job was marked succeeded; the checkpoint of that point is kept`),
          data: { epoch: s.stoppedAt.epoch, step: s.stoppedAt.step, trainedToTheEnd: true },
        },
      });
      return 'cancelled';
    }
    await upsertMetricPoints(tx, s.jobId, s.testPoints, time);
    await tx.checkpoint.deleteMany({ where: { jobId: s.jobId, kind: 'final' } });
    await tx.checkpoint.createMany({ data: [checkpointRow(s.jobId, 'final', s.finalWeights)] });
    await tx.job.update({
      where: { id: s.jobId },
      data: {
        status: 'succeeded',
        finishedAt: time,
        result: s.result,
        // a failure of an earlier attempt lives on in the events; a succeeded job has none
        error: Prisma.DbNull,
        progress: s.progress,
        ...(s.diagnosis !== null && { diagnosis: s.diagnosis }),
      },
    });
    await tx.jobEvent.create({ data: { jobId: s.jobId, attempt: s.attempt, type: 'succeeded', message: 'training finished' } });
    return 'succeeded';
  }, WRITE_TRANSACTION);
}

/** A person-readable failure: what went wrong and, where known, when. */
export interface JobFailure {
  code: string;
  message: string;
  /** the attempt that failed, where it is not the job's current one */
  attempt?: number;
  epoch?: number;
  step?: number;
}

export async function finishFailed(
  prisma: PrismaClient,
  jobId: string,
  attempt: number,
  failure: JobFailure,
  diagnosis?: Json,
): Promise<void> {
  await prisma.$transaction([
    prisma.job.updateMany({
      where: { id: jobId, status: { in: ['queued', 'running'] } },
      data: {
        status: 'failed',
        finishedAt: new Date(),
        error: failure as unknown as Json,
        ...(diagnosis !== undefined && { diagnosis }),
      },
    }),
    prisma.jobEvent.create({
      data: { jobId, attempt, type: 'failed', message: failure.message, data: failure as unknown as Json },
    }),
  ]);
}

/**
 * running|queued → cancelled, keeping `checkpoint` (where a running job stopped) as
 * its 'resume' checkpoint. Returns the updated row, or null when it had finished already.
 */
export async function finishCancelled(
  prisma: PrismaClient,
  job: Pick<JobRow, 'id' | 'attempt'>,
  message: string,
  checkpoint?: CheckpointBlob,
): Promise<JobRow | null> {
  // the row is locked so the status follows the cancel_reason the stop was asked with;
  // the status and its event commit together: whoever sees the job stopped also sees why
  return prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ status: string; cancel_reason: string | null }[]>`
      SELECT "status", "cancel_reason" FROM "jobs" WHERE "id" = ${job.id}::uuid FOR UPDATE`;
    if (!row || (row.status !== 'running' && row.status !== 'queued')) return null;
    const status = stoppedStatus(row.cancel_reason);
    await tx.job.update({ where: { id: job.id }, data: { status, finishedAt: new Date(), cancelRequested: true } });
    if (checkpoint) for (const op of resumeCheckpointOps(tx, job.id, checkpoint)) await op;
    await tx.jobEvent.create({ data: { jobId: job.id, attempt: job.attempt, type: status, message: stoppedMessage(status, message) } });
    return tx.job.findUnique({ where: { id: job.id } });
  }, WRITE_TRANSACTION);
}

/**
 * jobs.cancel_reason: why cancel_requested was set. 'pruned': a sweep's pruner
 * stopped the trial (src/db/repositories/sweeps.ts requestPrune), so it ends
 * 'pruned', keeping its metrics and checkpoints; otherwise a person cancelled it.
 */
export function stoppedStatus(cancelReason: string | null): 'cancelled' | 'pruned' {
  return cancelReason === 'pruned' ? 'pruned' : 'cancelled';
}

/** 'cancelled in epoch 4 …' → 'pruned by the sweep's pruner in epoch 4 …' for a pruned trial. */
function stoppedMessage(status: 'cancelled' | 'pruned', message: string): string {
  return status === 'pruned' ? message.replace(/^cancelled/, "pruned by the sweep's pruner") : message;
}

/** A 'resume' checkpoint replaces the job's previous one (at most one per job). */
function resumeCheckpointOps(prisma: Prisma.TransactionClient, jobId: string, blob: CheckpointBlob): Prisma.PrismaPromise<unknown>[] {
  return [
    prisma.checkpoint.deleteMany({ where: { jobId, kind: 'resume' } }),
    prisma.checkpoint.createMany({ data: [checkpointRow(jobId, 'resume', { ...blob, isBest: false })] }),
  ];
}

export interface Requeue {
  jobId: string;
  attempt: number;
  type: 'requeued' | 'retrying';
  message: string;
  /** the 'cancelled' event's message, for when a cancel was requested before this write */
  cancelledMessage: string;
  /** where the attempt stopped (worker shutdown): stored as the job's 'resume' checkpoint */
  checkpoint?: CheckpointBlob;
  /** why the attempt failed: kept on the job (error) while it waits for the next attempt */
  failure?: JobFailure;
}

/**
 * running → queued, for another attempt (worker shutdown, transient error), in one
 * transaction. A cancel requested before this write (POST /cancel answered 202) is
 * honoured instead: the job ends 'cancelled', keeping the checkpoint. The row is
 * locked FOR UPDATE first, so Postgres orders this against requestCancel exactly as
 * in finishSucceeded. Returns what happened ('finished': the job was not running;
 * nothing was written).
 */
export async function requeueJob(prisma: PrismaClient, r: Requeue): Promise<'requeued' | 'cancelled' | 'finished'> {
  return prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ status: string; cancel_requested: boolean; cancel_reason: string | null }[]>`
      SELECT "status", "cancel_requested", "cancel_reason" FROM "jobs" WHERE "id" = ${r.jobId}::uuid FOR UPDATE`;
    if (!row || row.status !== 'running') return 'finished';
    if (r.checkpoint) {
      await tx.checkpoint.deleteMany({ where: { jobId: r.jobId, kind: 'resume' } });
      await tx.checkpoint.createMany({ data: [checkpointRow(r.jobId, 'resume', { ...r.checkpoint, isBest: false })] });
    }
    if (row.cancel_requested) {
      const status = stoppedStatus(row.cancel_reason);
      await tx.job.update({ where: { id: r.jobId }, data: { status, finishedAt: new Date() } });
      await tx.jobEvent.create({ data: { jobId: r.jobId, attempt: r.attempt, type: status, message: stoppedMessage(status, r.cancelledMessage) } });
      return 'cancelled';
    }
    await tx.job.update({ where: { id: r.jobId }, data: { status: 'queued', ...(r.failure && { error: r.failure as unknown as Json }) } });
    await tx.jobEvent.create({
      data: { jobId: r.jobId, attempt: r.attempt, type: r.type, message: r.message, ...(r.failure && { data: r.failure as unknown as Json }) },
    });
    return 'requeued';
  }, WRITE_TRANSACTION);
}

/** Where a job's last progress write says it was (epoch, step), for messages about lost workers. */
export function lastSeen(progress: unknown): { epoch: number; step: number } | null {
  const p = progress as { epoch?: unknown; step?: unknown } | null;
  return p && typeof p.epoch === 'number' && typeof p.step === 'number' ? { epoch: p.epoch, step: p.step } : null;
}

export function describeLastSeen(progress: unknown): string {
  const seen = lastSeen(progress);
  return seen ? `last seen at epoch ${seen.epoch} (step ${seen.step})` : 'before its first progress report';
}

/**
 * running → queued for a job whose worker stopped renewing its BullMQ lock (crashed,
 * killed, or frozen). Only an attempt that started before `startedBefore` is
 * requeued: by the time BullMQ reports the stall, the next attempt may already have
 * started (here or on another worker) and must not be touched. Returns whether the
 * job was requeued.
 */
export async function requeueStalled(prisma: PrismaClient, jobId: string, startedBefore: Date): Promise<boolean> {
  const row = await prisma.job.findUnique({ where: { id: jobId }, select: { attempt: true, progress: true } });
  if (!row) return false;
  const failure = lostWorker(row.attempt, row.progress);
  // The status change and its event commit together: the row lock orders them before
  // any terminal write that races with this one (a 'failed' never precedes its 'requeued').
  return prisma.$transaction(async (tx) => {
    const updated = await tx.job.updateMany({
      where: { id: jobId, status: 'running', attempt: row.attempt, startedAt: { lt: startedBefore } },
      data: { status: 'queued', error: failure as unknown as Json },
    });
    if (updated.count === 0) return false;
    await tx.jobEvent.create({ data: { jobId, attempt: row.attempt, type: 'requeued', message: failure.message, data: failure as unknown as Json } });
    return true;
  }, WRITE_TRANSACTION);
}
