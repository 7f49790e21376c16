// Metric-history benchmark (npm run bench:metrics): series of 10k, 100k and 1M
// points in a fresh database (written through the rollup trigger), then through the
// real HTTP route (a listening Fastify server with the metrics routes, fetch() as
// the client):
//   - latency of a maxPoints=1000 fetch (p50/p99) per series length,
//   - the same reduction called directly, M4 from points (the path before rollups)
//     next to M4 from rollups, interleaved run by run so load affects both alike,
//   - the cost the rollup trigger adds to writes: the worker's upsert statement for
//     an epoch of 50 points (50 names at one step) and for 1000-point batches (one
//     name), with the triggers enabled vs disabled, plus replays (same values, and
//     changed values, which recompute their blocks),
//   - a full CSV export of the 1M series: time, and the process's peak RSS growth,
//   - next to a naive SELECT ... ORDER BY step of the whole series into memory,
//   - and the SQL-only lower bound of plain M4 with GROUP BY (one pass, no argmin).
// Run with --expose-gc so memory baselines start from a collected heap.
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createTestDatabase } from '../tests/helpers/db.js';
import { insertJob, metricsApp } from '../tests/integration/metrics-helpers.js';
import type { PrismaClient } from '../src/db/client.js';
import { downsampledSeries, type DownsampleOptions } from '../src/db/metric-queries.js';
import { EVERY_TENANT } from '../src/db/scope.js';

const SIZES = [10_000, 100_000, 1_000_000];
const MAX_POINTS = 1000;
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
/** BENCH_CSV=0 skips the (slow) full CSV export and naive SELECT rows. */
const CSV = process.env.BENCH_CSV !== '0';
const ROLLUP_TRIGGERS = ['metric_rollups_insert', 'metric_rollups_update', 'metric_rollups_delete'];

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs fn while sampling RSS every 5 ms; returns its duration and the peak RSS above the starting RSS. */
async function measured<T>(fn: () => Promise<T>): Promise<{ ms: number; peakMiB: number; result: T }> {
  gc();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const t0 = performance.now();
  const result = await fn();
  const ms = performance.now() - t0;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { ms, peakMiB: (peak - base) / 2 ** 20, result };
}

/** A loss-like curve with noise, a spike and a NaN gap, written by generate_series in one statement. */
async function insertSeries(prisma: PrismaClient, jobId: string, name: string, n: number): Promise<void> {
  // The foreign-key trigger per row dominates a bulk insert; the job row exists, so
  // skip it (replica mode). The rollup triggers are set to fire ALWAYS in main().
  await prisma.$transaction([
    prisma.$executeRaw`SET LOCAL session_replication_role = replica`,
    prisma.$executeRaw`
      INSERT INTO metric_points (job_id, name, step, epoch, value, time)
      SELECT ${jobId}::uuid, ${name}, s, s / 1000,
             CASE WHEN s = ${Math.floor(n * 0.7)}::int THEN 50
                  WHEN s BETWEEN ${Math.floor(n * 0.4)}::int AND ${Math.floor(n * 0.4) + 20}::int THEN 'NaN'::float8
                  ELSE 2.0 * exp(-s::float8 / ${n / 5}) + 0.1 * sin(s / 50.0) + random() * 0.05 END,
             timestamptz '2026-01-01' + s * interval '10 ms'
      FROM generate_series(0, ${n - 1}::int) s`,
  ], { timeout: 600_000 });
}

/** The worker's metric write (upsertMetricPoints in src/db/repositories/training-records.ts), verbatim. */
function upsert(prisma: PrismaClient, jobId: string, rows: { name: string; step: number; epoch: number; value: number }[]) {
  return prisma.$executeRaw`
    INSERT INTO "metric_points" ("job_id", "name", "step", "epoch", "value", "time")
    SELECT ${jobId}::uuid, p.name, p.step, p.epoch, p.value, ${new Date()}::timestamptz
    FROM unnest(${rows.map((p) => p.name)}::text[], ${rows.map((p) => p.step)}::int[],
                ${rows.map((p) => p.epoch)}::int[], ${rows.map((p) => p.value)}::float8[]) AS p(name, step, epoch, value)
    ON CONFLICT ("job_id", "name", "step") DO UPDATE
      SET "epoch" = EXCLUDED."epoch", "value" = EXCLUDED."value", "time" = EXCLUDED."time"`;
}

