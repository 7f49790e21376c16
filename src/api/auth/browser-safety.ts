// What a browser needs to use the API safely: security headers with a strict
// Content Security Policy (@fastify/helmet) and, only when CORS_ORIGINS lists
// origins, CORS for them (@fastify/cors). The dashboard is static files with
// external scripts and styles and reads SSE with fetch() + Authorization, so
// `default-src 'self'` holds for it and no key ever travels in a URL.
import type { FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import type { Config } from '../../config.js';

export async function installBrowserSafety(app: FastifyInstance, config: Pick<Config, 'corsOrigins'>): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        // swagger-ui (/docs) draws its icons as data: URLs
        imgSrc: ["'self'", 'data:'],
      },
    },
    // the API is called cross-origin only where CORS_ORIGINS allows it
    crossOriginResourcePolicy: { policy: config.corsOrigins.length > 0 ? 'cross-origin' : 'same-origin' },
  });
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'accept', 'last-event-id'],
      exposedHeaders: ['location', 'retry-after', 'etag', 'content-disposition', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
      maxAge: 600,
    });
  }
}
