// Closed by default (DESIGN.md "Auth and tenants"): every /v1 request carries
// `Authorization: Bearer <key>`; the key's scope must cover the route; the request
// then knows its key and tenant (request.auth), from which src/api/scope.ts derives
// what it may read. Public: /health, /ready, /docs, the dashboard's files; /metrics
// unless METRICS_TOKEN is set.
//
// A route's needed scope: its `config.scope`, else `read` for GET/HEAD and `submit`
// for everything else — so a new route is closed to read-only keys by default.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import type { PrismaClient } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import { DEFAULT_TENANT_ID } from '../../db/repositories/tenants.js';
import { createRedis } from '../../queue/connection.js';
import { ApiError } from '../errors.js';
import { recordAudit, type AuditAction } from '../../db/repositories/audit.js';
import { auditActor } from './audit-actor.js';
import { bootstrapAdminKey } from './bootstrap.js';
import { KeyCache } from './key-cache.js';
import { bearerToken, digestsEqual, hasScope, hashKey, type KeyScope } from './keys.js';

/** Who is asking: the key (null with AUTH=off) and the tenant that owns what it creates. */
export interface RequestAuth {
  keyId: string | null;
  /** the key's visible prefix ('auth-off' with AUTH=off), for logs and the audit log */
  prefix: string;
  tenantId: string;
  scopes: KeyScope[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** set for every /v1 request that passed authentication; null elsewhere */
    auth: RequestAuth | null;
  }
  interface FastifyContextConfig {
    /** the scope a route needs (default: read for GET/HEAD, submit otherwise) */
    scope?: KeyScope;
  }
}

const AUTH_OFF: RequestAuth = Object.freeze({ keyId: null, prefix: 'auth-off', tenantId: DEFAULT_TENANT_ID, scopes: ['admin'] as KeyScope[] });

export interface AuthOptions {
  config: Config;
  prisma: PrismaClient;
  logger: Logger;
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0]!;
}

/** /v1 and below, by the matched route or, for paths no route matches, by the path itself. */
export function isApiRequest(request: FastifyRequest): boolean {
  const url = request.routeOptions.url ?? pathOf(request);
  return url === '/v1' || url.startsWith('/v1/');
}

export function neededScope(request: FastifyRequest): KeyScope {
  const declared = (request.routeOptions.config as { scope?: KeyScope } | undefined)?.scope;
  if (declared) return declared;
  return request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'submit';
}

/**
 * Job actions the audit log records, by route and success status. Recorded in
 * onSend, before the answer leaves: a client that saw the 2xx finds the entry.
 */
const AUDITED: Record<string, { action: AuditAction; statuses: number[] }> = {
  'POST /v1/jobs/:id/cancel': { action: 'job.cancelled', statuses: [200, 202] },
  'DELETE /v1/jobs/:id': { action: 'job.deleted', statuses: [204] },
};

function unauthenticated(message: string): ApiError {
  return new ApiError(401, 'UNAUTHENTICATED', message);
}

/** Hooks authentication onto every route registered after it; creates the first admin key. */
export async function installAuth(app: FastifyInstance, { config, prisma, logger }: AuthOptions): Promise<void> {
  app.decorateRequest('auth', null);
  await bootstrapAdminKey(prisma, config, logger);

  let cache: KeyCache | null = null;
  if (config.auth === 'on') {
    const subscriber = createRedis(config.redisUrl, { connectionName: 'trainyard-api-keys' });
    subscriber.on('error', (err) => logger.warn({ err: err.message }, 'Redis connection error (API key changes subscriber)'));
    cache = new KeyCache(prisma, subscriber, config.queuePrefix);
    // without the subscription the cache reads Postgres every time: slower, never stale
    await cache.start().catch((err: Error) => logger.warn({ err: err.message }, 'could not subscribe to API key changes; reading keys from Postgres on every request'));
    app.addHook('onClose', async () => cache!.close());
  }
  const metricsTokenHash = config.metricsToken === null ? null : hashKey(config.metricsToken);

  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS') return; // CORS preflight: browsers send no credentials
    if (metricsTokenHash !== null && pathOf(request) === '/metrics') {
      const token = bearerToken(request.headers.authorization);
      if (token === null || !digestsEqual(hashKey(token), metricsTokenHash)) {
        reply.header('www-authenticate', 'Bearer realm="trainyard-metrics"');
        throw unauthenticated('GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
      }
      return;
    }
    if (!isApiRequest(request)) return;
    if (cache === null) {
      request.auth = AUTH_OFF;
      return;
    }
    const token = bearerToken(request.headers.authorization);
    if (token === null) {
      reply.header('www-authenticate', 'Bearer realm="trainyard"');
      throw unauthenticated(
        request.headers.authorization === undefined
          ? 'this API needs an API key: send Authorization: Bearer <key>'
          : 'the Authorization header must be Bearer <key>',
      );
    }
    const key = await cache.lookup(hashKey(token));
    if (key === null) {
      reply.header('www-authenticate', 'Bearer realm="trainyard", error="invalid_token"');
      // never echo the key: the message is the same for unknown, malformed and revoked keys
      throw unauthenticated('the API key is not valid (unknown or revoked)');
    }
    request.auth = { keyId: key.id, prefix: key.prefix, tenantId: key.tenantId, scopes: key.scopes };
    request.log = request.log.child({ keyPrefix: key.prefix });
    const needed = neededScope(request);
    if (!hasScope(key.scopes, needed)) {
      throw new ApiError(
        403,
        'FORBIDDEN',
        `the API key ${key.prefix} has the scope ${key.scopes.join(', ') || '(none)'}; ${request.method} ${request.routeOptions.url ?? pathOf(request)} needs ${needed}`,
      );
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const audited = AUDITED[`${request.method} ${request.routeOptions.url}`];
    if (audited && audited.statuses.includes(reply.statusCode)) {
      const id = (request.params as { id?: string }).id ?? '';
      await recordAudit(prisma, auditActor(request), audited.action, id);
    }
    return payload;
  });
}
