// JSON pointers (RFC 6901) into a job spec: parse, escape, set, and whether the
// job-spec schema defines the field one names.
import type { TSchema } from 'typebox';
import type { JsonValue } from './schema.js';
import { escapeToken } from '../spec/json-pointer.js';

/** '/model/layers/0/units' → ['model', 'layers', '0', 'units']; null when not a pointer. */
export function parsePointer(pointer: string): string[] | null {
  if (!pointer.startsWith('/')) return null;
  const tokens = pointer.slice(1).split('/');
  if (tokens.some((t) => /~[^01]|~$/.test(t))) return null;
  return tokens.map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export { escapeToken };

/** The parts of JSON Schema TypeBox emits for the job spec. */
interface Schema {
  type?: string;
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  items?: Schema;
}

const ARRAY_INDEX = /^(0|[1-9][0-9]{0,5})$/;

/**
 * Whether the schema defines the field the tokens name: object properties by name,
 * array items by index, and a union when any of its branches does (which branch a
 * trial's layer is, the job validator decides for the trial's spec).
 */
export function schemaDefines(schema: TSchema, tokens: readonly string[]): boolean {
  let frontier: Schema[] = [schema as unknown as Schema];
  for (const token of tokens) {
    const next: Schema[] = [];
    const visit = (s: Schema): void => {
      if (s.anyOf) { for (const b of s.anyOf) visit(b); return; }
      if (s.type === 'object' && s.properties && Object.hasOwn(s.properties, token)) next.push(s.properties[token]!);
      if (s.type === 'array' && s.items && ARRAY_INDEX.test(token)) next.push(s.items);
    };
    for (const s of frontier) visit(s);
    if (next.length === 0) return false;
    frontier = next;
  }
  return true;
}

function isObject(v: unknown): v is Record<string, JsonValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Sets the value at `tokens` in `doc` (mutates it). A missing object on the way is
 * created (setting /regularization/l2 on a spec without regularization); an array
 * element that does not exist is an error: the base spec must have that layer.
 * Returns null, or the pointer prefix that could not be reached.
 */
export function setAt(doc: Record<string, JsonValue>, tokens: readonly string[], value: JsonValue): string | null {
  let node: JsonValue = doc;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const last = i === tokens.length - 1;
    const here = '/' + tokens.slice(0, i + 1).map(escapeToken).join('/');
    if (Array.isArray(node)) {
      const index = ARRAY_INDEX.test(token) ? Number(token) : -1;
      if (index < 0 || index >= node.length) return here;
      if (last) node[index] = value;
      else node = node[index]!;
    } else if (isObject(node)) {
      if (last) node[token] = value;
      else {
        if (!Object.hasOwn(node, token)) node[token] = {};
        node = node[token]!;
      }
    } else {
      return '/' + tokens.slice(0, i).map(escapeToken).join('/');
    }
  }
  return null;
}
