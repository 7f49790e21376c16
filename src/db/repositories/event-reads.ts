// What the API reads of a job's history: its events (for the SSE stream) and its
// early-stopping decisions. The worker writes both (training-records.ts).
import type { PrismaClient } from '../client.js';
import { jobScopeWhere, type Scope } from '../scope.js';

/** Event types after which nothing more happens to a job. */
export const TERMINAL_EVENT_TYPES = ['succeeded', 'failed', 'cancelled', 'pruned'] as const;

export function isTerminalEvent(type: string): boolean {
  return (TERMINAL_EVENT_TYPES as readonly string[]).includes(type);
}

export interface JobEventRow {
  id: bigint;
  type: string;
  attempt: number;
  message: string;
  data: unknown;
  createdAt: Date;
}

/** Events of a job with id > after, oldest first, at most `limit`. */
export async function eventsAfter(prisma: PrismaClient, scope: Scope, jobId: string, after: bigint, limit = 500): Promise<JobEventRow[]> {
  return prisma.jobEvent.findMany({
    where: { jobId, id: { gt: after }, job: jobScopeWhere(scope) },
    orderBy: { id: 'asc' },
    take: limit,
    select: { id: true, type: true, attempt: true, message: true, data: true, createdAt: true },
  });
}

/** Id of the job's terminal event, or null while it has none. */
export async function terminalEventId(prisma: PrismaClient, scope: Scope, jobId: string): Promise<bigint | null> {
  const row = await prisma.jobEvent.findFirst({
    where: { jobId, type: { in: [...TERMINAL_EVENT_TYPES] }, job: jobScopeWhere(scope) },
    orderBy: { id: 'desc' },
    select: { id: true },
  });
  return row?.id ?? null;
}

export interface DecisionRow {
  epoch: number;
  monitor: string;
  value: number;
  best: number;
  bestEpoch: number;
  wait: number;
  decision: string;
  reason: string;
  createdAt: Date;
}

/** A job's decisions by epoch; a job outside the scope has none. */
export async function earlyStoppingDecisions(prisma: PrismaClient, scope: Scope, jobId: string): Promise<DecisionRow[]> {
  return prisma.earlyStoppingDecision.findMany({
    where: { jobId, job: jobScopeWhere(scope) },
    orderBy: { epoch: 'asc' },
    select: {
      epoch: true, monitor: true, value: true, best: true, bestEpoch: true, wait: true, decision: true, reason: true, createdAt: true,
    },
  });
}
