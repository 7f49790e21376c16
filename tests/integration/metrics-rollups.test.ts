// metric_rollups is maintained by triggers on metric_points (migration
// 20261126234500_metric_rollups). These tests compare it, after every kind of
// write, with a from-scratch aggregation done in JS from the points themselves.
// Points are written by the worker's own statement (upsertMetricPoints from
// training-records.ts, called here, not copied), so a change in the writer is
// covered: inserts in statements of every size, the worker's upsert replaying epochs
// with the same and with changed values, deletes, a deleted job, interleaved
// transactions writing the same blocks, and the backfill of points that existed
// before the migration.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { waitFor } from '../helpers/app.js';
import { defaultMigrationsDir, migrate, readMigrations } from '../../src/db/migrate.js';
import { createPrisma, type PrismaClient } from '../../src/db/client.js';
import { upsertMetricPoints } from '../../src/db/repositories/training-records.js';
import { insertJob, metricsApp, range } from './metrics-helpers.js';

interface Rollup {
  name: string;
  block: number;
  first_step: number;
  last_step: number;
  count: number;
  min_value: number | null;
  min_step: number | null;
  max_value: number | null;
  max_step: number | null;
  nan_step: number | null;
}

/** The rollup rows a job's points imply, computed in JS. */
function expectedRollups(points: Map<string, number>): Rollup[] {
  const blocks = new Map<string, Rollup>();
  const sorted = [...points.entries()]
    .map(([key, value]) => {
      const [name, step] = key.split('\u0000') as [string, string];
      return { name, step: Number(step), value };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.step - b.step));
  for (const { name, step, value } of sorted) {
    const block = Math.floor(step / 1024);
    const key = `${name}\u0000${block}`;
    let r = blocks.get(key);
    if (!r) {
      r = { name, block, first_step: step, last_step: step, count: 0, min_value: null, min_step: null, max_value: null, max_step: null, nan_step: null };
      blocks.set(key, r);
    }
    r.count++;
    r.last_step = step; // ascending steps: the first one seen is the earliest
    if (Number.isNaN(value)) {
      r.nan_step ??= step;
    } else {
      if (r.min_value === null || value < r.min_value) [r.min_value, r.min_step] = [value, step];
      if (r.max_value === null || value > r.max_value) [r.max_value, r.max_step] = [value, step];
    }
  }
  return [...blocks.values()];
}

async function actualRollups(client: pg.ClientBase, jobId: string): Promise<Rollup[]> {
  const { rows } = await client.query<Rollup>(
    `SELECT name, block, first_step, last_step, count, min_value, min_step, max_value, max_step, nan_step
     FROM metric_rollups WHERE job_id = $1 ORDER BY name, block`,
    [jobId],
  );
  return rows;
}

/** The worker's write (INSERT … ON CONFLICT DO UPDATE), epoch = floor(step / 100). */
async function upsert(db: PrismaClient, jobId: string, name: string, steps: number[], values: number[]): Promise<void> {
  const points = steps.map((step, i) => ({ name, step, epoch: Math.floor(step / 100), value: values[i]! }));
  await upsertMetricPoints(db, jobId, points, new Date());
}

/** An interactive transaction held open: statements run in it until commit(). */
interface OpenTransaction {
  upsert(jobId: string, name: string, steps: number[], values: number[]): Promise<void>;
  commit(): Promise<void>;
}

function openTransaction(prisma: PrismaClient): Promise<OpenTransaction> {
  return new Promise((ready, fail) => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const finished = prisma.$transaction(
      async (tx) => {
        const db = tx as unknown as PrismaClient; // the writer takes a client; a transaction client runs the same statement
        ready({ upsert: (...args) => upsert(db, ...args), commit: async () => { release(); await finished; } });
        await released;
      },
      { maxWait: 60_000, timeout: 120_000 },
    );
    finished.catch(fail);
  });
}

