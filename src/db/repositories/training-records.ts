// What a worker writes while it trains a job: status transitions with their events,
// each epoch's metric points / early-stopping decision / checkpoint, progress, and
// the final result. Transitions are conditional updates, so a cancel from the API
// and a worker never overwrite each other.
import { createHash, randomUUID } from 'node:crypto';
import type { PrismaClient } from '../client.js';
import type { Job as JobRow, Prisma } from '../../generated/prisma/client.js';
import type { EarlyStoppingDecision, MetricPoint } from '../../core/types.js';

type Json = Prisma.InputJsonValue;

export interface CheckpointBlob {
  epoch: number;
  step: number;
  isBest: boolean;
  metrics: Record<string, number>;
  data: Uint8Array;
}

export interface ResumePoint {
  checkpointId: string;
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

/** queued|running → running, attempt + 1, unless a cancel was requested. */
export async function startJob(prisma: PrismaClient, jobId: string): Promise<StartOutcome> {
  const now = new Date();
  const updated = await prisma.job.updateMany({
    where: { id: jobId, status: { in: ['queued', 'running'] }, cancelRequested: false },
    data: { status: 'running', attempt: { increment: 1 }, startedAt: now, finishedAt: null },
  });
  const job = await prisma.job.findUnique({ where: { id: jobId } });
  if (!job) return { kind: 'missing' };
  if (updated.count === 1) return { kind: 'started', job };
  if (job.status === 'queued' || job.status === 'running') {
    // cancel requested before we started
    const cancelled = await finishCancelled(prisma, job, 'cancelled before training started');
    return { kind: 'cancelled', job: cancelled ?? job };
  }
  return job.status === 'cancelled' ? { kind: 'cancelled', job } : { kind: 'finished', job };
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

/** The newest resume checkpoint of a job (an epoch end or an interrupted run). */
export async function latestCheckpoint(prisma: PrismaClient, jobId: string): Promise<ResumePoint | null> {
  const row = await prisma.checkpoint.findFirst({
    where: { jobId, kind: 'epoch' },
    orderBy: [{ step: 'desc' }, { createdAt: 'desc' }],
  });
  if (!row) return null;
  return { checkpointId: row.id, epoch: row.epoch ?? 0, step: row.step ?? 0, data: row.data };
}

export async function checkpointData(prisma: PrismaClient, checkpointId: string): Promise<Uint8Array | null> {
  const row = await prisma.checkpoint.findUnique({ where: { id: checkpointId }, select: { data: true } });
  return row?.data ?? null;
}

function checkpointRow(jobId: string, kind: 'epoch' | 'final', blob: CheckpointBlob): Prisma.CheckpointCreateManyInput {
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

export interface EpochRecord {
  jobId: string;
  attempt: number;
  epoch: number;
  step: number;
  points: MetricPoint[];
  metrics: Record<string, number>;
  decision: EarlyStoppingDecision | null;
  checkpoint: CheckpointBlob | null;
  progress: Json;
}

/**
 * One transaction per epoch: all metric points in one INSERT (a resumed run that
 * repeats an epoch writes the same points again, skipped), the decision, the
 * checkpoint, progress and an 'epoch' event. Returns whether a cancel was requested.
 */
export async function recordEpoch(prisma: PrismaClient, r: EpochRecord): Promise<{ cancelRequested: boolean }> {
  const time = new Date();
  const ops: Prisma.PrismaPromise<unknown>[] = [
    prisma.metricPoint.createMany({
      data: r.points.map((p) => ({ jobId: r.jobId, name: p.name, step: p.step, epoch: p.epoch, value: p.value, time })),
      skipDuplicates: true,
    }),
  ];
  if (r.decision) {
    const d = r.decision;
    const fields = {
      monitor: d.monitor, value: d.value, best: d.best, bestEpoch: d.bestEpoch,
      wait: d.wait, decision: d.decision, reason: d.reason,
    };
    ops.push(
      prisma.earlyStoppingDecision.upsert({
        where: { jobId_epoch: { jobId: r.jobId, epoch: d.epoch } },
        create: { jobId: r.jobId, epoch: d.epoch, ...fields },
        update: fields,
      }),
    );
  }
  if (r.checkpoint) {
    // a resumed run re-reaching an epoch replaces that epoch's checkpoint
    ops.push(prisma.checkpoint.deleteMany({ where: { jobId: r.jobId, kind: 'epoch', epoch: { gte: r.epoch } } }));
    ops.push(prisma.checkpoint.createMany({ data: [checkpointRow(r.jobId, 'epoch', r.checkpoint)] }));
  }
  ops.push(
    prisma.jobEvent.create({
      data: {
        jobId: r.jobId, attempt: r.attempt, type: 'epoch', message: `epoch ${r.epoch} done`,
        data: { epoch: r.epoch, step: r.step, metrics: r.metrics, ...(r.decision && { decision: r.decision.decision }) },
      },
    }),
  );
  ops.push(
    prisma.job.update({ where: { id: r.jobId }, data: { progress: r.progress }, select: { cancelRequested: true } }),
  );
  const results = await prisma.$transaction(ops);
  const job = results[results.length - 1] as { cancelRequested: boolean };
  return { cancelRequested: job.cancelRequested };
}

/**
 * Keeps the newest `keepLast` epoch checkpoints and, with keepBest, the newest one
 * that was best when written; deletes the rest.
 */
export async function pruneCheckpoints(
  prisma: PrismaClient,
  jobId: string,
  keepLast: number,
  keepBest: boolean,
): Promise<void> {
  const rows = await prisma.checkpoint.findMany({
    where: { jobId, kind: 'epoch' },
    orderBy: [{ step: 'desc' }, { createdAt: 'desc' }],
    select: { id: true, isBest: true },
  });
  const keep = new Set(rows.slice(0, Math.max(1, keepLast)).map((r) => r.id));
  if (keepBest) {
    const best = rows.find((r) => r.isBest);
    if (best) keep.add(best.id);
  }
  const drop = rows.filter((r) => !keep.has(r.id)).map((r) => r.id);
  if (drop.length > 0) await prisma.checkpoint.deleteMany({ where: { id: { in: drop } } });
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
}

export async function finishSucceeded(prisma: PrismaClient, s: SuccessRecord): Promise<void> {
  const time = new Date();
  await prisma.$transaction([
    prisma.metricPoint.createMany({
      data: s.testPoints.map((p) => ({ jobId: s.jobId, name: p.name, step: p.step, epoch: p.epoch, value: p.value, time })),
      skipDuplicates: true,
    }),
    prisma.checkpoint.deleteMany({ where: { jobId: s.jobId, kind: 'final' } }),
    prisma.checkpoint.createMany({ data: [checkpointRow(s.jobId, 'final', s.finalWeights)] }),
    prisma.job.update({
      where: { id: s.jobId },
      data: {
        status: 'succeeded',
        finishedAt: time,
        result: s.result,
        progress: s.progress,
        ...(s.diagnosis !== null && { diagnosis: s.diagnosis }),
      },
    }),
    prisma.jobEvent.create({ data: { jobId: s.jobId, attempt: s.attempt, type: 'succeeded', message: 'training finished' } }),
  ]);
}

/** A person-readable failure: what went wrong and, where known, when. */
export interface JobFailure {
  code: string;
  message: string;
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

/** running|queued → cancelled. Returns the updated row, or null when it had finished already. */
export async function finishCancelled(prisma: PrismaClient, job: Pick<JobRow, 'id' | 'attempt'>, message: string): Promise<JobRow | null> {
  const updated = await prisma.job.updateMany({
    where: { id: job.id, status: { in: ['queued', 'running'] } },
    data: { status: 'cancelled', finishedAt: new Date(), cancelRequested: true },
  });
  if (updated.count === 0) return null;
  await addEvent(prisma, job.id, job.attempt, 'cancelled', message);
  return prisma.job.findUnique({ where: { id: job.id } });
}

/** running → queued, for another attempt (worker shutdown, stalled worker, transient error). */
export async function requeueJob(
  prisma: PrismaClient,
  jobId: string,
  attempt: number,
  type: 'requeued' | 'retrying',
  message: string,
  checkpoint?: CheckpointBlob,
): Promise<void> {
  const ops: Prisma.PrismaPromise<unknown>[] = [];
  if (checkpoint) {
    ops.push(prisma.checkpoint.createMany({ data: [checkpointRow(jobId, 'epoch', checkpoint)] }));
  }
  ops.push(prisma.job.updateMany({ where: { id: jobId, status: 'running' }, data: { status: 'queued' } }));
  ops.push(prisma.jobEvent.create({ data: { jobId, attempt, type, message } }));
  await prisma.$transaction(ops);
}
