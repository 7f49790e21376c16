// Which rows a read may see. Every repository read that the API makes takes a
// Scope as a required argument, so the tenant filter of the auth issue (DESIGN.md,
// "Auth and tenants") has exactly one place to go and no read can forget it.
//
// Today there are no tenants: every caller reads with EVERY_TENANT. When jobs get a
// tenant, `jobScopeWhere` returns `{ tenantId }` for a tenant scope, and a job of
// another tenant is then "not found", exactly like a missing one.

export interface Scope {
  /** null: every tenant (admin keys, and the service before auth exists) */
  readonly tenantId: string | null;
}

export const EVERY_TENANT: Scope = Object.freeze({ tenantId: null });

/** The Prisma `where` fragment that restricts jobs to the scope. */
export function jobScopeWhere(scope: Scope): Record<string, never> {
  // No tenant column yet: every scope sees every job. The auth issue replaces this
  // body (and the checkpoint twin below) with `{ tenantId: scope.tenantId }`.
  void scope;
  return {};
}

/** The Prisma `where` fragment that restricts checkpoints (uploads included) to the scope. */
export function checkpointScopeWhere(scope: Scope): Record<string, never> {
  void scope;
  return {};
}

/** The Prisma `where` fragment that restricts sweeps to the scope (the auth issue: `{ tenantId }`). */
export function sweepScopeWhere(scope: Scope): Record<string, never> {
  void scope;
  return {};
}
