// Sweeps in Postgres (DESIGN.md "Sweeps"). The sweep's whole state is here, so any
// process may die at any point and the sweep goes on:
// - the plan (every trial's parameters) is stored with the sweep at creation;
// - advanceSweep creates the next trials in one transaction that holds the sweep row
//   FOR UPDATE, and (sweep_id, trial_index) is unique: however many processes notice
//   a trial end at once, no trial is created twice;
// - a trial created but not queued (the process died between the commit and BullMQ)
//   is still 'queued' in Postgres: every advance hands all of them to `enqueue`
//   again, and BullMQ ignores a second add of the same job id;
// - the sweep ends (succeeded | failed) in the same transaction that sees its last
//   trial ended.
// Whoever notices a trial end calls advanceSweep (the worker after a terminal write);
// reconcileSweeps advances every running sweep (at start and periodically), so a
// notice lost to a crash costs a delay, never a trial.
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../client.js';
import type { Prisma, Sweep as SweepRow } from '../../generated/prisma/client.js';
import { sweepScopeWhere, type Scope } from '../scope.js';
import { decodeNameStepCursor, decodeTimeIdCursor, encodeNameStepCursor, encodeTimeIdCursor, InvalidCursorError } from '../cursor.js';
import { isUuid } from './prisma-errors.js';
import { JOB_STATUSES, type JobStatus } from './job-status.js';
import { formatProblems, specHash, validateJobSpec } from '../../spec/index.js';
import { bestUpTo, better, trialSpec, type NormalizedSweep, type Objective, type PrunerDecision, type PrunerSettings, type TrialCurve, type TrialParams } from '../../sweeps/index.js';

type Json = Prisma.InputJsonValue;

export const SWEEP_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type SweepStatus = (typeof SWEEP_STATUSES)[number];

/** Sweep transactions wait for the sweep row's lock; a loaded machine needs more than Prisma's 5 s. */
const SWEEP_TRANSACTION = { maxWait: 10_000, timeout: 60_000 } as const;

export type TrialCounts = Record<JobStatus, number>;

export interface SweepBest {
  jobId: string;
  params: TrialParams;
  value: number;
  epoch: number;
}

export interface SweepSummary {
  row: Omit<SweepRow, 'spec' | 'trials'>;
  counts: TrialCounts;
  best: SweepBest | null;
}

/** A new sweep of `tenantId` (the creating key's tenant). */
export async function createSweep(prisma: PrismaClient, tenantId: string, sweep: NormalizedSweep): Promise<SweepRow> {
  return prisma.sweep.create({
    data: {
      id: randomUUID(),
      tenantId,
      name: sweep.name,
      status: 'running',
      spec: sweep.spec as Json,
      parameters: sweep.parameters as Json,
      method: sweep.method,
      maxTrials: sweep.maxTrials,
      parallelism: sweep.parallelism,
      seed: BigInt(sweep.seed),
      objective: sweep.objective as unknown as Json,
      pruner: sweep.pruner as unknown as Json,
      trials: sweep.trials as Json,
    },
  });
}

export interface Advance {
  /** trials this call created */
  created: string[];
  /** every trial of the sweep that is 'queued' in Postgres: hand them all to BullMQ (idempotent) */
  queued: string[];
  /** the sweep's status after this call */
  status: SweepStatus;
}

/**
 * Creates trials until `parallelism` are queued or running (or the plan is used up),
 * and ends the sweep when every trial has ended: succeeded when at least one trial
 * succeeded or was pruned, failed otherwise.
 */
