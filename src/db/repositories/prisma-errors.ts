// Prisma error codes we branch on. Duck-typed: the error class differs between the
// generated client and the runtime, but `code` is stable.

/** P2002: unique constraint violated (e.g. two requests with one Idempotency-Key). */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Postgres rejects a malformed uuid literal with an error; callers treat it as "not found". */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
