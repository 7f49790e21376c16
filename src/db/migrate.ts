// Applies prisma/migrations/*/migration.sql the way `prisma migrate deploy` does,
// without Prisma's schema-engine binary (which these machines cannot download):
// same order (directory names sorted), same bookkeeping table `_prisma_migrations`
// with the same columns and sha256 checksums, so the Prisma CLI on a connected
// machine sees our migrations as applied. Differences, both deliberate: each
// migration runs in one transaction together with its bookkeeping row (a failure
// leaves nothing half-applied), and a changed migration file is an error.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Logger } from '../logger.js';

// The key `prisma migrate` itself locks, so our runner and the CLI also exclude each other.
const PRISMA_ADVISORY_LOCK = 72707369;

// Prisma's DDL for its bookkeeping table (schema-engine, Postgres connector).
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  /** Directory name, e.g. 20261126231520_init. */
  name: string;
  sql: string;
  /** sha256 hex of migration.sql's bytes, as Prisma records it. */
  checksum: string;
  /** Checksums that also count as unchanged: the file with LF or CRLF line endings. */
  acceptedChecksums: string[];
}

export interface MigrateOptions {
  /** Default: prisma/migrations under the package root. */
  migrationsDir?: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

/** A migration recorded as applied whose file has changed since. */
export class MigrationDriftError extends Error {
  constructor(
    readonly migration: string,
    readonly recordedChecksum: string,
    readonly fileChecksum: string,
  ) {
    super(
      `migration ${migration} was changed after it was applied (recorded checksum ${recordedChecksum}, ` +
        `file ${fileChecksum}); never edit an applied migration, add a new one`,
    );
    this.name = 'MigrationDriftError';
  }
}

/** A migration Prisma's CLI started and did not finish; a person has to look at it. */
export class MigrationFailedError extends Error {
  constructor(
    readonly migration: string,
    cause?: unknown,
  ) {
    super(
      cause === undefined
        ? `migration ${migration} is recorded as started but never finished (a failed prisma migrate run?); ` +
            `fix the database, then mark it rolled back: UPDATE "_prisma_migrations" SET rolled_back_at = now() ` +
            `WHERE migration_name = '${migration}' AND finished_at IS NULL`
        : `migration ${migration} failed and was rolled back: ${(cause as Error).message ?? String(cause)}`,
      { cause },
    );
    this.name = 'MigrationFailedError';
  }
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** prisma/migrations of this package, found from this file in src/ or dist/src/ (or a Docker image). */
export function defaultMigrationsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'prisma', 'migrations');
    if (existsSync(candidate) && existsSync(path.join(dir, 'package.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`no prisma/migrations directory above ${path.dirname(fileURLToPath(import.meta.url))}`);
    }
    dir = parent;
  }
}

export function readMigrations(dir: string = defaultMigrationsDir()): Migration[] {
  return readdirSync(dir)
    .filter((name) => statSync(path.join(dir, name)).isDirectory())
    .sort()
    .map((name) => {
      const file = path.join(dir, name, 'migration.sql');
      if (!existsSync(file)) throw new Error(`migration directory ${name} has no migration.sql`);
      const bytes = readFileSync(file);
      const sql = bytes.toString('utf8');
      const lf = sql.replaceAll('\r\n', '\n');
      return {
        name,
        sql,
        checksum: sha256Hex(bytes),
        acceptedChecksums: [sha256Hex(bytes), sha256Hex(lf), sha256Hex(lf.replaceAll('\n', '\r\n'))],
      };
    });
}

interface Row {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/**
 * Applies every pending migration to the database at `url` (which must exist:
 * see ensureDatabase). Safe to call from several processes at once: they queue
 * on an advisory lock and the later ones find nothing to do.
 */
export async function migrate(url: string, logger?: Logger, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = readMigrations(options.migrationsDir);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    try {
      return await applyPending(client, migrations, logger);
    } finally {
      // Ending the session releases the lock too, so a broken connection must not hide the real error.
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

async function applyPending(client: pg.Client, migrations: Migration[], logger?: Logger): Promise<MigrateResult> {
  await client.query(CREATE_MIGRATIONS_TABLE);
  const { rows } = await client.query<Row>(
    `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"
     WHERE rolled_back_at IS NULL ORDER BY started_at`,
  );

  const local = new Set(migrations.map((m) => m.name));
  for (const row of rows) {
    if (row.finished_at === null) throw new MigrationFailedError(row.migration_name);
    if (!local.has(row.migration_name)) {
      // A newer release ran it; this (older) process can still work with the schema.
      logger?.warn({ migration: row.migration_name }, 'database has a migration this release does not know');
    }
  }

  const recorded = new Map(rows.map((r) => [r.migration_name, r.checksum]));
  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  for (const m of migrations) {
    const checksum = recorded.get(m.name);
    if (checksum !== undefined) {
      if (!m.acceptedChecksums.includes(checksum)) throw new MigrationDriftError(m.name, checksum, m.checksum);
      result.alreadyApplied.push(m.name);
      continue;
    }
    const t0 = performance.now();
    await client.query('BEGIN');
    try {
      await client.query(m.sql);
      await client.query(
        `INSERT INTO "_prisma_migrations"
           (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
         VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, now(), 1)`,
        [randomUUID(), m.checksum, m.name],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw new MigrationFailedError(m.name, err);
    }
    result.applied.push(m.name);
    logger?.info({ migration: m.name, ms: Math.round(performance.now() - t0) }, 'applied migration');
  }
  if (result.applied.length === 0) logger?.debug({ migrations: migrations.length }, 'database schema is up to date');
  return result;
}
