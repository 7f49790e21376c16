// How Trainyard writes a metric value that JSON cannot hold: NaN and ±Infinity become
// the strings "NaN", "Infinity", "-Infinity" (JSON.stringify would write null). One
// rule for everything that serializes metrics: the API's responses and the epoch
// events the worker stores for the SSE stream, so the two always agree.

export type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export function jsonNumber(v: number): JsonNumber {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/** A JSON.stringify replacer applying jsonNumber to every number. */
export function jsonNumberReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'number' ? jsonNumber(v) : v;
}
