// Dashboard benchmark (npm run bench:dashboard): how long the job page takes to open
// in Chromium for a finished job whose batch_loss has 10k, 100k and 1M points (plus
// 100 epochs of per-epoch metrics), against the real API on a fresh database. Timed
// from navigation start to every chart drawn (batch_loss downsampled by the API to
// the chart's width, the epoch tables filled). Also reports the bundle's size.
// Medians of BENCH_RUNS (default 5) per size, sizes interleaved run by run.
import { randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { buildApp } from '../src/api/app.js';
import { silentLogger } from '../src/logger.js';
import { createRedis } from '../src/queue/connection.js';
import { createTrainQueue } from '../src/queue/train-queue.js';
import { createTestDatabase } from '../tests/helpers/db.js';
import { testConfig } from '../tests/helpers/app.js';
import { launchChromium } from '../tests/helpers/browser.js';
import type { PrismaClient } from '../src/db/client.js';

const SIZES = [10_000, 100_000, 1_000_000];
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ROLLUP_TRIGGERS = ['metric_rollups_insert', 'metric_rollups_update', 'metric_rollups_delete'];
const EPOCH_NAMES = ['train_loss', 'val_loss', 'train_accuracy', 'val_accuracy', 'learning_rate', 'samples_per_second', 'grad_norm/0', 'grad_norm/1', 'grad_norm/2', 'update_ratio/0', 'update_ratio/1', 'update_ratio/2'];

async function insertJob(prisma: PrismaClient, n: number): Promise<string> {
  const id = randomUUID();
  const spec = { name: `bench-${n}`, model: { layers: [{ type: 'dense', units: 64, activation: 'sigmoid' }, { type: 'dense', units: 64, activation: 'sigmoid' }, { type: 'dense', units: 10, activation: 'softmax' }] }, training: { epochs: 100 } };
  await prisma.$executeRaw`
    INSERT INTO jobs (id, name, status, spec, spec_hash, attempt, started_at, finished_at)
    VALUES (${id}::uuid, ${`bench-${n}`}, 'succeeded', ${JSON.stringify(spec)}::jsonb, 'x', 1, now(), now())`;
  const stepsPerEpoch = n / 100;
  await prisma.$transaction([
    prisma.$executeRaw`SET LOCAL session_replication_role = replica`,
    prisma.$executeRaw`
      INSERT INTO metric_points (job_id, name, step, epoch, value)
      SELECT ${id}::uuid, 'batch_loss', s, 1 + s / ${stepsPerEpoch}::int,
             CASE WHEN s % 9973 = 0 THEN 5 ELSE 2.0 * exp(-s::float8 / ${n / 5}) + random() * 0.1 END
      FROM generate_series(0, ${n - 1}::int) s`,
    prisma.$executeRaw`
      INSERT INTO metric_points (job_id, name, step, epoch, value)
      SELECT ${id}::uuid, name, e * ${stepsPerEpoch}::int, e, 0.01 + random()
      FROM generate_series(1, 100) e, unnest(${EPOCH_NAMES}::text[]) name`,
  ], { timeout: 600_000 });
  return id;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const assets = 'dist/dashboard/assets';
  for (const f of readdirSync(assets).filter((f) => !f.endsWith('.map'))) {
    const raw = statSync(`${assets}/${f}`).size;
    console.log(`bundle ${f}: ${(raw / 1024).toFixed(1)} KiB, ${(gzipSync(readFileSync(`${assets}/${f}`)).length / 1024).toFixed(1)} KiB gzipped`);
  }
  const db = await createTestDatabase('bench-dashboard');
  const config = testConfig(db.url);
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1 });
  const queue = createTrainQueue(redis, config.queuePrefix);
  const app = await buildApp({ config, prisma: db.prisma, queue, redis, logger: silentLogger() });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const browser = await launchChromium();
  try {
    for (const t of ROLLUP_TRIGGERS) await db.prisma.$executeRawUnsafe(`ALTER TABLE metric_points ENABLE ALWAYS TRIGGER ${t}`);
    const jobs = new Map<number, string>();
    for (const n of SIZES) jobs.set(n, await insertJob(db.prisma, n));
    await db.prisma.$executeRawUnsafe('VACUUM ANALYZE metric_points');
    const times = new Map<number, number[]>(SIZES.map((n) => [n, []]));
    const batchTimes = new Map<number, number[]>(SIZES.map((n) => [n, []]));
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${url}/`); // warm the asset cache as a returning user has it
    for (let run = 0; run < RUNS; run++) {
      for (const n of SIZES) {
        await page.goto(`${url}/jobs/${jobs.get(n)}`);
        await page.waitForFunction(() => Number(document.getElementById('batch-info')?.dataset.points) > 0
          && document.querySelectorAll('#loss .numbers tbody tr').length === 100
          && document.querySelectorAll('#grad-norms rect.heatmap-cell').length === 300, null, { timeout: 60_000 });
        const [ms, batchMs] = await page.evaluate(() => [
          performance.now(),
          (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) => r.name.includes('batch_loss') && r.name.includes('maxPoints')).map((r) => r.duration)[0] ?? NaN,
        ]);
        times.get(n)!.push(ms);
        batchTimes.get(n)!.push(batchMs!);
      }
    }
    for (const n of SIZES) {
      const t = times.get(n)!;
      console.log(`job page, batch_loss ${n.toLocaleString()} points: median ${median(t).toFixed(0)} ms to every chart drawn (min ${Math.min(...t).toFixed(0)}, max ${Math.max(...t).toFixed(0)}, ${RUNS} runs); its downsampled batch_loss request ${median(batchTimes.get(n)!).toFixed(0)} ms`);
    }
    console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.availableParallelism()} cores`);
  } finally {
    await browser.close();
    await app.close();
    await queue.close();
    redis.disconnect();
    await db.drop();
  }
}

await main();
