// DELETE /v1/jobs/:id: a finished job goes with everything it owns (events, metric
// points and rollups, early-stopping decisions, checkpoints: ON DELETE CASCADE) in
// one transaction. Uploaded checkpoints belong to no job and are never touched.
import type { PrismaClient } from '../client.js';
import { jobScopeWhere, type Scope } from '../scope.js';
import { isFinished, type JobStatus } from './job-status.js';
import { isUuid } from './prisma-errors.js';

export type DeleteJobOutcome =
  | { kind: 'deleted' }
  | { kind: 'not-found' }
  /** queued or running: cancel it first */
  | { kind: 'active'; status: JobStatus }
  /** one of its checkpoints is the initialWeights of a job that has not finished */
  | { kind: 'in-use'; checkpointId: string; jobIds: string[] };

export async function deleteFinishedJob(prisma: PrismaClient, scope: Scope, id: string): Promise<DeleteJobOutcome> {
  if (!isUuid(id)) return { kind: 'not-found' };
  return prisma.$transaction(async (tx) => {
    const visible = await tx.job.findFirst({ where: { id, ...jobScopeWhere(scope) }, select: { id: true } });
    if (!visible) return { kind: 'not-found' } as const;
    // the row lock orders this against a worker's terminal write and a cancel
    const [row] = await tx.$queryRaw<{ status: string }[]>`SELECT "status" FROM "jobs" WHERE "id" = ${id}::uuid FOR UPDATE`;
    if (!row) return { kind: 'not-found' } as const;
    if (!isFinished(row.status)) return { kind: 'active', status: row.status as JobStatus } as const;
    // A job waiting to start from one of this job's checkpoints would fail with
    // CHECKPOINT_NOT_FOUND if we took it away now.
    const users = await tx.$queryRaw<{ job_id: string; checkpoint_id: string }[]>`
      SELECT j."id"::text AS job_id, j."spec"->'initialWeights'->>'checkpointId' AS checkpoint_id
        FROM "jobs" j
       WHERE j."status" IN ('queued', 'running')
         AND j."spec"->'initialWeights'->>'checkpointId' IN (SELECT c."id"::text FROM "checkpoints" c WHERE c."job_id" = ${id}::uuid)
       ORDER BY j."created_at", j."id"`;
    if (users.length > 0) {
      return { kind: 'in-use', checkpointId: users[0]!.checkpoint_id, jobIds: users.map((u) => u.job_id) } as const;
    }
    await tx.job.delete({ where: { id } });
    return { kind: 'deleted' } as const;
  });
}
