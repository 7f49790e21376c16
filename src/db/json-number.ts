// How Trainyard spells a metric value. NaN and ±Infinity become the strings "NaN",
// "Infinity", "-Infinity" (JSON.stringify would write null); a finite number is
// written as JSON writes it: the shortest decimal that reads back as the same
// float64 (ECMAScript Number::toString). One rule for everything that serializes
// metrics: the API's JSON answers, its CSV exports (numberText) and the epoch events
// the worker stores for the SSE stream, so a stored value is spelled the same on
// every route.

export type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export function jsonNumber(v: number): JsonNumber {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/** A JSON.stringify replacer applying jsonNumber to every number. */
export function jsonNumberReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'number' ? jsonNumber(v) : v;
}

/**
 * The value as text, exactly as it appears in JSON (without quotes): 5.27e-7,
 * 0.0000527, 0.45520916459044136, NaN, -Infinity. (-0 is written 0, as JSON does.)
 */
export function numberText(v: number): string {
  return String(jsonNumber(v));
}
