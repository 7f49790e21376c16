// A per-process cache of API keys by hash, so a request does not read Postgres for
// its key every time — and a revoked key is still refused within a second on every
// API process: revoking publishes the key's hash on a Redis channel, every process
// subscribes and drops the entry at once.
//
// Lost messages cannot keep a revoked key alive: while the subscriber is not
// connected the cache is bypassed (every lookup reads Postgres), and it is emptied
// whenever the subscription (re)starts. A lookup that raced with an invalidation
// (read the row before the revoke committed, finished after the message) does not
// store its stale answer: every invalidation bumps a generation the lookup checks.
import type { Redis } from 'ioredis';
import type { PrismaClient } from '../../db/client.js';
import { findKeyByHash } from '../../db/repositories/keys.js';
import { digestsEqual, parseScopes, type KeyScope } from './keys.js';

/** What a request knows about the key it came with. */
export interface AuthenticatedKey {
  id: string;
  tenantId: string;
  prefix: string;
  scopes: KeyScope[];
}

export interface KeyCacheOptions {
  /** how long a valid key is trusted without reading Postgres (default 60 s; revocation does not wait for it) */
  ttlMs?: number;
  /** how long an unknown hash is remembered as unknown (default 2 s) */
  negativeTtlMs?: number;
  /** entries kept at most; beyond it the cache starts over (default 10,000) */
  maxEntries?: number;
}

export function keyChangesChannel(prefix: string): string {
  return `${prefix}:api-key-changes`;
}

/** Tells every API process that the key with this hash changed (revoked). */
export async function publishKeyChange(redis: Redis, prefix: string, keyHash: string): Promise<void> {
  await redis.publish(keyChangesChannel(prefix), keyHash);
}

export class KeyCache {
  private readonly entries = new Map<string, { key: AuthenticatedKey | null; expires: number }>();
  private generation = 0;
  private subscribed = false;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly channel: string;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly subscriber: Redis,
    prefix: string,
    options: KeyCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 2_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.channel = keyChangesChannel(prefix);
    subscriber.on('message', (channel: string, hash: string) => {
      if (channel === this.channel) this.invalidate(hash);
    });
    // ioredis resubscribes after a reconnect and emits 'ready' again; messages sent
    // meanwhile are lost, so nothing cached before may be trusted.
    subscriber.on('ready', () => {
      if (this.subscribed) this.clear();
    });
    subscriber.on('close', () => this.clear());
  }

  /** Subscribes; until it resolves (and while disconnected) every lookup reads Postgres. */
  async start(): Promise<void> {
    await this.subscriber.subscribe(this.channel);
    this.clear();
    this.subscribed = true;
  }

  async close(): Promise<void> {
    this.subscribed = false;
    this.subscriber.disconnect();
  }

  /** The valid (not revoked) key with this SHA-256, or null. */
  async lookup(hash: string, now = Date.now()): Promise<AuthenticatedKey | null> {
    const usable = this.subscribed && this.subscriber.status === 'ready';
    const hit = usable ? this.entries.get(hash) : undefined;
    if (hit && hit.expires > now) return hit.key;
    const generation = this.generation;
    const row = await findKeyByHash(this.prisma, hash);
    // the index found the row by its digest; compare in constant time all the same
    const key = row && row.revokedAt === null && digestsEqual(row.keyHash, hash)
      ? { id: row.id, tenantId: row.tenantId, prefix: row.prefix, scopes: parseScopes(row.scopes) }
      : null;
    if (usable && generation === this.generation) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(hash, { key, expires: now + (key ? this.ttlMs : this.negativeTtlMs) });
    }
    return key;
  }

  invalidate(hash: string): void {
    this.generation++;
    this.entries.delete(hash);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
