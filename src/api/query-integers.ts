// Integers in a query string, as the client spelled them. Fastify's TypeBox
// validator first converts query values to the schema's types (Value.Convert), and
// that conversion truncates: maxPoints=1.5 is checked as 1 ("must be >= 4"), from=1.5
// silently becomes 1, 0x10 becomes 16. This preValidation hook refuses, before that
// conversion, any value of an integer field of the route's querystring schema that
// is not written as a decimal integer, saying so and naming the schema's bounds. The
// schema stays the one description of the fields: the hook reads it, it does not
// restate it.
import type { FastifyRequest, preValidationHookHandler } from 'fastify';
import type { TObject, TSchema } from 'typebox';
import { ApiError, type ErrorDetail } from './errors.js';

const DECIMAL_INTEGER = /^-?\d+$/;

interface IntegerSchema {
  type: 'integer';
  minimum?: number;
  maximum?: number;
}

function isInteger(s: TSchema): s is TSchema & IntegerSchema {
  return (s as { type?: unknown }).type === 'integer';
}

/** "must be an integer (>= 4)", with the bounds the schema sets. */
export function integerMessage(s: IntegerSchema): string {
  const { minimum: min, maximum: max } = s;
  const bounds = min !== undefined && max !== undefined ? ` (from ${min} to ${max})` : min !== undefined ? ` (>= ${min})` : max !== undefined ? ` (<= ${max})` : '';
  return `must be an integer${bounds}`;
}

/** The problems with the integer fields of `query` (the raw parsed query string). */
export function integerProblems(schema: TObject, query: Record<string, unknown>): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  for (const [key, field] of Object.entries(schema.properties)) {
    if (!isInteger(field)) continue;
    const raw = query[key];
    if (raw === undefined) continue;
    if (Array.isArray(raw)) problems.push({ pointer: `/${key}`, message: `${integerMessage(field)}, given once` });
    else if (typeof raw !== 'string' || !DECIMAL_INTEGER.test(raw)) problems.push({ pointer: `/${key}`, message: integerMessage(field) });
  }
  return problems;
}

export function checkQueryIntegers(schema: TObject): preValidationHookHandler {
  return async (request: FastifyRequest) => {
    const problems = integerProblems(schema, (request.query ?? {}) as Record<string, unknown>);
    if (problems.length > 0) throw new ApiError(400, 'VALIDATION_FAILED', 'the querystring is invalid', problems);
  };
}