export async function advanceSweep(prisma: PrismaClient, sweepId: string): Promise<Advance | null> {
  return prisma.$transaction(async (tx) => {
    const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT "id"::text FROM "sweeps" WHERE "id" = ${sweepId}::uuid FOR UPDATE`;
    if (!locked) return null;
    const sweep = await tx.sweep.findUniqueOrThrow({ where: { id: sweepId } });
    const groups = await tx.job.groupBy({ by: ['status'], where: { sweepId }, _count: { _all: true } });
    const count = (s: string) => groups.find((g) => g.status === s)?._count._all ?? 0;
    const active = count('queued') + count('running');
    // the next index follows the highest one created, not the number of trials: a
    // deleted trial (DELETE /v1/jobs/:id) is not trained again
    const highest = await tx.job.aggregate({ where: { sweepId }, _max: { trialIndex: true } });
    const made = (highest._max.trialIndex ?? -1) + 1;
    const created: string[] = [];
    let status = sweep.status as SweepStatus;
    if (status === 'running') {
      const plan = sweep.trials as TrialParams[];
      const slots = Math.max(0, Math.min(sweep.parallelism - active, plan.length - made));
      for (let index = made; index < made + slots; index++) {
        const { spec } = trialSpec(sweep.spec as NormalizedSweep['spec'], plan[index]!);
        const checked = validateJobSpec(spec);
        const id = randomUUID();
        // validateSweep refused any plan with an invalid trial; a validation rule added
        // since the sweep was created fails that trial (counted), not the sweep
        const data = checked.ok
          ? { status: 'queued', spec: checked.spec as unknown as Json, specHash: specHash(checked.spec), event: `queued as trial ${index} of sweep ${sweepId}` }
          : { status: 'failed', spec: spec as Json, specHash: '', event: `the trial's spec is invalid: ${formatProblems(checked.problems)}` };
        await tx.job.create({
          data: {
            id, tenantId: sweep.tenantId, name: `${sweep.name} #${index}`, status: data.status, spec: data.spec, specHash: data.specHash, sweepId, trialIndex: index,
            ...(!checked.ok && { finishedAt: new Date(), error: { code: 'INVALID_SPEC', message: data.event } }),
            events: { create: { type: data.status, attempt: 0, message: data.event } },
          },
        });
        created.push(id);
      }
      const ended = made + created.length === plan.length && active === 0 && created.length === 0;
      if (ended) {
        status = count('succeeded') + count('pruned') > 0 ? 'succeeded' : 'failed';
        await tx.sweep.update({ where: { id: sweepId }, data: { status, finishedAt: new Date() } });
      }
    }
    const queued = await tx.job.findMany({ where: { sweepId, status: 'queued' }, select: { id: true }, orderBy: { trialIndex: 'asc' } });
    return { created, queued: queued.map((j) => j.id), status };
  }, SWEEP_TRANSACTION);
}

/** Advances every running sweep; `enqueue` gets each queued trial (it must be idempotent). */
export async function reconcileSweeps(prisma: PrismaClient, enqueue: (jobId: string) => Promise<void>): Promise<number> {
  const running = await prisma.sweep.findMany({ where: { status: 'running' }, select: { id: true } });
  for (const { id } of running) {
    const advance = await advanceSweep(prisma, id);
    for (const jobId of advance?.queued ?? []) await enqueue(jobId);
  }
  return running.length;
}

/** The sweep a job is a trial of, when it is one (cheap: two columns). */
export async function trialSweepId(prisma: PrismaClient, jobId: string): Promise<string | null> {
  const row = await prisma.job.findUnique({ where: { id: jobId }, select: { sweepId: true } });
  return row?.sweepId ?? null;
}

// ------------------------------------------------------------------ pruning

export interface PruningContext {
  sweepId: string;
  objective: Objective;
  pruner: PrunerSettings;
  status: SweepStatus;
}

export async function pruningContext(prisma: PrismaClient, sweepId: string): Promise<PruningContext | null> {
  const row = await prisma.sweep.findUnique({ where: { id: sweepId }, select: { objective: true, pruner: true, status: true } });
  if (!row) return null;
  return { sweepId, objective: row.objective as unknown as Objective, pruner: row.pruner as unknown as PrunerSettings, status: row.status as SweepStatus };
}

