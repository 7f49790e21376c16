// JSON pointers (RFC 6901): the one place that escapes a key into a pointer token, for
// every pointer the API reports (spec problems, sweep parameters, forbidden body keys).

/** One token of a pointer: '~' → '~0', '/' → '~1' (so '/a/b' as a key becomes '~1a~1b'). */
export function escapeToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
