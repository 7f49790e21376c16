// Page cursors: opaque to clients, bound to the list they came from, and checked
// field by field before any of it reaches a query. A cursor is base64url(JSON
// [list, ...position]); a cursor of another list, a hand-made one, or one whose
// position no row could have (a year-0 timestamp, a step beyond int4) is refused
// with InvalidCursorError, which routes answer as 400 at /cursor.
import { isUuid } from './repositories/prisma-errors.js';
import { textProblem } from '../spec/text.js';

/** The lists that hand out cursors. */
export type CursorList = 'jobs' | 'checkpoints' | 'metrics' | 'sweeps' | 'trials';

export class InvalidCursorError extends Error {
  constructor(list: CursorList) {
    super(`is not a cursor of this list; pass the nextCursor of the previous page of ${list}`);
    this.name = 'InvalidCursorError';
  }
}

/** Position in a list ordered by (createdAt, id). */
export interface TimeIdPosition {
  createdAt: Date;
  id: string;
}

/** Position in a metric history ordered by (name, step). */
export interface NameStepPosition {
  name: string;
  step: number;
}

/** Timestamps our rows can carry: Prisma's and Postgres's common range, and no earlier than 1970. */
const MIN_TIME = 0;
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** Postgres int4, the type of metric_points.step */
const MAX_STEP = 2 ** 31 - 1;
/** Longer than any metric name a layer could have; keeps a crafted cursor from carrying megabytes. */
const MAX_NAME_LENGTH = 256;

function encode(list: CursorList, position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...position])).toString('base64url');
}

function decode(list: CursorList, text: string, length: number): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError(list);
  }
  if (!Array.isArray(value) || value.length !== length + 1 || value[0] !== list) throw new InvalidCursorError(list);
  return value.slice(1);
}

export function encodeTimeIdCursor(list: CursorList, p: TimeIdPosition): string {
  return encode(list, [p.createdAt.toISOString(), p.id]);
}

export function decodeTimeIdCursor(list: CursorList, text: string): TimeIdPosition {
  const [time, id] = decode(list, text, 2);
  if (typeof time !== 'string' || typeof id !== 'string' || !isUuid(id)) throw new InvalidCursorError(list);
  const createdAt = new Date(time);
  const ms = createdAt.getTime();
  if (!(ms >= MIN_TIME && ms <= MAX_TIME) || createdAt.toISOString() !== time) throw new InvalidCursorError(list);
  return { createdAt, id };
}

export function encodeNameStepCursor(list: CursorList, p: NameStepPosition): string {
  return encode(list, [p.name, p.step]);
}

export function decodeNameStepCursor(list: CursorList, text: string): NameStepPosition {
  const [name, step] = decode(list, text, 2);
  if (typeof name !== 'string' || name.length > MAX_NAME_LENGTH || textProblem(name) !== null) {
    throw new InvalidCursorError(list);
  }
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0 || step > MAX_STEP) throw new InvalidCursorError(list);
  return { name, step };
}
