// If-None-Match (RFC 9110 §13.1.2) for GET: "*" matches any current representation;
// otherwise a list of entity tags, compared weakly (W/"x" matches "x"). An ETag's
// opaque part may itself hold commas, so the list is read tag by tag, not split.

const ENTITY_TAG = /\s*(?:W\/)?("[^"]*")\s*(?:,|$)/y;

/** True when the header matches `etag` (a strong tag like "abc"): answer 304. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  ENTITY_TAG.lastIndex = 0;
  while (ENTITY_TAG.lastIndex < header.length) {
    const m = ENTITY_TAG.exec(header);
    // a malformed list matches nothing: the full answer is always safe
    if (m === null) return false;
    if (m[1] === etag) return true;
  }
  return false;
}
