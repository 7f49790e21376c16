// What the API reads about checkpoints (listings without the bytes, one file's bytes,
// the weights a prediction runs on) and the one checkpoint it writes: an upload.
// The worker's checkpoint writes live in training-records.ts.
import { createHash, randomUUID } from 'node:crypto';
import type { PrismaClient } from '../client.js';
import { decodeCursor, encodeCursor } from './jobs.js';
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
  /** id of the job's best checkpoint (see bestCheckpointId), or null */
  bestId: string | null;
  nextCursor: string | null;
}

/**
 * A job's checkpoints, oldest first by (createdAt, id), so pages neither skip nor
 * repeat a row while the worker adds and prunes checkpoints. Throws
 * InvalidCursorError (jobs.ts) for a cursor this API did not hand out.
 */
export async function listCheckpoints(
  prisma: PrismaClient,
  jobId: string,
  query: { limit: number; cursor?: string },
): Promise<CheckpointPage> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const rows = await prisma.checkpoint.findMany({
    where: {
      jobId,
      ...(after && {
        OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }],
      }),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: query.limit + 1,
    select: META,
  });
  const items = rows.slice(0, query.limit) as CheckpointMeta[];
  const nextCursor = rows.length > query.limit ? encodeCursor(items[items.length - 1]!) : null;
  return { items, bestId: await bestCheckpointId(prisma, jobId), nextCursor };
}

/**
 * The job's best checkpoint: the newest epoch checkpoint that was the best so far
 * (by the early-stopping monitor, else train_loss) when it was written. Older rows
 * keep isBest from their own time; only this one is "best" now.
 */
export async function bestCheckpointId(prisma: PrismaClient, jobId: string): Promise<string | null> {
  const row = await prisma.checkpoint.findFirst({
    where: { jobId, kind: 'epoch', isBest: true },
    orderBy: [{ step: 'desc' }, { createdAt: 'desc' }],
    select: { id: true },
  });
  return row?.id ?? null;
}

export async function findCheckpointMeta(
  prisma: PrismaClient,
  id: string,
): Promise<(CheckpointMeta & { jobName: string | null }) | null> {
  if (!isUuid(id)) return null;
  const row = await prisma.checkpoint.findUnique({ where: { id }, select: { ...META, job: { select: { name: true } } } });
  if (!row) return null;
  const { job, ...meta } = row;
  return { ...(meta as CheckpointMeta), jobName: job?.name ?? null };
}

export async function checkpointBytes(prisma: PrismaClient, id: string): Promise<Uint8Array | null> {
  if (!isUuid(id)) return null;
  const row = await prisma.checkpoint.findUnique({ where: { id }, select: { data: true } });
  return row?.data ?? null;
}

/**
 * The checkpoint a prediction runs on. 'final': the job's final weights, or while it
 * has none yet (running, cancelled, failed) its newest epoch or resume checkpoint
 * (the weights where it stopped). 'best': the best checkpoint (bestCheckpointId).
 * Null when the job has no such weights.
 */
export async function weightsCheckpoint(
  prisma: PrismaClient,
  jobId: string,
  which: 'best' | 'final',
): Promise<CheckpointMeta | null> {
  if (which === 'best') {
    const id = await bestCheckpointId(prisma, jobId);
    if (id === null) return null;
    return (await prisma.checkpoint.findUnique({ where: { id }, select: META })) as CheckpointMeta | null;
  }
  const final = await prisma.checkpoint.findFirst({ where: { jobId, kind: 'final' }, orderBy: { createdAt: 'desc' }, select: META });
  if (final) return final as CheckpointMeta;
  const latest = await prisma.checkpoint.findFirst({
    where: { jobId, kind: { in: [...RESUMABLE_KINDS] } },
    orderBy: [{ step: 'desc' }, { createdAt: 'desc' }],
    select: META,
  });
  return latest as CheckpointMeta | null;
}

/** Stores an uploaded (already validated) safetensors file as kind 'upload', owned by no job. */
export async function storeUpload(prisma: PrismaClient, bytes: Uint8Array): Promise<CheckpointMeta> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const row = await prisma.checkpoint.create({
    data: {
      id: randomUUID(),
      jobId: null,
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
