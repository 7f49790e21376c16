// The Prisma client factory. Prisma 7 is Rust-free: queries run through the
// `@prisma/adapter-pg` driver adapter on a node-postgres pool.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

export interface PrismaOptions {
  /** node-postgres pool size (default: pg's own, 10). */
  maxConnections?: number;
  /** Called when an idle pooled connection fails (e.g. Postgres restarted); the pool replaces it. */
  onPoolError?: (err: Error) => void;
}

export function createPrisma(url: string, options: PrismaOptions = {}): PrismaClient {
  const adapter = new PrismaPg(
    { connectionString: url, ...(options.maxConnections !== undefined && { max: options.maxConnections }) },
    // Without a handler an idle connection's error would crash the process.
    { onPoolError: options.onPoolError ?? (() => {}) },
  );
  return new PrismaClient({ adapter });
}
