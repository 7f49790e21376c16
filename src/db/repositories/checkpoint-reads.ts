// What the API reads about checkpoints (listings without the bytes, one file's bytes,
// the weights a prediction runs on) and the one checkpoint it writes: an upload.
// The worker's checkpoint writes live in training-records.ts. Every read takes the
// caller's Scope (src/db/scope.ts): a checkpoint outside it does not exist.
import { createHash, randomUUID } from 'node:crypto';
import type { PrismaClient } from '../client.js';
import { decodeTimeIdCursor, encodeTimeIdCursor } from '../cursor.js';
import { checkpointScopeWhere, jobScopeWhere, type Scope } from '../scope.js';
import type { NormalizedJobSpec } from '../../spec/index.js';
import { isUuid } from './prisma-errors.js';
import { RESUMABLE_KINDS, type CheckpointKind } from './training-records.js';

export type { CheckpointKind };

/** A checkpoint row without its bytes. */
export interface CheckpointMeta {
  id: string;
  jobId: string | null;
  kind: CheckpointKind;
  epoch: number | null;
  step: number | null;
  isBest: boolean;
  metrics: unknown;
  size: number;
  sha256: string;
  createdAt: Date;
}

const META = {
  id: true, jobId: true, kind: true, epoch: true, step: true, isBest: true,
  metrics: true, size: true, sha256: true, createdAt: true,
} as const;

export interface CheckpointPage {
  items: CheckpointMeta[];
  /** id of the job's best checkpoint (see bestCheckpoint), or null */
  bestId: string | null;
  nextCursor: string | null;
}

/**
 * A job's checkpoints, oldest first by (createdAt, id), so pages neither skip nor
 * repeat a row while the worker adds and prunes checkpoints. Throws
 * InvalidCursorError (src/db/cursor.ts) for a cursor this list did not hand out.
 */
export async function listCheckpoints(
  prisma: PrismaClient,
  scope: Scope,
  jobId: string,
  query: { limit: number; cursor?: string },
): Promise<CheckpointPage> {
  const after = query.cursor === undefined ? undefined : decodeTimeIdCursor('checkpoints', query.cursor);
  const rows = await prisma.checkpoint.findMany({
    where: {
      jobId,
      ...checkpointScopeWhere(scope),
      ...(after && {
        OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }],
      }),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: query.limit + 1,
    select: META,
  });
  const items = rows.slice(0, query.limit) as CheckpointMeta[];
  const nextCursor = rows.length > query.limit ? encodeTimeIdCursor('checkpoints', items[items.length - 1]!) : null;
  const best = await bestCheckpoint(prisma, scope, jobId);
  return { items, bestId: 'checkpoint' in best ? best.checkpoint.id : null, nextCursor };
}

/**
 * The epoch whose weights are the job's best so far, chosen as the trainer chose it:
 * the newest early-stopping decision's bestEpoch (minDelta included); without early
 * stopping the first epoch with the lowest val_loss (train_loss when there is no
 * validation split). Null before the first epoch ends.
 */
export async function bestEpoch(prisma: PrismaClient, scope: Scope, jobId: string): Promise<number | null> {
  const decision = await prisma.earlyStoppingDecision.findFirst({
    where: { jobId, job: jobScopeWhere(scope) },
    orderBy: { epoch: 'desc' },
    select: { bestEpoch: true },
  });
  if (decision) return decision.bestEpoch;
  for (const monitor of ['val_loss', 'train_loss']) {
    const points = await prisma.metricPoint.findMany({
      where: { jobId, name: monitor, job: jobScopeWhere(scope) },
      orderBy: { step: 'asc' },
      select: { epoch: true, value: true },
    });
    if (points.length === 0) continue;
    // the trainer's rule: the first epoch is best, a later one only when finite and strictly lower
    let best = points[0]!;
    for (const p of points) if (Number.isFinite(p.value) && p.value < best.value) best = p;
    return best.epoch;
  }
  return null;
}

/** Why a job has no best checkpoint, for the 409 that says so. */
export type NoBestCheckpoint =
  | { reason: 'no-epoch' }
  /** the best epoch's checkpoint was never written (checkpoints.everyEpochs skipped it) or was pruned (keepLast, keepBest false) */
  | { reason: 'not-kept'; epoch: number };

/**
 * The checkpoint that holds the weights of the job's best epoch (bestEpoch): that
 * epoch's own checkpoint; else, when the job ended by restoring the best weights
 * (earlyStopping.restoreBest), its final checkpoint — with checkpoints.everyEpochs > 1
 * and keepBest false the best epoch may have no checkpoint of its own. Never another
 * epoch's weights: an older checkpoint that was best when written is not the best.
 */
