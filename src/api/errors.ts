// One error shape for every answer that is not a success:
//   { "error": { "code", "message", "details": [{ "pointer", "message" }] } }
// Routes throw ApiError; Fastify's own errors (validation, malformed JSON, body too
// large…) are translated here, so no route formats an error itself.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

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

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

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
};

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) {
      return reply.status(err.statusCode).send(errorBody(err.code, err.message, err.details));
    }
    if (err.validation) {
      const where = err.validationContext ?? 'request';
      return reply
        .status(400)
        .send(errorBody('VALIDATION_FAILED', `the ${where} is invalid`, validationDetails(err.validation)));
    }
    if (err.code !== undefined && err.code in CLIENT_ERRORS) {
      const message = err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? `the body is not valid JSON: ${err.message}` : err.message;
      return reply.status(err.statusCode ?? 400).send(errorBody(CLIENT_ERRORS[err.code]!, message));
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.status(err.statusCode).send(errorBody('BAD_REQUEST', err.message));
    }
    request.log.error({ err }, 'request failed');
    return reply.status(500).send(errorBody('INTERNAL', 'something went wrong on our side; the error is in the server log'));
  });

  app.setNotFoundHandler((request, reply) => {
    return reply
      .status(404)
      .send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
