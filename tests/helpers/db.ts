// A fresh, migrated Postgres database per test file, so integration tests can run
// in parallel (node --test runs files in separate processes) without sharing rows.
//
//   const db = await createTestDatabase('jobs-repo');
//   after(() => db.drop());
//
// The server comes from TEST_DATABASE_URL, else DATABASE_URL, else the local default.
import { randomBytes } from 'node:crypto';
import { createPrisma, type PrismaClient } from '../../src/db/client.js';
import { ensureDatabase, quoteIdent, withDatabase, withMaintenanceClient } from '../../src/db/ensure-database.js';
import { migrate } from '../../src/db/migrate.js';
import { DEFAULTS } from '../../src/config.js';

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  name: string;
  prisma: PrismaClient;
  /** Disconnects Prisma and drops the database (also when connections are still open). */
  drop(): Promise<void>;
}

export function testServerUrl(): string {
  return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || DEFAULTS.DATABASE_URL;
}

/** A unique database name: trainyard_test_<label>_<pid>_<random>, within Postgres's 63 bytes. */
export function uniqueDatabaseName(label = 'db'): string {
  const safe = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 24);
  return `trainyard_test_${safe}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Creates an empty database (no migrations); returns its URL and a drop function. */
export async function createEmptyDatabase(label?: string): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = uniqueDatabaseName(label);
  const url = withDatabase(testServerUrl(), name);
  await ensureDatabase(url);
  return { url, name, drop: () => dropDatabase(url) };
}

export async function createTestDatabase(label?: string): Promise<TestDatabase> {
  const empty = await createEmptyDatabase(label);
  await migrate(empty.url);
  const prisma = createPrisma(empty.url);
  let dropped = false;
  return {
    url: empty.url,
    name: empty.name,
    prisma,
    async drop() {
      if (dropped) return;
      dropped = true;
      await prisma.$disconnect().catch(() => {});
      await empty.drop();
    },
  };
}

export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await withMaintenanceClient(url, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${quoteIdent(decodeURIComponent(name))} WITH (FORCE)`),
  );
}
