// Text that Postgres and JSON can carry unchanged. Postgres refuses U+0000 in text
// and jsonb, and a lone UTF-16 surrogate has no UTF-8 encoding: either one reaching a
// query is a 500, so names, metric names and cursors are checked with this first.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `s` cannot be stored as text, or null when it can. */
export function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL character (U+0000), which cannot be stored';
  if (LONE_SURROGATE.test(s)) return 'contains a lone UTF-16 surrogate (not valid Unicode text)';
  return null;
}
