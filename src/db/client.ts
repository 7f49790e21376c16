// The Prisma client factory. Prisma 7 is Rust-free: queries run through the
// `@prisma/adapter-pg` driver adapter on a node-postgres pool.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

export interface PrismaOptions {
  /** node-postgres pool size (default: pg's own, 10). */
  maxConnections?: number;
  /**
   * How long a query waits for a connection (a new one, or a free one of the pool)
   * before it fails (default 5000 ms). Without it a query waits as long as the
   * kernel's TCP timeout while Postgres is unreachable; the API sets about a second,
   * so a request answers 503 instead of hanging.
   */
  connectTimeoutMs?: number;
  /** Called when an idle pooled connection fails (e.g. Postgres restarted); the pool replaces it. */
  onPoolError?: (err: Error) => void;
}

export function createPrisma(url: string, options: PrismaOptions = {}): PrismaClient {
  const adapter = new PrismaPg(
    {
      connectionString: url,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      ...(options.maxConnections !== undefined && { max: options.maxConnections }),
    },
    // Without a handler an idle connection's error would crash the process.
    { onPoolError: options.onPoolError ?? (() => {}) },
  );
  return new PrismaClient({ adapter });
}
