// The scope of a request: which tenants' rows it may read. Every route passes it to
// the repositories (src/db/scope.ts). Before auth exists every request sees every
// tenant; the auth issue derives it from the API key here and nowhere else.
import type { FastifyRequest } from 'fastify';
import { EVERY_TENANT, type Scope } from '../db/scope.js';
import type { PrismaClient } from '../db/client.js';
import { findJobHeadline, type JobHeadline } from '../db/repositories/job-access.js';
import { ApiError } from './errors.js';

export function requestScope(request: FastifyRequest): Scope {
  void request;
  return EVERY_TENANT;
}

export function jobNotFound(id: string): ApiError {
  return new ApiError(404, 'NOT_FOUND', id === '' ? 'no job id in the path' : `no job with id ${id}`);
}

/** The job named in the path, visible to the request, or a 404 NOT_FOUND. */
export async function requireJob(prisma: PrismaClient, request: FastifyRequest, id: string): Promise<JobHeadline> {
  const job = await findJobHeadline(prisma, requestScope(request), id);
  if (job === null) throw jobNotFound(id);
  return job;
}