export async function bestCheckpoint(
  prisma: PrismaClient,
  scope: Scope,
  jobId: string,
): Promise<{ checkpoint: CheckpointMeta } | NoBestCheckpoint> {
  const epoch = await bestEpoch(prisma, scope, jobId);
  if (epoch === null) return { reason: 'no-epoch' };
  const own = await prisma.checkpoint.findFirst({
    where: { jobId, kind: 'epoch', epoch, ...checkpointScopeWhere(scope) },
    orderBy: [{ step: 'desc' }, { createdAt: 'desc' }],
    select: META,
  });
  if (own) return { checkpoint: own as CheckpointMeta };
  const job = await prisma.job.findFirst({ where: { id: jobId, ...jobScopeWhere(scope) }, select: { spec: true } });
  const restored = (job?.spec as unknown as NormalizedJobSpec | undefined)?.earlyStopping?.restoreBest === true;
  const final = restored ? await finalCheckpoint(prisma, scope, jobId) : null;
  return final ? { checkpoint: final } : { reason: 'not-kept', epoch };
}

function finalCheckpoint(prisma: PrismaClient, scope: Scope, jobId: string): Promise<CheckpointMeta | null> {
  return prisma.checkpoint.findFirst({
    where: { jobId, kind: 'final', ...checkpointScopeWhere(scope) },
    orderBy: { createdAt: 'desc' },
    select: META,
  }) as Promise<CheckpointMeta | null>;
}

export async function findCheckpointMeta(
  prisma: PrismaClient,
  scope: Scope,
  id: string,
): Promise<(CheckpointMeta & { jobName: string | null }) | null> {
  if (!isUuid(id)) return null;
  const row = await prisma.checkpoint.findFirst({
    where: { id, ...checkpointScopeWhere(scope) },
    select: { ...META, job: { select: { name: true } } },
  });
  if (!row) return null;
  const { job, ...meta } = row;
  return { ...(meta as CheckpointMeta), jobName: job?.name ?? null };
}

export async function checkpointBytes(prisma: PrismaClient, scope: Scope, id: string): Promise<Uint8Array | null> {
  if (!isUuid(id)) return null;
  const row = await prisma.checkpoint.findFirst({ where: { id, ...checkpointScopeWhere(scope) }, select: { data: true } });
  return row?.data ?? null;
}

/** The stored (normalized, validated) spec of a job in the scope: the network a prediction builds. */
export async function jobSpec(prisma: PrismaClient, scope: Scope, jobId: string): Promise<NormalizedJobSpec | null> {
  if (!isUuid(jobId)) return null;
  const row = await prisma.job.findFirst({ where: { id: jobId, ...jobScopeWhere(scope) }, select: { spec: true } });
  return row === null ? null : (row.spec as unknown as NormalizedJobSpec);
}

/**
 * The checkpoint a prediction runs on. 'final': the job's final weights, or while it
 * has none yet (running, cancelled, failed) its newest epoch or resume checkpoint
 * (the weights where it stopped). 'best': bestCheckpoint.
 */
export async function weightsCheckpoint(
  prisma: PrismaClient,
  scope: Scope,
  jobId: string,
  which: 'best' | 'final',
): Promise<{ checkpoint: CheckpointMeta } | NoBestCheckpoint | null> {
  if (which === 'best') return bestCheckpoint(prisma, scope, jobId);
  const final = await finalCheckpoint(prisma, scope, jobId);
  if (final) return { checkpoint: final };
  const latest = await prisma.checkpoint.findFirst({
    where: { jobId, kind: { in: [...RESUMABLE_KINDS] }, ...checkpointScopeWhere(scope) },
    orderBy: [{ step: 'desc' }, { createdAt: 'desc' }],
    select: META,
  });
  return latest ? { checkpoint: latest as CheckpointMeta } : null;
}

/** Stores an uploaded (already validated) safetensors file as kind 'upload' of the tenant, owned by no job. */
export async function storeUpload(prisma: PrismaClient, tenantId: string, bytes: Uint8Array): Promise<CheckpointMeta> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const row = await prisma.checkpoint.create({
    data: {
      id: randomUUID(),
      jobId: null,
      tenantId,
      kind: 'upload',
      size: bytes.byteLength,
      sha256,
      // a body Buffer lives on a plain ArrayBuffer; no copy of a file that may be hundreds of MB
      data: bytes as Uint8Array<ArrayBuffer>,
    },
    select: META,
  });
  return row as CheckpointMeta;
}
