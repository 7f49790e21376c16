import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createEmptyDatabase, dropDatabase, uniqueDatabaseName, testServerUrl } from '../helpers/db.js';
import { ensureDatabase, withDatabase } from '../../src/db/ensure-database.js';
import {
  defaultMigrationsDir,
  migrate,
  MigrationDriftError,
  MigrationFailedError,
  readMigrations,
  sha256Hex,
} from '../../src/db/migrate.js';
import { describeConnectionError } from '../../src/db/errors.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c().catch(() => {});
});

async function emptyDb(label: string) {
  const db = await createEmptyDatabase(label);
  cleanups.push(db.drop);
  return db;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const migrationNames = readMigrations().map((m) => m.name);

test('migrate creates every table and records each migration as Prisma does', async () => {
  const db = await emptyDb('migrate-fresh');
  const result = await migrate(db.url);
  assert.deepEqual(result.applied, migrationNames);
  assert.deepEqual(result.alreadyApplied, []);

  const tables = (
    await query<{ table_name: string }>(
      db.url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    )
  ).map((r) => r.table_name);
  assert.deepEqual(tables, [
    '_prisma_migrations',
    'api_keys',
    'audit_log',
    'checkpoints',
    'early_stopping_decisions',
    'job_events',
    'jobs',
    'metric_points',
    'metric_rollups',
    'sweep_decisions',
    'sweeps',
    'tenants',
  ]);

  const rows = await query<Record<string, unknown>>(
    db.url,
    `SELECT * FROM "_prisma_migrations" ORDER BY migration_name`,
  );
  assert.equal(rows.length, migrationNames.length);
  for (const [i, row] of rows.entries()) {
    const name = migrationNames[i]!;
    const fileBytes = readFileSync(path.join(defaultMigrationsDir(), name, 'migration.sql'));
    assert.equal(row.migration_name, name);
    assert.equal(row.checksum, sha256Hex(fileBytes));
    assert.match(String(row.id), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(row.finished_at instanceof Date);
    assert.ok(row.started_at instanceof Date);
    assert.ok((row.finished_at as Date) >= (row.started_at as Date));
    assert.equal(row.logs, null);
    assert.equal(row.rolled_back_at, null);
    assert.equal(row.applied_steps_count, 1);
  }
});

test('the bookkeeping table has the columns and types of Prisma\'s _prisma_migrations', async () => {
  const db = await emptyDb('migrate-table');
  await migrate(db.url);
  const columns = await query<{ column_name: string; data_type: string; is_nullable: string; len: number | null }>(
    db.url,
    `SELECT column_name, data_type, is_nullable, character_maximum_length AS len
     FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
  );
  assert.deepEqual(
    columns.map((c) => `${c.column_name} ${c.data_type}${c.len ? `(${c.len})` : ''} ${c.is_nullable === 'YES' ? 'NULL' : 'NOT NULL'}`),
    [
      'id character varying(36) NOT NULL',
      'checksum character varying(64) NOT NULL',
      'finished_at timestamp with time zone NULL',
      'migration_name character varying(255) NOT NULL',
      'logs text NULL',
      'rolled_back_at timestamp with time zone NULL',
      'started_at timestamp with time zone NOT NULL',
      'applied_steps_count integer NOT NULL',
    ],
  );
});

test('running migrate twice is a no-op the second time', async () => {
  const db = await emptyDb('migrate-twice');
  await migrate(db.url);
  const before = await query(db.url, `SELECT id, checksum, finished_at FROM "_prisma_migrations" ORDER BY id`);
  const second = await migrate(db.url);
  assert.deepEqual(second.applied, []);
  assert.deepEqual(second.alreadyApplied, migrationNames);
  const afterRows = await query(db.url, `SELECT id, checksum, finished_at FROM "_prisma_migrations" ORDER BY id`);
  assert.deepEqual(afterRows, before);
});

test('concurrent migrate calls from two clients both succeed and apply each migration once', async () => {
  const db = await emptyDb('migrate-race');
  const [a, b] = await Promise.all([migrate(db.url), migrate(db.url)]);
  assert.deepEqual([...a.applied, ...b.applied].sort(), migrationNames);
  assert.deepEqual([...a.alreadyApplied, ...b.alreadyApplied].sort(), migrationNames);
  const counts = await query<{ migration_name: string; n: string }>(
    db.url,
    `SELECT migration_name, count(*) AS n FROM "_prisma_migrations" GROUP BY migration_name`,
  );
  assert.deepEqual(
    counts.map((c) => Number(c.n)),
    migrationNames.map(() => 1),
  );
});

test('concurrent ensureDatabase calls create the database exactly once', async () => {
  const url = withDatabase(testServerUrl(), uniqueDatabaseName('ensure-race'));
  cleanups.push(() => dropDatabase(url));
  const created = await Promise.all([ensureDatabase(url), ensureDatabase(url), ensureDatabase(url)]);
  assert.equal(created.filter(Boolean).length, 1);
  assert.equal(await ensureDatabase(url), false);
  assert.deepEqual(await query(url, 'SELECT 1 AS one'), [{ one: 1 }]);
});

test('a migration edited after it was applied is reported as drift, by name', async () => {
  const db = await emptyDb('migrate-drift');
  await migrate(db.url);
  const name = migrationNames[0]!;
  await query(db.url, `UPDATE "_prisma_migrations" SET checksum = $1 WHERE migration_name = $2`, ['0'.repeat(64), name]);
  await assert.rejects(migrate(db.url), (err: unknown) => {
    assert.ok(err instanceof MigrationDriftError);
    assert.equal(err.migration, name);
    assert.match(err.message, new RegExp(name));
    return true;
  });
});

test('a file that differs only in CRLF line endings is not drift', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trainyard-migrations-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  cpSync(defaultMigrationsDir(), dir, { recursive: true });
  const db = await emptyDb('migrate-crlf');
  await migrate(db.url, undefined, { migrationsDir: dir });
  const file = path.join(dir, migrationNames[0]!, 'migration.sql');
  writeFileSync(file, readFileSync(file, 'utf8').replaceAll('\n', '\r\n'));
  const again = await migrate(db.url, undefined, { migrationsDir: dir });
  assert.deepEqual(again.applied, []);
});

test('a failing migration is rolled back entirely and nothing is recorded for it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trainyard-migrations-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  cpSync(defaultMigrationsDir(), dir, { recursive: true });
  mkdirSync(path.join(dir, '99990101000000_broken'));
  writeFileSync(
    path.join(dir, '99990101000000_broken', 'migration.sql'),
    'CREATE TABLE "half_done" ("id" INTEGER);\nSELECT 1 / 0;\n',
  );
  const db = await emptyDb('migrate-broken');
  await assert.rejects(migrate(db.url, undefined, { migrationsDir: dir }), (err: unknown) => {
    assert.ok(err instanceof MigrationFailedError);
    assert.equal(err.migration, '99990101000000_broken');
    assert.match(err.message, /division by zero/);
    return true;
  });
  const names = (await query<{ migration_name: string }>(db.url, `SELECT migration_name FROM "_prisma_migrations"`)).map(
    (r) => r.migration_name,
  );
  assert.deepEqual(names.sort(), migrationNames);
  const halfDone = await query(db.url, `SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'`);
  assert.equal(halfDone.length, 0);
});

test('a migration left unfinished by the Prisma CLI stops migrate with instructions', async () => {
  const db = await emptyDb('migrate-unfinished');
  await migrate(db.url);
  await query(db.url, `UPDATE "_prisma_migrations" SET finished_at = NULL`);
  await assert.rejects(migrate(db.url), (err: unknown) => {
    assert.ok(err instanceof MigrationFailedError);
    assert.match(err.message, /rolled_back_at/);
    return true;
  });
});

test('migrate against a stopped Postgres explains which server and how to start it', async () => {
  const url = 'postgresql://postgres:secret@127.0.0.1:1/trainyard';
  const err = await migrate(url).then(
    () => assert.fail('migrate should not reach a server on port 1'),
    (e: unknown) => e,
  );
  const message = describeConnectionError('postgres', url, err);
  assert.match(message, /Postgres at 127\.0\.0\.1:1/);
  assert.match(message, /docker compose up -d postgres/);
  assert.match(message, /pg_ctlcluster/);
  assert.doesNotMatch(message, /secret/);
});

test('a refused Redis connection names Redis, its address and redis-server', async () => {
  const err = await new Promise<unknown>((resolve) => {
    const socket = net.connect(1, '127.0.0.1');
    socket.on('error', resolve);
  });
  const message = describeConnectionError('redis', 'redis://127.0.0.1:1', err);
  assert.match(message, /Redis at 127\.0\.0\.1:1/);
  assert.match(message, /docker compose up -d redis/);
  assert.match(message, /redis-server --daemonize yes/);
});

test('wrong Postgres credentials are reported as a credentials problem', async () => {
  const url = withDatabase(testServerUrl(), 'postgres');
  const u = new URL(url);
  u.username = 'no_such_role_trainyard';
  const err = await query(u.toString(), 'SELECT 1').then(
    () => assert.fail('an unknown role should be refused'),
    (e: unknown) => e,
  );
  assert.match(describeConnectionError('postgres', u.toString(), err), /refused the credentials in DATABASE_URL/);
});
