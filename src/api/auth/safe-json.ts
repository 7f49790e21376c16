// The JSON body parser: Fastify's (empty → MALFORMED_JSON where a body is required, not
// JSON → MALFORMED_JSON),
// except that a body with a `__proto__` key, or a `constructor` object with a
// `prototype` key — valid JSON that pollutes prototypes once code merges it into
// an object — is refused with the key and its JSON pointer, not as "not valid JSON".
import { errorCodes, type FastifyInstance } from 'fastify';
import { ApiError, type ErrorDetail } from '../errors.js';
import { escapeToken } from '../../spec/json-pointer.js';

/** Texts that cannot hold a forbidden key skip the walk (JSON escapes like \u005f may spell one). */
const MAY_HOLD_FORBIDDEN = /__proto__|constructor|\\u/;

/** Every forbidden key in a parsed JSON value, with its pointer, in document order. */
export function forbiddenKeys(value: unknown, pointer = '', found: ErrorDetail[] = []): ErrorDetail[] {
  if (found.length >= 20 || value === null || typeof value !== 'object') return found;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item === 'object') forbiddenKeys(item, `${pointer}/${i}`, found);
    }
    return found;
  }
  for (const key of Object.keys(value)) {
    const child: unknown = (value as Record<string, unknown>)[key];
    const at = `${pointer}/${escapeToken(key)}`;
    if (key === '__proto__') {
      found.push({ pointer: at, message: 'the key "__proto__" is not accepted (it would change an object\'s prototype)' });
    } else if (key === 'constructor' && child !== null && typeof child === 'object' && !Array.isArray(child) && Object.hasOwn(child, 'prototype')) {
      found.push({ pointer: `${at}/prototype`, message: 'the key "constructor.prototype" is not accepted (it would change a prototype)' });
    }
    forbiddenKeys(child, at, found);
  }
  return found;
}

export function installSafeJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    // Many clients send Content-Type: application/json on every POST, also on those
    // without a body (POST /v1/jobs/:id/cancel): an empty body is no body on a route
    // that takes none; where a body is required it is still refused.
    if (text.length === 0) {
      if (request.routeOptions.schema?.body === undefined) return done(null, undefined);
      return done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined);
    }
    let value: unknown;
    try {
      // JSON.parse makes "__proto__" an own property (it never sets the prototype): safe to inspect
      value = JSON.parse(text);
    } catch {
      return done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
    }
    const found = MAY_HOLD_FORBIDDEN.test(text) ? forbiddenKeys(value) : [];
    if (found.length > 0) {
      const first = found[0]!;
      const key = first.pointer.endsWith('/prototype') ? 'constructor.prototype' : '__proto__';
      return done(new ApiError(400, 'FORBIDDEN_KEY', `the body has the key "${key}" at ${first.pointer}, which is never accepted`, found), undefined);
    }
    done(null, value);
  });
}
