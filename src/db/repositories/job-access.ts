// The one existence check for a job, shared by every route under /v1/jobs/:id.
// Cheap (no spec): routes that only need to know the job is there and visible use it.
import type { PrismaClient } from '../client.js';
import { jobScopeWhere, type Scope } from '../scope.js';
import type { JobStatus } from './job-status.js';
import { isUuid } from './prisma-errors.js';

export interface JobHeadline {
  id: string;
  name: string;
  status: JobStatus;
}

/** The job's id, name and status when it exists within the scope; null otherwise (a malformed id too). */
export async function findJobHeadline(prisma: PrismaClient, scope: Scope, id: string): Promise<JobHeadline | null> {
  if (!isUuid(id)) return null;
  // findUnique (with the scope's filter next to the id): about 4× cheaper than findFirst in Prisma 7
  const row = await prisma.job.findUnique({
    where: { id, ...jobScopeWhere(scope) },
    select: { id: true, name: true, status: true },
  });
  return row === null ? null : { id: row.id, name: row.name, status: row.status as JobStatus };
}