/**
 * Per-statement latency of the worker's upsert with the rollup triggers on and off,
 * alternating in rounds (on a fresh job each) so background load hits both alike.
 */
async function writeOverhead(prisma: PrismaClient): Promise<string[][]> {
  const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 200);
  const BATCHES = Number(process.env.BENCH_BATCHES ?? 40);
  const epochRows = (epoch: number, value = 0) =>
    Array.from({ length: 50 }, (_, i) => ({ name: `metric_${String(i).padStart(2, '0')}`, step: epoch * 469, epoch, value: value + i + epoch * 1e-3 }));
  const batchRows = (batch: number) =>
    Array.from({ length: 1000 }, (_, i) => ({ name: 'batch_loss', step: batch * 1000 + i, epoch: batch, value: Math.sin(batch * 1000 + i) }));
  const setTriggers = async (on: boolean) => {
    for (const t of ROLLUP_TRIGGERS) await prisma.$executeRawUnsafe(`ALTER TABLE metric_points ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${t}`);
  };
  const cases = ['epoch of 50 points (50 names, one step)', 'replayed epoch, same values', 'replayed epoch, changed values', '1000-point batch (one name)'];
  const times = new Map<string, number[]>(cases.flatMap((c) => [[`${c}|on`, []], [`${c}|off`, []]]));
  const time = async (key: string, fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    times.get(key)!.push(performance.now() - t);
  };
  const ROUNDS = 4;
  for (let round = 0; round < ROUNDS; round++) {
    for (const on of round % 2 === 0 ? [true, false] : [false, true]) {
      await setTriggers(on);
      const mode = on ? 'on' : 'off';
      const job = await insertJob(prisma, randomUUID());
      for (let e = 0; e < EPOCHS / ROUNDS; e++) await time(`${cases[0]}|${mode}`, () => upsert(prisma, job, epochRows(e)));
      for (let e = 0; e < EPOCHS / ROUNDS; e++) await time(`${cases[1]}|${mode}`, () => upsert(prisma, job, epochRows(e)));
      for (let e = 0; e < EPOCHS / ROUNDS; e++) await time(`${cases[2]}|${mode}`, () => upsert(prisma, job, epochRows(e, 0.5)));
      for (let b = 0; b < BATCHES / ROUNDS; b++) await time(`${cases[3]}|${mode}`, () => upsert(prisma, job, batchRows(b)));
    }
  }
  await setTriggers(true);
  return cases.map((c) => {
    const on = times.get(`${c}|on`)!.sort((a, b) => a - b);
    const off = times.get(`${c}|off`)!.sort((a, b) => a - b);
    const [p50on, p50off] = [percentile(on, 50), percentile(off, 50)];
    return [`write: ${c}`, `${on.length} stmts`, `trigger on ${p50on.toFixed(2)} / off ${p50off.toFixed(2)} ms`,
      `p50 +${(p50on - p50off).toFixed(2)} ms`, `p99 on ${percentile(on, 99).toFixed(2)} / off ${percentile(off, 99).toFixed(2)} ms`, ''];
  });
}

