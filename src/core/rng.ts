// Counter-based random numbers: every draw is a pure function of (seed, stream,
// a, b, c), so a shuffle or a dropout mask never depends on thread count, timing or
// how many draws came before — a resumed run reproduces the exact remaining stream.
// The mixer is murmur3's 32-bit finalizer applied over the words (a cheap,
// well-distributed hash; statistical quality is ample for shuffles and masks).

export const Stream = { init: 1, shuffle: 2, dropout: 3, data: 4, mc: 5 } as const;

function fmix(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32 uniformly distributed bits for the counter (seed, stream, a, b, c). */
export function hash32(seed: number, stream: number, a: number, b = 0, c = 0): number {
  let h = fmix((seed ^ 0x9e3779b9) >>> 0);
  h = fmix((h ^ Math.imul(stream + 1, 0x27d4eb2d)) >>> 0);
  h = fmix((h ^ a) >>> 0);
  h = fmix((h ^ Math.imul(b, 0x165667b1) ^ 0x5bd1e995) >>> 0);
  h = fmix((h ^ Math.imul(c, 0x9e3779b1) ^ 0x68e31da4) >>> 0);
  return h;
}

/** Uniform in [0, 1) with 32 bits of resolution. */
export function uniform(seed: number, stream: number, a: number, b = 0, c = 0): number {
  return hash32(seed, stream, a, b, c) / 4294967296;
}

/** Standard normal by Box-Muller over two independent counters. */
export function normal(seed: number, stream: number, a: number, b = 0, c = 0): number {
  const u1 = (hash32(seed, stream, a, b, 2 * c) + 1) / 4294967297; // (0, 1)
  const u2 = hash32(seed, stream, a, b, 2 * c + 1) / 4294967296;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * Fisher-Yates over `order` (filled with 0..n-1 first), keyed by (seed, stream, key):
 * the permutation is a function of the key alone.
 */
export function permute(order: Int32Array, n: number, seed: number, stream: number, key: number): Int32Array {
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform(seed, stream, key, i) * (i + 1));
    const t = order[i]; order[i] = order[j]; order[j] = t;
  }
  return order;
}
