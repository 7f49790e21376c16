// Content negotiation on Accept (RFC 9110 §12.5.1): which of the media types a route
// can answer in the client prefers. Each offered type takes the quality of the most
// specific range that matches it (type/subtype over type/* over */*); the highest
// quality above 0 wins, ties go to the route's order (its preferred type first).
// Range parameters other than q (e.g. charset) are ignored: our types take none.
// (@fastify/accept-negotiator, installed as a dependency of @fastify/static, matches
// only whole tokens, with no type/* ranges, so it cannot do this.)

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const WEIGHT = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** The valid ranges of an Accept header (invalid elements are skipped, as RFC 9110 allows). */
export function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const element of header.split(',')) {
    const [range, ...params] = element.split(';').map((s) => s.trim().toLowerCase());
    const [type, subtype, extra] = (range ?? '').split('/');
    if (extra !== undefined || !type || !subtype || !TOKEN.test(type) || !TOKEN.test(subtype)) continue;
    if (type === '*' && subtype !== '*') continue;
    let q = 1;
    let valid = true;
    for (const p of params) {
      const [key, value] = p.split('=').map((s) => s.trim());
      if (key !== 'q') continue;
      if (value === undefined || !WEIGHT.test(value)) valid = false;
      else q = Number(value);
    }
    if (valid) ranges.push({ type, subtype, q });
  }
  return ranges;
}

function quality(ranges: MediaRange[], offered: string): number {
  const [type, subtype] = offered.toLowerCase().split('/') as [string, string];
  let best = -1;
  let q = 0;
  for (const r of ranges) {
    const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' ? 0 : -1;
    if (specificity > best) [best, q] = [specificity, r.q];
  }
  return best < 0 ? 0 : q;
}

/**
 * The offered media type the Accept header prefers, or null when it accepts none of
 * them (a 406). No Accept header, or one with no valid range, accepts anything: the
 * first offered type.
 */
export function negotiate(accept: string | undefined, offered: readonly [string, ...string[]]): string | null {
  const ranges = accept === undefined ? [] : parseAccept(accept);
  if (ranges.length === 0) return offered[0];
  let chosen: string | null = null;
  let chosenQ = 0;
  for (const type of offered) {
    const q = quality(ranges, type);
    if (q > chosenQ) [chosen, chosenQ] = [type, q];
  }
  return chosen;
}
