// Tenants: who owns jobs, checkpoints and keys. `default` exists from the migration on.
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../client.js';
import { isUniqueViolation, isUuid } from './prisma-errors.js';

/** The tenant `default` (created by migration 20261201190000_auth, with this id). */
export const DEFAULT_TENANT_ID = '00000000-0000-4000-8000-000000000000';

export interface TenantRow {
  id: string;
  name: string;
  createdAt: Date;
}

/** The new tenant, or null when the name is taken. */
export async function createTenant(prisma: PrismaClient, name: string): Promise<TenantRow | null> {
  try {
    return await prisma.tenant.create({ data: { id: randomUUID(), name }, select: { id: true, name: true, createdAt: true } });
  } catch (err) {
    if (isUniqueViolation(err)) return null;
    throw err;
  }
}

export function listTenants(prisma: PrismaClient): Promise<TenantRow[]> {
  return prisma.tenant.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], select: { id: true, name: true, createdAt: true } });
}

export async function tenantExists(prisma: PrismaClient, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  return (await prisma.tenant.count({ where: { id } })) > 0;
}
