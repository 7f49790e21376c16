// The spec's identity: sha256 over a canonical JSON (keys sorted at every level, no
// whitespace) of the normalized spec, so key order and spelled-out defaults do not
// change it. Used for idempotency and in checkpoint metadata.

import { createHash } from 'node:crypto';
import type { NormalizedJobSpec } from './defaults.js';

/** Hex sha256 of canonicalJson(spec). Pass a normalized spec (validateJobSpec's answer). */
export function specHash(spec: NormalizedJobSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

/** JSON with object keys sorted; undefined properties are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const entries = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
  return `{${entries.join(',')}}`;
}
