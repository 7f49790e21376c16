// One error shape for every answer that is not a success:
//   { "error": { "code", "message", "details": [{ "pointer", "message" }] } }
// Routes throw ApiError; Fastify's own errors (validation, malformed JSON, body too
// large, bad URLs, wrong methods) and the HTTP parser's (431 header too large) are
// translated here, so no route formats an error itself.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/errors.js';

export interface ErrorDetail {
  /** JSON pointer to the offending field ('' for the whole body) */
  pointer: string;
  message: string;
}

export interface ErrorBody {
  error: { code: string; message: string; details: ErrorDetail[] };
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function errorBody(code: string, message: string, details: ErrorDetail[] = []): ErrorBody {
  return { error: { code, message, details } };
}

/**
 * Route option `config.bodyContentType`: the media type a route's body must have,
 * named in the 415 hint. Routes that take JSON (the default) need not set it.
 */
export interface BodyContentTypeConfig {
  bodyContentType?: string;
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Fastify's validation contexts, as a sentence's subject. */
const VALIDATION_SUBJECT: Record<string, string> = {
  body: 'the body is invalid',
  querystring: 'the query string is invalid',
  params: 'the path parameters are invalid',
  headers: 'the headers are invalid',
};

function validationDetails(issues: ValidationIssue[]): ErrorDetail[] {
  return issues.map((issue) => {
    const missing = issue.params?.missingProperty ?? (issue.params?.requiredProperties as string[] | undefined)?.[0];
    const pointer = (issue.instancePath ?? '') + (typeof missing === 'string' ? `/${missing}` : '');
    return { pointer, message: issue.message ?? 'is invalid' };
  });
}

/** Fastify's error codes that are the client's fault, with our code for each. */
const CLIENT_ERRORS: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_BAD_URL: 'BAD_URL',
  FST_ERR_MAX_PARAM_LENGTH: 'BAD_URL',
};

/** 32 MiB, 256 KiB, 900 bytes */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function clientErrorMessage(err: FastifyError, request: FastifyRequest): string {
  const route = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return `the body is not valid JSON: ${err.message}`;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'the body is empty, but Content-Type says it is JSON';
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = request.routeOptions.bodyLimit;
      return `the body is larger than the limit of ${formatBytes(limit)} (${limit} bytes) for ${route}`;
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const expected = (request.routeOptions.config as BodyContentTypeConfig | undefined)?.bodyContentType ?? 'application/json';
      const sent = request.headers['content-type'];
      return `${route} does not accept ${sent ? `Content-Type: ${sent}` : 'a body without Content-Type'}; ` +
        `send the body with Content-Type: ${expected}`;
    }
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return `the URL path ${JSON.stringify(request.url.split('?')[0])} is not valid: check its percent-encoding (%XX) and length`;
    default:
      return err.message;
  }
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) {
      return reply.status(err.statusCode).send(errorBody(err.code, err.message, err.details));
    }
    if (err.validation) {
      const subject = VALIDATION_SUBJECT[err.validationContext ?? ''] ?? 'the request is invalid';
      return reply.status(400).send(errorBody('VALIDATION_FAILED', subject, validationDetails(err.validation)));
    }
    if (err.code !== undefined && err.code in CLIENT_ERRORS) {
      return reply.status(err.statusCode ?? 400).send(errorBody(CLIENT_ERRORS[err.code]!, clientErrorMessage(err, request)));
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.status(err.statusCode).send(errorBody('BAD_REQUEST', err.message));
    }
    if (isDatabaseUnavailable(err)) {
      request.log.warn({ err: err.message }, 'Postgres is unreachable');
      return reply.status(503).header('retry-after', '5')
        .send(errorBody('DATABASE_UNAVAILABLE', 'the database (Postgres) is not reachable right now; try again shortly'));
    }
    request.log.error({ err }, 'request failed');
    return reply.status(500).send(errorBody('INTERNAL', 'something went wrong on our side; the error is in the server log'));
  });

  // Paths and their methods, to tell "wrong method" (405 with Allow) from "no such path" (404).
  const routes: { pattern: RegExp; method: string }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = routePattern(route.url);
    for (const method of methods) routes.push({ pattern, method: method.toUpperCase() });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return reply
        .status(405)
        .header('allow', allowed.join(', '))
        .send(errorBody('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; use ${allowed.join(' or ')}`));
    }
    return reply.status(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${path}`));
  });
}

/** `/v1/jobs/:id` → ^/v1/jobs/[^/]+$ ; `/docs/static/*` → ^/docs/static/.*$ */
function routePattern(url: string): RegExp {
  const escaped = url.split('/').map((part) => {
    if (part === '*') return '.*';
    if (part.startsWith(':')) return '[^/]+';
    return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${escaped.join('/')}$`);
}

/**
 * Fastify's `frameworkErrors`: errors raised before routing (a malformed URL), sent
 * through the one error handler instead of Fastify's own JSON.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const code = CLIENT_ERRORS[err.code] ?? 'BAD_REQUEST';
  void reply.status(err.statusCode ?? 400).send(errorBody(code, clientErrorMessage(err, request)));
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before there is a
 * request (headers too large, a garbled request line, a timeout), written on the
 * socket in the one error shape.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let body = errorBody('BAD_REQUEST', 'the request is not valid HTTP/1.1');
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    body = errorBody('HEADERS_TOO_LARGE', `the request headers are larger than the limit of ${formatBytes(http.maxHeaderSize)} in total`);
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    body = errorBody('REQUEST_TIMEOUT', 'the request did not arrive in time');
  }
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(err);
}
