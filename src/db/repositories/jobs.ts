// Reading and writing jobs as the API sees them: create (with idempotency), get,
// list with a stable cursor, cancel. The worker's writes live in training-records.ts.
// Every read takes a Scope (../scope.ts), so the tenant filter cannot be forgotten.
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../client.js';
import type { Job as JobRow, Prisma } from '../../generated/prisma/client.js';
import { isUniqueViolation, isUuid } from './prisma-errors.js';
import type { JobStatus } from './job-status.js';
import { checkpointScopeWhere, jobScopeWhere, type Scope } from '../scope.js';
import { decodeTimeIdCursor, encodeTimeIdCursor } from '../cursor.js';
import { DEFAULT_TENANT_ID } from './tenants.js';

export interface NewJob {
  name: string;
  spec: Prisma.InputJsonValue;
  specHash: string;
  idempotencyKey?: string;
  /** the owner; default: the scope's tenant, else the tenant `default` (EVERY_TENANT callers: tests, tools) */
  tenantId?: string;
  /** TENANT_MAX_ACTIVE_JOBS: refuse when the tenant already has this many queued + running jobs */
  maxActiveJobs?: number;
}

/** pg_advisory_xact_lock(QUOTA_LOCK, hashtext(tenant id)): one quota check per tenant at a time */
const QUOTA_LOCK = 0x71756f74; // "quot"

export type CreateJobOutcome =
  | { kind: 'created'; job: JobRow }
  /** same Idempotency-Key, same spec: the job created by the first request */
  | { kind: 'existing'; job: JobRow }
  /** same Idempotency-Key, different spec */
  | { kind: 'conflict'; job: JobRow };

/** createJob with maxActiveJobs: the tenant has `active` ≥ `limit` queued + running jobs; nothing was created. */
export class QuotaExceededError extends Error {
  constructor(
    readonly active: number,
    readonly limit: number,
  ) {
    super(`the tenant has ${active} queued or running jobs, the limit is ${limit}`);
    this.name = 'QuotaExceededError';
  }
}

/** The whole job (spec included) when it exists within the scope; null otherwise (a malformed id too). */
export async function findJob(prisma: PrismaClient, scope: Scope, id: string): Promise<JobRow | null> {
  if (!isUuid(id)) return null;
  // findUnique, not findFirst: Prisma batches and plans it about 4× cheaper (bench/api.ts; the scope's
  // filter is allowed next to the unique id)
  return prisma.job.findUnique({ where: { id, ...jobScopeWhere(scope) } });
}

/**
 * Inserts the job and its 'queued' event in one transaction. With maxActiveJobs the
 * tenant's active jobs are counted under a per-tenant advisory lock in the same
 * transaction, so two submits at the cap cannot both pass.
 */
