// Which rows a read may see. Every repository read that the API makes takes a
// Scope as a required argument, so the tenant filter (DESIGN.md, "Auth and
// tenants") lives in exactly one place and no read can forget it: a row of another
// tenant is then "not found", exactly like a missing one.
//
// The API derives the scope from the request's key (src/api/scope.ts requestScope):
// a tenant's key sees its tenant, an admin key every tenant (or the one its
// ?tenant= names). The worker reads unscoped: it trains whatever the queue hands it.

export interface Scope {
  /** null: every tenant (admin keys, AUTH=off, the worker and tests) */
  readonly tenantId: string | null;
}

export const EVERY_TENANT: Scope = Object.freeze({ tenantId: null });

/** The scope of one tenant. */
export function tenantScope(tenantId: string): Scope {
  return Object.freeze({ tenantId });
}

/** The Prisma `where` fragment that restricts jobs to the scope. */
export function jobScopeWhere(scope: Scope): { tenantId?: string } {
  return scope.tenantId === null ? {} : { tenantId: scope.tenantId };
}

/** The Prisma `where` fragment that restricts checkpoints (uploads included) to the scope. */
export function checkpointScopeWhere(scope: Scope): { tenantId?: string } {
  // a job's checkpoint carries its job's tenant (a trigger sets it), so one column decides
  return scope.tenantId === null ? {} : { tenantId: scope.tenantId };
}

/**
 * The Prisma `where` fragment that restricts sweeps to the scope (sweeps have a
 * tenant_id like jobs; their trials carry the sweep's tenant).
 */
export function sweepScopeWhere(scope: Scope): { tenantId?: string } {
  return scope.tenantId === null ? {} : { tenantId: scope.tenantId };
}
