// Reading and writing jobs as the API sees them: create (with idempotency), get,
// list with a stable cursor, cancel. The worker's writes live in training-records.ts.
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../client.js';
import type { Job as JobRow, Prisma } from '../../generated/prisma/client.js';
import { isUniqueViolation, isUuid } from './prisma-errors.js';
import type { JobStatus } from './job-status.js';

/** The job shape of the HTTP API (DESIGN.md), plus cancelRequested. */
export interface JobView {
  id: string;
  name: string;
  status: JobStatus;
  spec: unknown;
  attempt: number;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: unknown;
  result: unknown;
  error: unknown;
  diagnosis: unknown;
}

export function toJobView(row: JobRow): JobView {
  return {
    id: row.id,
    name: row.name,
    status: row.status as JobStatus,
    spec: row.spec,
    attempt: row.attempt,
    cancelRequested: row.cancelRequested,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    progress: row.progress ?? null,
    result: row.result ?? null,
    error: row.error ?? null,
    diagnosis: row.diagnosis ?? null,
  };
}

export interface NewJob {
  name: string;
  spec: Prisma.InputJsonValue;
  specHash: string;
  idempotencyKey?: string;
}

export type CreateJobOutcome =
  | { kind: 'created'; job: JobRow }
  /** same Idempotency-Key, same spec: the job created by the first request */
  | { kind: 'existing'; job: JobRow }
  /** same Idempotency-Key, different spec */
  | { kind: 'conflict'; job: JobRow };

export async function findJob(prisma: PrismaClient, id: string): Promise<JobRow | null> {
  if (!isUuid(id)) return null;
  return prisma.job.findUnique({ where: { id } });
}

/** Inserts the job and its 'queued' event in one statement. */
export async function createJob(prisma: PrismaClient, input: NewJob): Promise<CreateJobOutcome> {
  if (input.idempotencyKey !== undefined) {
    const existing = await prisma.job.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
    if (existing) return compareWithExisting(existing, input.specHash);
  }
  try {
    const job = await prisma.job.create({
      data: {
        id: randomUUID(),
        name: input.name,
        status: 'queued',
        spec: input.spec,
        specHash: input.specHash,
        idempotencyKey: input.idempotencyKey ?? null,
        events: { create: { type: 'queued', attempt: 0, message: 'queued' } },
      },
    });
    return { kind: 'created', job };
  } catch (err) {
    // Two requests with one key raced past the findUnique above: the loser answers
    // with the winner's job.
    if (input.idempotencyKey !== undefined && isUniqueViolation(err)) {
      const winner = await prisma.job.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
      if (winner) return compareWithExisting(winner, input.specHash);
    }
    throw err;
  }
}

function compareWithExisting(job: JobRow, specHash: string): CreateJobOutcome {
  return job.specHash === specHash ? { kind: 'existing', job } : { kind: 'conflict', job };
}

/** Undoes createJob when the job could not be queued (Redis down), so no orphan stays 'queued'. */
export async function deleteJob(prisma: PrismaClient, id: string): Promise<void> {
  await prisma.job.deleteMany({ where: { id } });
}

// ------------------------------------------------------------------ listing

export interface ListJobsQuery {
  status?: JobStatus;
  limit: number;
  cursor?: string;
}

export interface JobPage {
  items: JobRow[];
  nextCursor: string | null;
}

/** Thrown for a cursor this API did not hand out. */
export class InvalidCursorError extends Error {
  constructor() {
    super('the cursor is not one this API returned');
    this.name = 'InvalidCursorError';
  }
}

interface CursorPosition {
  createdAt: Date;
  id: string;
}

export function encodeCursor(row: CursorPosition): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(String(createdAt));
    if (typeof id !== 'string' || !isUuid(id) || Number.isNaN(date.getTime())) throw new InvalidCursorError();
    return { createdAt: date, id };
  } catch {
    throw new InvalidCursorError();
  }
}

/**
 * Newest first, ordered by (createdAt, id) so that pages never skip or repeat a job,
 * even when many share one millisecond or new jobs arrive between two pages.
 */
export async function listJobs(prisma: PrismaClient, query: ListJobsQuery): Promise<JobPage> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const where: Prisma.JobWhereInput = {
    ...(query.status !== undefined && { status: query.status }),
    ...(after && {
      OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
    }),
  };
  const rows = await prisma.job.findMany({
    where,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  const items = rows.slice(0, query.limit);
  const nextCursor = rows.length > query.limit ? encodeCursor(items[items.length - 1]!) : null;
  return { items, nextCursor };
}

/** Jobs per status, for the Prometheus gauge. */
export async function countJobsByStatus(prisma: PrismaClient): Promise<Record<string, number>> {
  const groups = await prisma.job.groupBy({ by: ['status'], _count: { _all: true } });
  return Object.fromEntries(groups.map((g) => [g.status, g._count._all]));
}

// ------------------------------------------------------------------ cancel

/**
 * → cancelled, for a job no worker holds: the caller has just removed it from the
 * queue (BullMQ refuses to remove an active job), so even a row still marked
 * 'running' (a stalled worker's) is safe to cancel here.
 */
export async function cancelUnclaimedJob(prisma: PrismaClient, id: string): Promise<boolean> {
  const updated = await prisma.job.updateMany({
    where: { id, status: { in: ['queued', 'running'] } },
    data: { status: 'cancelled', cancelRequested: true, finishedAt: new Date() },
  });
  if (updated.count === 0) return false;
  const job = await prisma.job.findUniqueOrThrow({ where: { id }, select: { attempt: true } });
  await prisma.jobEvent.create({ data: { jobId: id, type: 'cancelled', attempt: job.attempt, message: 'cancelled while queued' } });
  return true;
}

/** Marks a queued or running job for cancellation; the worker stops it and sets 'cancelled'. */
export async function requestCancel(prisma: PrismaClient, id: string): Promise<boolean> {
  const updated = await prisma.job.updateMany({
    where: { id, status: { in: ['queued', 'running'] } },
    data: { cancelRequested: true },
  });
  return updated.count > 0;
}

/** Existence check for initialWeights.checkpointId. */
export async function checkpointExists(prisma: PrismaClient, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  return (await prisma.checkpoint.count({ where: { id } })) > 0;
}