/** Every trial's objective per epoch, from the stored metric points. */
export async function trialCurves(prisma: PrismaClient, sweepId: string, metric: string): Promise<TrialCurve[]> {
  const rows = await prisma.$queryRaw<{ job_id: string; epoch: number; value: number }[]>`
    SELECT mp."job_id"::text AS job_id, mp."epoch", mp."value"
      FROM "metric_points" mp JOIN "jobs" j ON j."id" = mp."job_id"
     WHERE j."sweep_id" = ${sweepId}::uuid AND mp."name" = ${metric}`;
  const byJob = new Map<string, Map<number, number>>();
  for (const r of rows) {
    let values = byJob.get(r.job_id);
    if (!values) byJob.set(r.job_id, (values = new Map()));
    values.set(r.epoch, Number(r.value));
  }
  return [...byJob].map(([jobId, values]) => ({ jobId, values }));
}

/** Upsert: a replayed epoch (a resumed trial) decides again and overwrites its decision. */
export async function recordDecision(prisma: PrismaClient, sweepId: string, jobId: string, d: PrunerDecision): Promise<void> {
  const fields = { rung: d.rung, value: d.value, threshold: d.threshold, decision: d.decision, reason: d.reason };
  await prisma.sweepDecision.upsert({
    where: { jobId_epoch: { jobId, epoch: d.epoch } },
    create: { sweepId, jobId, epoch: d.epoch, ...fields },
    update: fields,
  });
}

/**
 * Asks a trial to stop because the pruner said so: the cancel path (cancel_requested;
 * the caller publishes on the cancel channel) with cancel_reason 'pruned', so the
 * terminal write ends it 'pruned'. A person's earlier cancel stays a cancel.
 */
export async function requestPrune(prisma: PrismaClient, jobId: string): Promise<boolean> {
  const updated = await prisma.job.updateMany({
    where: { id: jobId, status: { in: ['queued', 'running'] }, cancelRequested: false },
    data: { cancelRequested: true, cancelReason: 'pruned' },
  });
  return updated.count > 0;
}

// ------------------------------------------------------------------ reads

export async function findSweep(prisma: PrismaClient, scope: Scope, id: string): Promise<SweepRow | null> {
  if (!isUuid(id)) return null;
  return prisma.sweep.findFirst({ where: { id, ...sweepScopeWhere(scope) } });
}

function emptyCounts(): TrialCounts {
  return Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as TrialCounts;
}

/** The best objective over every trial (pruned ones included), from the stored metric points. */
export function bestOf(curves: TrialCurve[], objective: Objective): { jobId: string; value: number; epoch: number } | null {
  let best: { jobId: string; value: number; epoch: number } | null = null;
  for (const c of curves) {
    const b = bestUpTo(c, Number.POSITIVE_INFINITY, objective.mode);
    if (b && (best === null || better(objective.mode, b.value, best.value))) best = { jobId: c.jobId, ...b };
  }
  return best;
}

export async function sweepSummary(prisma: PrismaClient, row: SweepRow): Promise<SweepSummary> {
  const groups = await prisma.job.groupBy({ by: ['status'], where: { sweepId: row.id }, _count: { _all: true } });
  const counts = emptyCounts();
  for (const g of groups) counts[g.status as JobStatus] = g._count._all;
  const objective = row.objective as unknown as Objective;
  const top = bestOf(await trialCurves(prisma, row.id, objective.metric), objective);
  let best: SweepBest | null = null;
  if (top) {
    const job = await prisma.job.findUniqueOrThrow({ where: { id: top.jobId }, select: { trialIndex: true } });
    best = { ...top, params: (row.trials as TrialParams[])[job.trialIndex!] ?? {} };
  }
  const { spec: _spec, trials: _trials, ...headline } = row;
  return { row: headline, counts, best };
}

export interface SweepPage {
  items: SweepSummary[];
  nextCursor: string | null;
}

