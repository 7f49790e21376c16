// POST /v1/keys, GET /v1/keys, DELETE /v1/keys/:id (admin keys only), and
// GET /v1/audit. A key is shown once, in the 201 of its creation; rows hold its
// SHA-256 (src/api/auth/keys.ts). Revoking publishes the key's hash so every API
// process drops it from its cache at once (src/api/auth/key-cache.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { insertKey, listKeys, revokeKey, type KeyRow } from '../../db/repositories/keys.js';
import { tenantExists } from '../../db/repositories/tenants.js';
import { listAudit, recordAudit } from '../../db/repositories/audit.js';
import { isUuid } from '../../db/repositories/prisma-errors.js';
import { ApiError } from '../errors.js';
import { ErrorSchema } from '../schemas.js';
import { auditActor } from '../auth/audit-actor.js';
import { formatScopes, generateKey, parseScopes, SCOPES, type KeyScope } from '../auth/keys.js';
import { publishKeyChange } from '../auth/key-cache.js';
import type { AppOptions } from '../app-context.js';

const ScopeSchema = Type.Union([Type.Literal('read'), Type.Literal('submit'), Type.Literal('admin')], { description: `one of ${SCOPES.join(', ')}` });

const KeySchema = Type.Object({
  id: Type.String({ description: 'key id (uuid): DELETE /v1/keys/{id} revokes it' }),
  prefix: Type.String({ description: 'the first characters of the key, to tell keys apart' }),
  tenant: Type.String({ description: 'tenant id' }),
  name: Type.String(),
  scopes: Type.Array(ScopeSchema),
  createdAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const CreatedKeySchema = Type.Object({
  id: Type.String(),
  key: Type.String({ description: 'the key itself: shown only in this answer, send it as Authorization: Bearer <key>' }),
  prefix: Type.String(),
  tenant: Type.String(),
  name: Type.String(),
  scopes: Type.Array(ScopeSchema),
  createdAt: Type.String({ format: 'date-time' }),
});

const AuditSchema = Type.Object({
  id: Type.String(),
  action: Type.String({ description: 'key.created | key.revoked | tenant.created | job.cancelled | job.deleted' }),
  target: Type.String({ description: 'the id the action was about' }),
  keyPrefix: Type.String({ description: 'who: the acting key\'s prefix' }),
  tenant: Type.Union([Type.String(), Type.Null()]),
  data: Type.Unknown(),
  createdAt: Type.String({ format: 'date-time' }),
});

function keyView(k: KeyRow) {
  return {
    id: k.id, prefix: k.prefix, tenant: k.tenantId, name: k.name, scopes: parseScopes(k.scopes),
    createdAt: k.createdAt.toISOString(), revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

export const keysRoutes: FastifyPluginAsyncTypebox<Pick<AppOptions, 'prisma' | 'redis' | 'config'>> = async (app, { prisma, redis, config }) => {
  app.post(
    '/keys',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Create an API key (admin); the key is in this answer only',
        tags: ['auth'],
        body: Type.Object({
          tenant: Type.String({ description: 'tenant id from GET /v1/tenants' }),
          name: Type.String({ minLength: 1, maxLength: 200 }),
          scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: 3, uniqueItems: true }),
        }, { additionalProperties: false }),
        response: { 201: CreatedKeySchema, 400: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { tenant, name, scopes } = request.body;
      if (!(await tenantExists(prisma, tenant))) {
        throw new ApiError(400, 'VALIDATION_FAILED', 'the body is invalid', [{ pointer: '/tenant', message: `there is no tenant with id ${tenant}; see GET /v1/tenants` }]);
      }
      const made = generateKey();
      const row = await insertKey(prisma, { tenantId: tenant, name, prefix: made.prefix, keyHash: made.hash, scopes: formatScopes(scopes as KeyScope[]) });
      await recordAudit(prisma, auditActor(request), 'key.created', row.id, { prefix: row.prefix, tenant, scopes: row.scopes });
      reply.header('cache-control', 'no-store').header('location', `/v1/keys/${row.id}`);
      const view = keyView(row);
      return reply.status(201).send({
        id: view.id, key: made.key, prefix: view.prefix, tenant: view.tenant, name: view.name, scopes: view.scopes, createdAt: view.createdAt,
      });
    },
  );

  app.get(
    '/keys',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'List API keys (admin; no secrets)',
        tags: ['auth'],
        querystring: Type.Object({ tenant: Type.Optional(Type.String({ description: 'only this tenant\'s keys' })) }),
        response: { 200: Type.Object({ items: Type.Array(KeySchema), nextCursor: Type.Null() }), 400: ErrorSchema },
      },
    },
    async (request) => {
      const { tenant } = request.query;
      if (tenant !== undefined && !isUuid(tenant)) {
        throw new ApiError(400, 'VALIDATION_FAILED', 'the query string is invalid', [{ pointer: '/tenant', message: 'must be a tenant id (uuid)' }]);
      }
      return { items: (await listKeys(prisma, tenant)).map(keyView), nextCursor: null };
    },
  );

  app.delete(
    '/keys/:id',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Revoke an API key (admin): refused from then on by every API process',
        tags: ['auth'],
        params: Type.Object({ id: Type.String() }),
        response: { 204: Type.Null(), 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const row = await revokeKey(prisma, id);
      if (!row) throw new ApiError(404, 'NOT_FOUND', `no API key with id ${id}`);
      // before answering: once the client hears 204, no process may accept the key
      await publishKeyChange(redis, config.queuePrefix, row.keyHash).catch((err: Error) =>
        request.log.warn({ err: err.message }, 'could not publish the revocation; other API processes refuse the key once their subscription reconnects'));
      await recordAudit(prisma, auditActor(request), 'key.revoked', row.id, { prefix: row.prefix });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/audit',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'The audit log, newest first (admin)',
        tags: ['auth'],
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'page size, default 100' })),
          cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'nextCursor of the previous page' })),
          tenant: Type.Optional(Type.String({ description: 'only actions of this tenant\'s keys' })),
        }),
        response: { 200: Type.Object({ items: Type.Array(AuditSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), 400: ErrorSchema },
      },
    },
    async (request) => {
      const { limit = 100, cursor, tenant } = request.query;
      if (tenant !== undefined && !isUuid(tenant)) {
        throw new ApiError(400, 'VALIDATION_FAILED', 'the query string is invalid', [{ pointer: '/tenant', message: 'must be a tenant id (uuid)' }]);
      }
      const rows = await listAudit(prisma, { limit: limit + 1, before: cursor === undefined ? undefined : BigInt(cursor), tenantId: tenant });
      const page = rows.slice(0, limit);
      return {
        items: page.map((r) => ({
          id: String(r.id), action: r.action, target: r.target, keyPrefix: r.keyPrefix, tenant: r.tenantId, data: r.data ?? null, createdAt: r.createdAt.toISOString(),
        })),
        nextCursor: rows.length > limit ? String(page[page.length - 1]!.id) : null,
      };
    },
  );
};