/** Until some statement in the database waits for a lock another transaction holds. */
async function someoneWaitsForALock(client: pg.ClientBase): Promise<void> {
  await waitFor(
    async () => (await client.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n as number,
    (n) => n > 0,
    { timeoutMs: 60_000, what: 'a writer waiting for a block lock' },
  );
}

// NaN and ±Infinity go through the worker's own statement (upsertMetricPoints), which
// passes values as text so that Postgres stores them exactly.

/** A deterministic pseudo-random source. */
function rng(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
}

describe('metric_rollups follows metric_points', () => {
  let db: TestDatabase;
  let client: pg.Client;
  let app: FastifyInstance;

  before(async () => {
    db = await createTestDatabase('metrics-rollups');
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    app = await metricsApp(db.prisma);
  });
  after(async () => {
    await app?.close();
    await client?.end();
    await db?.drop();
  });

  /** Keeps the JS copy of a job's points next to the database's. */
  function model() {
    const points = new Map<string, number>();
    return {
      points,
      set(name: string, steps: number[], values: number[]) {
        steps.forEach((s, i) => points.set(`${name}\u0000${s}`, values[i]!));
      },
      delete(name: string, steps: number[]) {
        for (const s of steps) points.delete(`${name}\u0000${s}`);
      },
    };
  }

  test('inserts in statements of every size, across block boundaries, with NaN, ±Infinity and ties', async () => {
    const job = await insertJob(db.prisma);
    const m = model();
    const rand = rng(11);
    let step = 0;
    for (const size of [1, 50, 1023, 1, 2048, 3000, 7, 500, 5000]) {
      const steps: number[] = [];
      for (let i = 0; i < size; i++) steps.push((step += 1 + Math.floor(rand() * 3)));
      const values = steps.map(() => {
        const r = rand();
        return r < 0.03 ? NaN : r < 0.035 ? Infinity : r < 0.04 ? -Infinity : Math.round(rand() * 20) / 4; // many ties
      });
      // two series in one statement too
      await upsert(db.prisma, job, 'loss', steps, values);
      m.set('loss', steps, values);
    }
    // a block holding only NaN, and one point in a far block
    const nanSteps = range(200_000, 1024).map((i) => i - (200_000 % 1024));
    await upsert(db.prisma, job, 'loss', nanSteps, nanSteps.map(() => NaN));
    m.set('loss', nanSteps, nanSteps.map(() => NaN));
    await upsert(db.prisma, job, 'loss', [5_000_000], [-1]);
    m.set('loss', [5_000_000], [-1]);
    await upsert(db.prisma, job, 'acc', range(0, 3000), range(0, 3000).map((s) => s % 17));
    m.set('acc', range(0, 3000), range(0, 3000).map((s) => s % 17));
    assert.deepEqual(await actualRollups(client, job), expectedRollups(m.points));
    const nanBlock = (await actualRollups(client, job)).find((r) => r.name === 'loss' && r.block === 195)!;
    assert.deepEqual([nanBlock.count, nanBlock.min_value, nanBlock.max_value, nanBlock.nan_step], [1024, null, null, 199_680]);
  });

  test('upserts that replay an epoch: same values leave blocks alone, changed values recompute them', async () => {
    const job = await insertJob(db.prisma);
    const m = model();
    const steps = range(0, 4096);
    const values = steps.map((s) => Math.sin(s / 10));
    values[100] = 5; // the max of block 0
    values[2000] = -5; // the min of block 1
    await upsert(db.prisma, job, 'val_loss', steps, values);
    m.set('val_loss', steps, values);

    await upsert(db.prisma, job, 'val_loss', steps.slice(0, 1500), values.slice(0, 1500)); // same values
    assert.deepEqual(await actualRollups(client, job), expectedRollups(m.points));

    const changes: [number, number][] = [
      [100, 0], // the max shrinks: block 0 must find its next-largest value
      [2000, 0.25], // the min grows
      [3000, NaN], // a value becomes NaN
      [3001, 7], // a new max in block 2
      [3000, -9], // NaN becomes a number again: the block's first NaN is gone
    ];
    for (const [s, v] of changes) {
      await upsert(db.prisma, job, 'val_loss', [s], [v]);
      m.set('val_loss', [s], [v]);
      assert.deepEqual(await actualRollups(client, job), expectedRollups(m.points), `after setting step ${s} to ${v}`);
    }
    // one statement that inserts new points and changes existing ones, in several blocks
    const mixed = [...range(4090, 20), 5, 1030, 2050];
    const mixedValues = mixed.map((s) => (s % 2 === 0 ? 100 + s : -100 - s));
    await upsert(db.prisma, job, 'val_loss', mixed, mixedValues);
    m.set('val_loss', mixed, mixedValues);
    assert.deepEqual(await actualRollups(client, job), expectedRollups(m.points));

    // a plain UPDATE and a DELETE (not what the worker does, but they must not break the rollups)
    await client.query(`UPDATE metric_points SET value = value * 2 WHERE job_id = $1 AND step BETWEEN 1000 AND 1100`, [job]);
    for (const s of range(1000, 101)) m.set('val_loss', [s], [m.points.get(`val_loss\u0000${s}`)! * 2]);
    await client.query(`DELETE FROM metric_points WHERE job_id = $1 AND (step < 1024 OR step = 2000)`, [job]);
    m.delete('val_loss', [...range(0, 1024), 2000]);
    assert.deepEqual(await actualRollups(client, job), expectedRollups(m.points));

    const names = await app.inject({ url: `/v1/jobs/${job}/metrics/names` });
    assert.deepEqual(names.json(), { items: [{ name: 'val_loss', count: m.points.size, minStep: 1024, maxStep: 4109 }] });
  });

  test('interleaved transactions writing the same blocks add up, whoever commits first', async () => {
    const job = await insertJob(db.prisma);
    const m = model();
    await upsert(db.prisma, job, 'x', range(0, 2048), range(0, 2048).map((s) => s % 100));
    m.set('x', range(0, 2048), range(0, 2048).map((s) => s % 100));

    // 1. two inserters into the same blocks: b's statement waits for a's block lock
    let a = await openTransaction(db.prisma);
    let b = await openTransaction(db.prisma);
    await a.upsert(job, 'x', range(2048, 10), range(0, 10).map(() => 1000));
    const bWaits = b.upsert(job, 'x', range(2058, 10), range(0, 10).map(() => -1000));
    await someoneWaitsForALock(client);
    await a.commit();
    await bWaits;
    await b.upsert(job, 'x', range(4000, 10), range(0, 10).map(() => 3));
    await b.commit();
    m.set('x', range(2048, 10), range(0, 10).map(() => 1000));
    m.set('x', range(2058, 10), range(0, 10).map(() => -1000));
    m.set('x', range(4000, 10), range(0, 10).map(() => 3));
    assert.deepEqual(await actualRollups(client, job), expectedRollups(m.points));

    // 2. a recompute (changed value) waits while an insert into the same block is uncommitted
    a = await openTransaction(db.prisma);
    b = await openTransaction(db.prisma);
    await b.upsert(job, 'x', [3500], [-77]); // a new point in block 3, merged, not committed
    const aWaits = a.upsert(job, 'x', [4005], [500]); // changed value: recomputes block 3 after b commits
    await someoneWaitsForALock(client);
    await b.commit();
    await aWaits;
    await a.commit();
    m.set('x', [3500], [-77]);
    m.set('x', [4005], [500]);
    assert.deepEqual(await actualRollups(client, job), expectedRollups(m.points));

    // 3. the other way round: the recompute first, then an insert into its block
    a = await openTransaction(db.prisma);
    b = await openTransaction(db.prisma);
    await a.upsert(job, 'x', [4005], [-500]);
    const bWaits2 = b.upsert(job, 'x', [3501, 3502], [900, NaN]);
    await someoneWaitsForALock(client);
    await a.commit();
    await bWaits2;
    await b.commit();
    m.set('x', [4005], [-500]);
    m.set('x', [3501, 3502], [900, NaN]);
    assert.deepEqual(await actualRollups(client, job), expectedRollups(m.points));

    // 4. many writers at once, each with its own client (its own pool), steps of one range shuffled between them
    const writers = Array.from({ length: 6 }, () => createPrisma(db.url, { maxConnections: 1 }));
    try {
      const rand = rng(5);
      const steps = range(10_000, 6000).sort(() => rand() - 0.5);
      const values = steps.map((s) => (s % 97 === 0 ? NaN : Math.cos(s)));
      await Promise.all(
        writers.map(async (w, i) => {
          for (let k = i * 100; k < steps.length; k += writers.length * 100) {
            await upsert(w, job, 'x', steps.slice(k, k + 100), values.slice(k, k + 100));
          }
        }),
      );
      m.set('x', steps, values);
    } finally {
      await Promise.all(writers.map((w) => w.$disconnect()));
    }
    assert.deepEqual(await actualRollups(client, job), expectedRollups(m.points));
  });

  test('deleting a job deletes its rollups; other jobs keep theirs', async () => {
    const gone = await insertJob(db.prisma);
    const kept = await insertJob(db.prisma);
    await upsert(db.prisma, gone, 'loss', range(0, 5000), range(0, 5000));
    await upsert(db.prisma, kept, 'loss', range(0, 3000), range(0, 3000));
    await client.query('DELETE FROM jobs WHERE id = $1', [gone]);
    assert.deepEqual(await actualRollups(client, gone), []);
    assert.equal((await actualRollups(client, kept)).length, 3);
  });
});

test('the migration backfills rollups for points written before it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trainyard-migrations-'));
  const empty = await createEmptyDatabase('rollup-backfill');
  const client = new pg.Client({ connectionString: empty.url });
  try {
    const rollupMigration = readMigrations().findIndex((m) => m.name.endsWith('_metric_rollups'));
    assert.ok(rollupMigration > 0);
    for (const m of readMigrations().slice(0, rollupMigration)) cpSync(path.join(defaultMigrationsDir(), m.name), path.join(dir, m.name), { recursive: true });
    await migrate(empty.url, undefined, { migrationsDir: dir });
    await client.connect();
    const job = randomUUID();
    await client.query(`INSERT INTO jobs (id, name, status, spec, spec_hash) VALUES ($1, 'old', 'succeeded', '{}', 'x')`, [job]);
    const steps = range(0, 5000).map((s) => s * 3);
    const values = steps.map((s) => (s % 1001 === 0 ? NaN : Math.sin(s)));
    const writer = createPrisma(empty.url);
    try {
      await upsert(writer, job, 'loss', steps, values);
    } finally {
      await writer.$disconnect();
    }
    assert.equal((await client.query(`SELECT to_regclass('metric_rollups') AS t`)).rows[0].t, null);

    await migrate(empty.url);
    const points = new Map(steps.map((s, i) => [`loss\u0000${s}`, values[i]!]));
    assert.deepEqual(await actualRollups(client, job), expectedRollups(points));
  } finally {
    await client.end().catch(() => {});
    await empty.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
