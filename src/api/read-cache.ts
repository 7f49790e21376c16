// A micro-cache for hot reads that dashboards poll (a job's status, its metric
// history): each answer is kept for `ttlMs` (READ_CACHE_MS, default 250 ms), and
// concurrent misses of one key share one load (single flight). A hundred dashboards
// polling one job then cost Postgres a few queries a second instead of a hundred;
// the price is that an answer may be up to ttlMs old, which is within the cadence
// workers write progress at anyway. Routes that change a job drop its entries
// (invalidate), so a client never reads its own write stale.
// Keys carry the request's scope (tenant), so one tenant never gets another's answer.

export interface ReadCacheOptions {
  /** how long an answer is served from memory; 0 turns the cache off (every read loads) */
  ttlMs: number;
  /** entries kept at most; the oldest go first (default 10,000) */
  maxEntries?: number;
}

interface Entry {
  expires: number;
  value: Promise<unknown>;
}

export class ReadCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;

  constructor(private readonly opts: ReadCacheOptions) {
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** The cached answer for `key`, or load()'s (shared with concurrent callers). A failed load is not kept. */
  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (this.opts.ttlMs <= 0) return load();
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value as Promise<T>;
    const value = load();
    const entry: Entry = { expires: now + this.opts.ttlMs, value };
    this.entries.delete(key);
    this.entries.set(key, entry);
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    if (this.entries.size > this.maxEntries) {
      for (const [k, e] of this.entries) {
        if (this.entries.size <= this.maxEntries && e.expires > now) break;
        this.entries.delete(k);
      }
    }
    return value;
  }

  /** Drops every entry whose key contains `part` (a job id): the next read loads. */
  invalidate(part: string): void {
    for (const key of this.entries.keys()) if (key.includes(part)) this.entries.delete(key);
  }
}
