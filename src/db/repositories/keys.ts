// API keys as rows: the SHA-256 of the key, never the key (src/api/auth/keys.ts says why).
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../client.js';
import { isUuid } from './prisma-errors.js';

export interface KeyRow {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  keyHash: string;
  /** space-separated scopes */
  scopes: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface NewKeyRow {
  tenantId: string;
  name: string;
  prefix: string;
  keyHash: string;
  scopes: string;
}

export function insertKey(prisma: Pick<PrismaClient, 'apiKey'>, input: NewKeyRow): Promise<KeyRow> {
  return prisma.apiKey.create({ data: { id: randomUUID(), ...input } });
}

/** The key with this hash, revoked or not (the caller refuses revoked ones). */
export function findKeyByHash(prisma: PrismaClient, keyHash: string): Promise<KeyRow | null> {
  return prisma.apiKey.findUnique({ where: { keyHash } });
}

/** Every key (of one tenant), oldest first; no secret is in a row. */
export function listKeys(prisma: PrismaClient, tenantId?: string): Promise<KeyRow[]> {
  return prisma.apiKey.findMany({
    where: tenantId === undefined ? {} : { tenantId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
}

/** Marks the key revoked (once; a second revoke keeps the first time). Null when there is no such key. */
export async function revokeKey(prisma: PrismaClient, id: string): Promise<KeyRow | null> {
  if (!isUuid(id)) return null;
  await prisma.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  return prisma.apiKey.findUnique({ where: { id } });
}

export function countKeys(prisma: Pick<PrismaClient, 'apiKey'>): Promise<number> {
  return prisma.apiKey.count();
}
