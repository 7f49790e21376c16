// Metric-history benchmark (npm run bench:metrics): series of 10k, 100k and 1M
// points in a fresh database, then through the real HTTP route (a listening
// Fastify server with the metrics routes, fetch() as the client):
//   - latency of a maxPoints=1000 fetch (p50/p99) per series length,
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

const SIZES = [10_000, 100_000, 1_000_000];
const MAX_POINTS = 1000;
const RUNS = Number(process.env.BENCH_RUNS ?? 30);

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
  // The foreign-key trigger per row dominates a bulk insert; the job row exists, so skip it.
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

async function main(): Promise<void> {
  const db = await createTestDatabase('metrics-bench');
  const rows: string[][] = [];
  try {
    const prisma = db.prisma;
    const job = await insertJob(prisma, randomUUID());
    const t0 = performance.now();
    for (const n of SIZES) await insertSeries(prisma, job, `loss_${n}`, n);
    await prisma.$executeRawUnsafe('VACUUM ANALYZE metric_points');
    console.log(`inserted ${SIZES.map((n) => n.toLocaleString('en')).join(' + ')} points in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

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

    await app.close();

    const naive = await measured(async () => {
      const all = await prisma.$queryRaw<unknown[]>`
        SELECT step, epoch, value, time FROM metric_points WHERE job_id = ${job}::uuid AND name = ${bigName} ORDER BY step`;
      return all.length;
    });
    rows.push(['naive SELECT … ORDER BY step (in memory)', big.toLocaleString('en'), `${naive.result.toLocaleString('en')} rows`, `${(naive.ms / 1000).toFixed(2)} s`, '', `+${naive.peakMiB.toFixed(1)} MiB RSS`]);
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
