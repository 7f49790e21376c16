// RATE_LIMIT_PER_MINUTE requests per API key and minute, counted in Redis so every
// API process shares one budget per key (@fastify/rate-limit's Redis store: INCR +
// PEXPIRE in one Lua script, a fixed window per key). Only authenticated /v1
// requests count; an exceeded budget answers 429 RATE_LIMITED with Retry-After.
import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import { ApiError } from '../errors.js';

export async function installRateLimit(app: FastifyInstance, config: Pick<Config, 'rateLimitPerMinute' | 'queuePrefix'>, redis: Redis): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    redis,
    nameSpace: `${config.queuePrefix}:rate-limit:`,
    // runs after the auth hook (app-level onRequest hooks come before route-level ones)
    allowList: (request) => request.auth === null,
    // by key id: a key's prefix is public, its id is what the budget belongs to
    keyGenerator: (request) => request.auth?.keyId ?? `ip:${request.ip}`,
    // Redis down: serve (the queue answers 503 for submits anyway) rather than refuse every read
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new ApiError(429, 'RATE_LIMITED', `this API key made more than ${context.max} requests in a minute (RATE_LIMIT_PER_MINUTE); retry in ${context.after}`),
  });
}