export async function createJob(prisma: PrismaClient, scope: Scope, input: NewJob): Promise<CreateJobOutcome> {
  const tenantId = input.tenantId ?? scope.tenantId ?? DEFAULT_TENANT_ID;
  // An Idempotency-Key names a job within its tenant (unique (tenant_id, idempotency_key)).
  const byKey = (key: string) => prisma.job.findFirst({ where: { idempotencyKey: key, tenantId } });
  if (input.idempotencyKey !== undefined) {
    const existing = await byKey(input.idempotencyKey);
    if (existing) return compareWithExisting(existing, input.specHash);
  }
  try {
    return await prisma.$transaction(async (tx): Promise<CreateJobOutcome> => {
      if (input.maxActiveJobs !== undefined) {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${QUOTA_LOCK}::int, hashtext(${tenantId}::text))`;
        const active = await tx.job.count({ where: { tenantId, status: { in: ['queued', 'running'] } } });
        if (active >= input.maxActiveJobs) throw new QuotaExceededError(active, input.maxActiveJobs);
      }
      const job = await tx.job.create({
        data: {
          id: randomUUID(),
          tenantId,
          name: input.name,
          status: 'queued',
          spec: input.spec,
          specHash: input.specHash,
          idempotencyKey: input.idempotencyKey ?? null,
          events: { create: { type: 'queued', attempt: 0, message: 'queued' } },
        },
      });
      return { kind: 'created', job };
    });
  } catch (err) {
    // Two requests with one key raced past the findFirst above: the loser answers
    // with the winner's job.
    if (input.idempotencyKey !== undefined && isUniqueViolation(err)) {
      const winner = await byKey(input.idempotencyKey);
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

/** What a list item says about the spec; the whole spec (inline data: megabytes) is at GET /v1/jobs/:id. */
export interface JobSpecSummary {
  dataset: string;
  layers: number;
  epochs: number;
  optimizer: string;
  loss: string;
}

/** A job without its spec: what GET /v1/jobs lists. */
export type JobListRow = Omit<JobRow, 'spec'> & { specSummary: JobSpecSummary };

export interface JobPage {
  items: JobListRow[];
  nextCursor: string | null;
}

const LIST_COLUMNS = {
  id: true, tenantId: true, name: true, status: true, specHash: true, idempotencyKey: true, attempt: true, cancelRequested: true,
  progress: true, result: true, error: true, diagnosis: true, createdAt: true, updatedAt: true, startedAt: true, finishedAt: true,
  sweepId: true, trialIndex: true, cancelReason: true,
} as const satisfies Record<Exclude<keyof JobRow, 'spec'>, true>;

/**
 * Newest first, ordered by (createdAt, id) so that pages never skip or repeat a job,
 * even when many share one millisecond or new jobs arrive between two pages.
 * Throws InvalidCursorError for a cursor that is not a 'jobs' cursor this API handed out.
 */
export async function listJobs(prisma: PrismaClient, scope: Scope, query: ListJobsQuery): Promise<JobPage> {
  const after = query.cursor === undefined ? undefined : decodeTimeIdCursor('jobs', query.cursor);
  const where: Prisma.JobWhereInput = {
    ...jobScopeWhere(scope),
    ...(query.status !== undefined && { status: query.status }),
    ...(after && {
      OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
    }),
  };
  const rows = await prisma.job.findMany({
    where,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
    select: LIST_COLUMNS,
  });
  const page = rows.slice(0, query.limit);
  const summaries = await specSummaries(prisma, page.map((r) => r.id));
  const items = page.map((r) => ({ ...r, specSummary: summaries.get(r.id)! }));
  const nextCursor = rows.length > query.limit ? encodeTimeIdCursor('jobs', items[items.length - 1]!) : null;
  return { items, nextCursor };
}

/** The summary fields, extracted by Postgres, so a page of inline-data jobs does not ship their data. */
async function specSummaries(prisma: PrismaClient, ids: string[]): Promise<Map<string, JobSpecSummary>> {
  if (ids.length === 0) return new Map();
  const rows = await prisma.$queryRaw<Array<JobSpecSummary & { id: string }>>`
    SELECT id::text AS id,
           spec->'dataset'->>'name' AS dataset,
           jsonb_array_length(spec->'model'->'layers') AS layers,
           (spec->'training'->>'epochs')::int AS epochs,
           spec->'optimizer'->>'type' AS optimizer,
           spec->>'loss' AS loss
      FROM jobs WHERE id = ANY(${ids}::uuid[])`;
  return new Map(rows.map(({ id, ...summary }) => [id, summary]));
}

/** Jobs per status, for the Prometheus gauge: global on purpose (an operator's view, not a tenant's read). */
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
export async function cancelUnclaimedJob(prisma: PrismaClient, scope: Scope, id: string): Promise<boolean> {
  const updated = await prisma.job.updateMany({
    where: { id, ...jobScopeWhere(scope), status: { in: ['queued', 'running'] } },
    data: { status: 'cancelled', cancelRequested: true, finishedAt: new Date() },
  });
  if (updated.count === 0) return false;
  const job = await prisma.job.findUniqueOrThrow({ where: { id }, select: { attempt: true } });
  await prisma.jobEvent.create({ data: { jobId: id, type: 'cancelled', attempt: job.attempt, message: 'cancelled while queued' } });
  return true;
}

/** Marks a queued or running job for cancellation; the worker stops it and sets 'cancelled'. */
export async function requestCancel(prisma: PrismaClient, scope: Scope, id: string): Promise<boolean> {
  const updated = await prisma.job.updateMany({
    where: { id, ...jobScopeWhere(scope), status: { in: ['queued', 'running'] } },
    data: { cancelRequested: true },
  });
  return updated.count > 0;
}

/** Existence check for initialWeights.checkpointId: only a checkpoint the scope may read can seed a job. */
export async function checkpointExists(prisma: PrismaClient, scope: Scope, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  return (await prisma.checkpoint.count({ where: { id, ...checkpointScopeWhere(scope) } })) > 0;
}