/** Newest first by (createdAt, id), like GET /v1/jobs. Throws InvalidCursorError for a cursor of another list. */
export async function listSweeps(prisma: PrismaClient, scope: Scope, query: { limit: number; cursor?: string }): Promise<SweepPage> {
  const after = query.cursor === undefined ? undefined : decodeTimeIdCursor('sweeps', query.cursor);
  const rows = await prisma.sweep.findMany({
    where: {
      ...sweepScopeWhere(scope),
      ...(after && { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  const items: SweepSummary[] = [];
  for (const r of page) items.push(await sweepSummary(prisma, r));
  const last = page[page.length - 1];
  return { items, nextCursor: rows.length > query.limit && last ? encodeTimeIdCursor('sweeps', last) : null };
}

export interface TrialView {
  jobId: string;
  index: number;
  params: TrialParams;
  status: JobStatus;
  /** the trial's best objective so far, reached at `epoch` */
  value: number | null;
  epoch: number | null;
  /** epochs with a stored objective value */
  epochsTrained: number;
}

export type TrialSort = 'index' | 'objective';

/**
 * sort=index: by trial index; the cursor is the last index. sort=objective: best
 * first (trials without a value last, then by index); the cursor is an offset into
 * that order, which shifts while trials still report epochs.
 */
export async function listTrials(
  prisma: PrismaClient,
  sweep: Pick<SweepRow, 'id' | 'objective' | 'trials'>,
  query: { sort: TrialSort; limit: number; cursor?: string },
): Promise<{ items: TrialView[]; nextCursor: string | null }> {
  const after = query.cursor === undefined ? undefined : decodeNameStepCursor('trials', query.cursor);
  if (after && after.name !== query.sort) throw new InvalidCursorError('trials');
  const objective = sweep.objective as unknown as Objective;
  const plan = sweep.trials as TrialParams[];
  const jobs = await prisma.job.findMany({ where: { sweepId: sweep.id }, select: { id: true, trialIndex: true, status: true }, orderBy: { trialIndex: 'asc' } });
  const curves = new Map((await trialCurves(prisma, sweep.id, objective.metric)).map((c) => [c.jobId, c]));
  const all: TrialView[] = jobs.map((j) => {
    const curve = curves.get(j.id);
    const best = curve ? bestUpTo(curve, Number.POSITIVE_INFINITY, objective.mode) : null;
    return {
      jobId: j.id, index: j.trialIndex!, params: plan[j.trialIndex!] ?? {}, status: j.status as JobStatus,
      value: best?.value ?? null, epoch: best?.epoch ?? null,
      epochsTrained: curve ? Math.max(0, ...curve.values.keys()) : 0,
    };
  });
  if (query.sort === 'index') {
    const rest = after ? all.filter((t) => t.index > after.step) : all;
    const items = rest.slice(0, query.limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rest.length > query.limit && last ? encodeNameStepCursor('trials', { name: 'index', step: last.index }) : null };
  }
  const ranked = [...all].sort((a, b) => {
    if (a.value === null || b.value === null) return a.value === b.value ? a.index - b.index : a.value === null ? 1 : -1;
    if (better(objective.mode, a.value, b.value)) return -1;
    if (better(objective.mode, b.value, a.value)) return 1;
    return a.index - b.index;
  });
  const offset = after?.step ?? 0;
  const items = ranked.slice(offset, offset + query.limit);
  const next = offset + items.length;
  return { items, nextCursor: next < ranked.length ? encodeNameStepCursor('trials', { name: 'objective', step: next }) : null };
}

export async function listDecisions(prisma: PrismaClient, sweepId: string) {
  return prisma.sweepDecision.findMany({ where: { sweepId }, orderBy: [{ createdAt: 'asc' }, { jobId: 'asc' }, { epoch: 'asc' }] });
}

/** running → cancelled; null when the sweep had ended already. The caller then cancels its active trials. */
export async function markSweepCancelled(prisma: PrismaClient, id: string): Promise<boolean> {
  const updated = await prisma.sweep.updateMany({ where: { id, status: 'running' }, data: { status: 'cancelled', finishedAt: new Date() } });
  return updated.count > 0;
}

/** The trials still queued or running. */
export async function activeTrials(prisma: PrismaClient, sweepId: string): Promise<string[]> {
  const rows = await prisma.job.findMany({ where: { sweepId, status: { in: ['queued', 'running'] } }, select: { id: true }, orderBy: { trialIndex: 'asc' } });
  return rows.map((r) => r.id);
}
