// Redis connections for BullMQ and the cancel channel. BullMQ's ESM build cannot
// construct ioredis itself, so we always hand it a ready-made client.
import { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  /** shows up in CLIENT LIST, which helps when several processes share one Redis */
  connectionName?: string;
  /**
   * null = retry forever, what BullMQ requires for workers (blocking commands).
   * The API uses a small number so a request fails fast instead of hanging
   * while Redis is down. Default null.
   */
  maxRetriesPerRequest?: number | null;
  /** don't connect until the first command (default false) */
  lazyConnect?: boolean;
}

export function createRedis(url: string, options: RedisConnectionOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? null : options.maxRetriesPerRequest,
    lazyConnect: options.lazyConnect ?? false,
    connectionName: options.connectionName,
  });
}

/** Connects (if needed) and PINGs; rejects with the connection error. */
export async function pingRedis(redis: Redis, timeoutMs = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer PING within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    if (redis.status === 'wait') await Promise.race([redis.connect(), timeout]);
    await Promise.race([redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