async function main(): Promise<void> {
  const db = await createTestDatabase('metrics-bench');
  const rows: string[][] = [];
  try {
    const prisma = db.prisma;
    const job = await insertJob(prisma, randomUUID());
    // Replica mode (used for the bulk insert) skips ordinary triggers; the rollups must follow.
    for (const t of ROLLUP_TRIGGERS) await prisma.$executeRawUnsafe(`ALTER TABLE metric_points ENABLE ALWAYS TRIGGER ${t}`);
    const t0 = performance.now();
    for (const n of SIZES) await insertSeries(prisma, job, `loss_${n}`, n);
    await prisma.$executeRawUnsafe('VACUUM ANALYZE metric_points');
    await prisma.$executeRawUnsafe('VACUUM ANALYZE metric_rollups');
    const [{ blocks }] = await prisma.$queryRaw<{ blocks: number }[]>`SELECT count(*)::int AS blocks FROM metric_rollups`;
    console.log(`inserted ${SIZES.map((n) => n.toLocaleString('en')).join(' + ')} points (with rollup triggers: ${blocks} blocks) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const app = await metricsApp(prisma);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/jobs/${job}/metrics`;

    for (const n of SIZES) {
      const url = `${base}?name=loss_${n}&maxPoints=${MAX_POINTS}`;
      let points = 0;
      for (let i = 0; i < 3; i++) await (await fetch(url)).arrayBuffer();
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        const res = await fetch(url);
        const body = (await res.json()) as { series: { points: unknown[] }[] };
        times.push(performance.now() - t);
        points = body.series[0]!.points.length;
      }
      times.sort((a, b) => a - b);
      rows.push([`maxPoints=${MAX_POINTS} via HTTP`, n.toLocaleString('en'), `${points} pts`, `p50 ${percentile(times, 50).toFixed(1)} ms`, `p99 ${percentile(times, 99).toFixed(1)} ms`, '']);
    }

    // The reduction itself, without HTTP: M4 from points vs from rollups, alternating.
    for (const n of SIZES) {
      const keys = [{ jobId: job, name: `loss_${n}` }];
      const modes: [string, DownsampleOptions][] = [['M4 from points (before)', { rollups: false }], ['M4 from rollups (after)', {}]];
      const times = modes.map(() => [] as number[]);
      const counts = modes.map(() => 0);
      for (let i = 0; i < RUNS + 2; i++) {
        for (const [m, [, opts]] of modes.entries()) {
          const t = performance.now();
          const [series] = await downsampledSeries(prisma, EVERY_TENANT, keys, {}, MAX_POINTS, opts);
          if (i >= 2) times[m]!.push(performance.now() - t); // two warm-up rounds
          counts[m] = series!.points.length;
        }
      }
      for (const [m, [label]] of modes.entries()) {
        const sorted = times[m]!.sort((a, b) => a - b);
        rows.push([`${label}, direct`, n.toLocaleString('en'), `${counts[m]} pts`, `p50 ${percentile(sorted, 50).toFixed(1)} ms`, `p99 ${percentile(sorted, 99).toFixed(1)} ms`, '']);
      }
    }

    rows.push(...(await writeOverhead(prisma)));

    const big = SIZES[SIZES.length - 1]!;
    const bigName = `loss_${big}`;

    // Plain M4 as one GROUP BY pass: the floor for any approach that reads every point.
    const lowerBound: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await prisma.$transaction([
        prisma.$executeRaw`SET LOCAL jit = off`,
        prisma.$queryRaw`
          SELECT (step / ${Math.ceil(big / (MAX_POINTS / 4))}::int) AS b, min(step), max(step),
                 min(value), max(value) FILTER (WHERE value <> 'NaN'::float8)
          FROM metric_points WHERE job_id = ${job}::uuid AND name = ${bigName} GROUP BY 1`,
      ]);
      lowerBound.push(performance.now() - t);
    }
    lowerBound.sort((a, b) => a - b);
    rows.push(['M4 GROUP BY, SQL only (no argmin)', big.toLocaleString('en'), '250 buckets', `p50 ${percentile(lowerBound, 50).toFixed(1)} ms`, '', '']);

    if (CSV) {
    const csv = await measured(async () => {
      const res = await fetch(`${base}?name=${bigName}&format=csv`);
      let bytes = 0;
      let lines = 0;
      for await (const chunk of res.body!) {
        bytes += chunk.length;
        const buf = Buffer.from(chunk as Uint8Array);
        for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++;
      }
      return { bytes, lines };
    });
    rows.push(['full CSV export via HTTP (streamed)', big.toLocaleString('en'), `${(csv.result.lines - 1).toLocaleString('en')} rows, ${(csv.result.bytes / 2 ** 20).toFixed(1)} MiB`, `${(csv.ms / 1000).toFixed(2)} s`, '', `+${csv.peakMiB.toFixed(1)} MiB RSS`]);

    }
    await app.close();

    if (CSV) {
    const naive = await measured(async () => {
      const all = await prisma.$queryRaw<unknown[]>`
        SELECT step, epoch, value, time FROM metric_points WHERE job_id = ${job}::uuid AND name = ${bigName} ORDER BY step`;
      return all.length;
    });
    rows.push(['naive SELECT … ORDER BY step (in memory)', big.toLocaleString('en'), `${naive.result.toLocaleString('en')} rows`, `${(naive.ms / 1000).toFixed(2)} s`, '', `+${naive.peakMiB.toFixed(1)} MiB RSS`]);
    }
  } finally {
    await db.drop();
  }

  const head = ['what', 'series length', 'result', 'time / p50', 'p99', 'memory (peak RSS growth)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log(line(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
}

await main();
