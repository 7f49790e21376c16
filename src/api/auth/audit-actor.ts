// The audit log's "who" for a request: its key (id and visible prefix) and tenant.
import type { FastifyRequest } from 'fastify';
import type { AuditActor } from '../../db/repositories/audit.js';

export function auditActor(request: FastifyRequest): AuditActor {
  const auth = request.auth;
  if (!auth) return { tenantId: null, keyId: null, keyPrefix: 'anonymous' };
  return { tenantId: auth.tenantId, keyId: auth.keyId, keyPrefix: auth.prefix };
}
