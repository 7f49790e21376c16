// The scope of a request: which tenants' rows it may read, derived from its API key
// here and nowhere else. Every route passes it to the repositories (src/db/scope.ts).
// A tenant's key sees its tenant; an admin key every tenant, or the one `?tenant=`
// names (DESIGN.md "Auth and tenants").
import type { FastifyRequest } from 'fastify';
import { EVERY_TENANT, tenantScope, type Scope } from '../db/scope.js';
import type { PrismaClient } from '../db/client.js';
import { findJobHeadline, type JobHeadline } from '../db/repositories/job-access.js';
import { isUuid } from '../db/repositories/prisma-errors.js';
import { DEFAULT_TENANT_ID } from '../db/repositories/tenants.js';
import { ApiError } from './errors.js';
import { hasScope } from './auth/keys.js';
import type { RequestAuth } from './auth/plugin.js';

/** What a route plugin registered without buildApp (tests of one route, no auth hook) acts as. */
const NO_AUTH_INSTALLED: RequestAuth = Object.freeze({ keyId: null, prefix: 'no-auth', tenantId: DEFAULT_TENANT_ID, scopes: ['admin'] as RequestAuth['scopes'] });

function authOf(request: FastifyRequest): RequestAuth {
  if (request.auth) return request.auth;
  // buildApp's auth hook sets it on every /v1 request: with the hook installed, a route
  // elsewhere must not read tenant rows. A bare Fastify with one route plugin has no hook.
  if (request.server.hasRequestDecorator('auth')) {
    throw new Error(`${request.method} ${request.url.split('?')[0]} reads tenant rows without authentication`);
  }
  return NO_AUTH_INSTALLED;
}

export function requestScope(request: FastifyRequest): Scope {
  const auth = authOf(request);
  if (!hasScope(auth.scopes, 'admin')) return tenantScope(auth.tenantId);
  const tenant = (request.query as Record<string, unknown> | undefined)?.tenant;
  if (tenant === undefined) return EVERY_TENANT;
  if (typeof tenant !== 'string' || !isUuid(tenant)) {
    throw new ApiError(400, 'VALIDATION_FAILED', 'the query string is invalid', [{ pointer: '/tenant', message: 'must be a tenant id (uuid) from GET /v1/tenants' }]);
  }
  return tenantScope(tenant);
}

/** The tenant that owns what the request creates (jobs, uploads): its key's tenant. */
export function requestTenant(request: FastifyRequest): string {
  return authOf(request).tenantId;
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
