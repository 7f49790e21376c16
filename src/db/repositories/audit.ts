// The audit log: who (the acting key's prefix) did what to which id, when.
import type { PrismaClient } from '../client.js';
import type { Prisma } from '../../generated/prisma/client.js';

export type AuditAction = 'key.created' | 'key.revoked' | 'tenant.created' | 'job.cancelled' | 'job.deleted';

export interface AuditActor {
  tenantId: string | null;
  keyId: string | null;
  /** the key's visible prefix; 'auth-off' or 'bootstrap' when no key acted */
  keyPrefix: string;
}

export interface AuditRow {
  id: bigint;
  tenantId: string | null;
  keyId: string | null;
  keyPrefix: string;
  action: string;
  target: string;
  data: unknown;
  createdAt: Date;
}

export async function recordAudit(
  prisma: Pick<PrismaClient, 'auditEntry'>,
  actor: AuditActor,
  action: AuditAction,
  target: string,
  data?: Prisma.InputJsonValue,
): Promise<void> {
  await prisma.auditEntry.create({ data: { ...actor, action, target, ...(data !== undefined && { data }) } });
}

/** Newest first; `before`: an id from the previous page. */
export function listAudit(prisma: PrismaClient, query: { limit: number; before?: bigint; tenantId?: string }): Promise<AuditRow[]> {
  return prisma.auditEntry.findMany({
    where: {
      ...(query.tenantId !== undefined && { tenantId: query.tenantId }),
      ...(query.before !== undefined && { id: { lt: query.before } }),
    },
    orderBy: { id: 'desc' },
    take: query.limit,
  });
}
