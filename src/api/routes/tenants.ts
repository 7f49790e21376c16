// POST /v1/tenants, GET /v1/tenants (admin keys only).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { createTenant, listTenants, type TenantRow } from '../../db/repositories/tenants.js';
import { recordAudit } from '../../db/repositories/audit.js';
import { ApiError } from '../errors.js';
import { ErrorSchema } from '../schemas.js';
import { auditActor } from '../auth/audit-actor.js';
import type { AppOptions } from '../app-context.js';

export const TenantSchema = Type.Object({
  id: Type.String({ description: 'tenant id (uuid)' }),
  name: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
}, { $id: 'Tenant' });

function tenantView(t: TenantRow) {
  return { id: t.id, name: t.name, createdAt: t.createdAt.toISOString() };
}

export const tenantsRoutes: FastifyPluginAsyncTypebox<Pick<AppOptions, 'prisma'>> = async (app, { prisma }) => {
  app.post(
    '/tenants',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Create a tenant (admin)',
        tags: ['auth'],
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', description: 'letters, digits, "_", "." and "-"' }),
        }, { additionalProperties: false }),
        response: { 201: TenantSchema, 400: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      const tenant = await createTenant(prisma, request.body.name);
      if (!tenant) throw new ApiError(409, 'TENANT_EXISTS', `there is already a tenant named ${request.body.name}`, [{ pointer: '/name', message: 'is taken' }]);
      await recordAudit(prisma, auditActor(request), 'tenant.created', tenant.id, { name: tenant.name });
      reply.header('location', `/v1/tenants/${tenant.id}`);
      return reply.status(201).send(tenantView(tenant));
    },
  );

  app.get(
    '/tenants',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'List tenants (admin)',
        tags: ['auth'],
        response: { 200: Type.Object({ items: Type.Array(TenantSchema), nextCursor: Type.Null() }) },
      },
    },
    async () => ({ items: (await listTenants(prisma)).map(tenantView), nextCursor: null }),
  );
};
