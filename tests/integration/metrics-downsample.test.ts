import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertJob, insertPoints, metricsApp, range, toNumber, type JsonSeries } from './metrics-helpers.js';
import { usesRollups } from '../../src/db/metric-queries.js';

/**
 * M4 as the API documents it, in plain JS: the steps a reduced series must consist
 * of. Buckets are B equal step ranges from the first step, or, when such a bucket
 * would be at least a rollup block (1024 steps) wide, the blocks in range dealt out
 * to min(B, blocks) buckets: block b (= floor(step / 1024)) to bucket
 * floor((b - first block) * buckets / blocks).
 */
function expectedSteps(steps: number[], values: number[], maxPoints: number): number[] {
  if (steps.length <= maxPoints) return steps;
  const pick = (buckets: number): number[] => {
    const lo = steps[0]!;
    const hi = steps[steps.length - 1]!;
    const w = Math.floor((hi - lo) / buckets) + 1;
    const blo = Math.floor(lo / 1024);
    const nblocks = Math.floor(hi / 1024) - blo + 1;
    const nb = Math.min(buckets, nblocks);
    const bucketOf = w >= 1024
      ? (s: number) => Math.floor(((Math.floor(s / 1024) - blo) * nb) / nblocks)
      : (s: number) => Math.floor((s - lo) / w);
    const chosen = new Set<number>();
    const byBucket = new Map<number, number[]>();
    steps.forEach((s, i) => {
      const b = bucketOf(s);
      if (!byBucket.has(b)) byBucket.set(b, []);
      byBucket.get(b)!.push(i);
    });
    for (const idx of byBucket.values()) {
      chosen.add(steps[idx[0]!]!);
      chosen.add(steps[idx[idx.length - 1]!]!);
      const finite = idx.filter((i) => !Number.isNaN(values[i]!));
      if (finite.length > 0) {
        const min = finite.reduce((m, i) => Math.min(m, values[i]!), Infinity);
        const max = finite.reduce((m, i) => Math.max(m, values[i]!), -Infinity);
        chosen.add(steps[finite.find((i) => values[i] === min)!]!);
        chosen.add(steps[finite.find((i) => values[i] === max)!]!);
      }
      const nan = idx.find((i) => Number.isNaN(values[i]!));
      if (nan !== undefined) chosen.add(steps[nan]!);
    }
    return [...chosen].sort((a, b) => a - b);
  };
  const m4 = pick(Math.floor(maxPoints / 4));
  return m4.length <= maxPoints ? m4 : pick(Math.max(1, Math.floor(maxPoints / 5)));
}

describe('GET /v1/jobs/:id/metrics?maxPoints (M4 in Postgres)', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let job: string;

  async function fetchSeries(name: string, query = ''): Promise<JsonSeries> {
    const res = await app.inject({ url: `/v1/jobs/${job}/metrics?name=${encodeURIComponent(name)}&${query}` });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { series: JsonSeries[]; nextCursor: string | null };
    assert.equal(body.nextCursor, null);
    assert.equal(body.series.length, 1);
    return body.series[0]!;
  }

  /** Inserts the series, fetches it reduced, and checks it against the JS reference. */
  async function checkAgainstReference(name: string, steps: number[], values: number[], maxPoints: number): Promise<JsonSeries> {
    await insertPoints(db.prisma, job, name, steps, values);
    const series = await fetchSeries(name, `maxPoints=${maxPoints}`);
    const got = series.points.map((p) => p.step);
    assert.ok(got.length <= maxPoints, `${got.length} points for maxPoints=${maxPoints}`);
    assert.deepEqual(got, expectedSteps(steps, values, maxPoints));
    assert.equal(series.downsampled, steps.length > maxPoints);
    const valueAt = new Map(steps.map((s, i) => [s, values[i]!]));
    for (const p of series.points) {
      assert.ok(Object.is(toNumber(p.value), valueAt.get(p.step)), `value at step ${p.step} is the stored one`);
      assert.equal(p.epoch, Math.floor(p.step / 100));
    }
    return series;
  }

  before(async () => {
    db = await createTestDatabase('metrics-downsample');
    app = await metricsApp(db.prisma);
  });
  // every test writes its own series into its own job: none reads another's leftovers
  beforeEach(async () => {
    job = await insertJob(db.prisma);
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  test('a single spike and a single dip survive a 100x reduction, with the first and last point', async () => {
    const steps = range(0, 10_000);
    const values = steps.map((s) => (s === 7777 ? 100 : s === 3333 ? -50 : 0.5));
    const s = await checkAgainstReference('spike', steps, values, 100);
    const byStep = new Map(s.points.map((p) => [p.step, p.value]));
    assert.equal(byStep.get(7777), 100);
    assert.equal(byStep.get(3333), -50);
    assert.ok(byStep.has(0) && byStep.has(9999));
  });

  test('a monotone series keeps its first and last point and stays within the cap', async () => {
    const steps = range(10, 5_000);
    const s = await checkAgainstReference('monotone', steps, steps.map((x) => x * 0.25), 40);
    assert.equal(s.points[0]!.step, 10);
    assert.equal(s.points[s.points.length - 1]!.step, 5_009);
  });

  test('a constant series reduces to first and last of each bucket (min and max coincide and are deduplicated)', async () => {
    const steps = range(0, 3_000);
    const s = await checkAgainstReference('constant', steps, steps.map(() => 1), 40);
    assert.equal(s.points.length, 20);
  });

  test('NaN never hides the real maximum and stays visible; ±Infinity count as extremes', async () => {
    const steps = range(0, 2_000);
    const values = steps.map((x) => Math.sin(x / 30));
    for (let x = 400; x < 420; x++) values[x] = NaN; // a NaN gap in the same bucket as the spike
    values[430] = 42;
    values[1500] = Infinity;
    values[1600] = -Infinity;
    const s = await checkAgainstReference('nan-gaps', steps, values, 40);
    const byStep = new Map(s.points.map((p) => [p.step, p.value]));
    assert.equal(byStep.get(430), 42);
    assert.equal(byStep.get(400), 'NaN');
    assert.equal(byStep.get(1500), 'Infinity');
    assert.equal(byStep.get(1600), '-Infinity');
  });

  test('when every bucket also holds a NaN the series is rebucketed to stay within maxPoints', async () => {
    const steps = range(0, 1_000);
    const values = steps.map((x) => (x % 50 === 25 ? NaN : Math.cos(x / 7) * (1 + (x % 13))));
    const s = await checkAgainstReference('nan-everywhere', steps, values, 20);
    assert.ok(s.points.length <= 20);
    assert.ok(s.points.some((p) => p.value === 'NaN'));
  });

  test('random series with sparse steps match the reference for several maxPoints', async () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const steps: number[] = [];
    for (let s = 5; steps.length < 4_000; s += 1 + Math.floor(rand() * 9)) steps.push(s);
    const values = steps.map(() => (rand() < 0.01 ? NaN : rand() * 10 - 5));
    await checkAgainstReference('random', steps, values, 1000);
    for (const maxPoints of [4, 7, 64, 333]) {
      const s = await fetchSeries('random', `maxPoints=${maxPoints}`);
      assert.ok(s.points.length <= maxPoints);
      const expected = expectedSteps(steps, values, maxPoints);
      if (expected.length <= maxPoints) assert.deepEqual(s.points.map((p) => p.step), expected);
      // else: a single bucket of 5 with a NaN extra, which is dropped (documented)
      else assert.ok(s.points.every((p) => expected.includes(p.step) && p.value !== 'NaN'));
      assert.equal(s.points[0]!.step, steps[0]);
      assert.equal(s.points[s.points.length - 1]!.step, steps[steps.length - 1]);
    }
  });

  test('a series with no more than maxPoints points comes back whole and not downsampled', async () => {
    await insertPoints(db.prisma, job, 'short', range(0, 50), range(0, 50));
    const s = await fetchSeries('short', 'maxPoints=50');
    assert.equal(s.downsampled, false);
    assert.deepEqual(s.points.map((p) => p.step), range(0, 50));
  });

  test('from/to restrict the reduced series to the step range, inclusive', async () => {
    const steps = range(0, 10_000);
    await insertPoints(db.prisma, job, 'spike', steps, steps.map((x) => (x === 7777 ? 100 : x === 3333 ? -50 : 0.5)));
    const s = await fetchSeries('spike', 'maxPoints=20&from=3000&to=3999');
    assert.equal(s.points[0]!.step, 3000);
    assert.equal(s.points[s.points.length - 1]!.step, 3999);
    assert.ok(s.points.every((p) => p.step >= 3000 && p.step <= 3999));
    assert.ok(s.points.some((p) => p.step === 3333 && p.value === -50));
    assert.ok(s.points.length <= 20);
  });

  test('without a name every recorded series is reduced, in name order', async () => {
    for (const name of ['spike', 'constant', 'random', 'monotone']) await insertPoints(db.prisma, job, name, range(0, 100), range(0, 100));
    await insertPoints(db.prisma, job, 'short', range(0, 5), range(0, 5));
    const res = await app.inject({ url: `/v1/jobs/${job}/metrics?maxPoints=8` });
    assert.equal(res.statusCode, 200);
    const series = (res.json() as { series: JsonSeries[] }).series;
    assert.deepEqual(series.map((s) => [s.name, s.downsampled]), [
      ['constant', true], ['monotone', true], ['random', true], ['short', false], ['spike', true],
    ]);
    assert.ok(series.every((s) => s.points.length <= 8));
  });

  test('long series read from rollups: a lone spike, a NaN block and the true maximum survive, as in the reference', async () => {
    // 200k points; the spike sits in the middle of a block, next to a whole block of
    // NaN, and the series' true maximum is a tie (the earliest step must win).
    const n = 200_000;
    const steps = range(0, n).map((i) => i * 3);
    const values = steps.map((s) => 1 + Math.sin(s / 5000) * 0.1);
    const mid = n / 2 + 517;
    values[mid] = 1e6;
    const nanBlock = Math.floor(steps[mid]! / 1024) + 2;
    steps.forEach((s, i) => {
      if (Math.floor(s / 1024) === nanBlock) values[i] = NaN;
    });
    values[n - 10] = 2e6;
    values[n - 5] = 2e6;
    values[10] = -3;
    await insertPoints(db.prisma, job, 'long', steps, values);
    for (const maxPoints of [1000, 400, 40, 5]) {
      assert.ok(usesRollups(steps[0]!, steps[n - 1]!, Math.floor(maxPoints / 4)), `maxPoints=${maxPoints} takes the rollup path`);
      const s = await fetchSeries('long', `maxPoints=${maxPoints}`);
      const got = s.points.map((p) => p.step);
      assert.ok(got.length <= maxPoints, `${got.length} points for maxPoints=${maxPoints}`);
      const expected = expectedSteps(steps, values, maxPoints);
      if (expected.length <= maxPoints) assert.deepEqual(got, expected, `maxPoints=${maxPoints}`);
      else assert.ok(got.every((x) => expected.includes(x)));
      const byStep = new Map(s.points.map((p) => [p.step, p]));
      // (with a single bucket, maxPoints=5, the spike is not the series' maximum)
      if (maxPoints >= 40) assert.equal(byStep.get(steps[mid]!)?.value, 1e6, `the spike at maxPoints=${maxPoints}`);
      assert.equal(byStep.get(steps[n - 10]!)?.value, 2e6, 'the true maximum, earliest of the tie');
      assert.equal(byStep.get(steps[10]!)?.value, -3);
      assert.ok(byStep.has(0) && byStep.has(steps[n - 1]!), 'first and last point');
      if (maxPoints >= 40) assert.ok(s.points.some((p) => p.value === 'NaN'), 'the NaN block stays visible');
      for (const p of s.points) {
        const i = p.step / 3;
        assert.ok(Object.is(toNumber(p.value), values[i]), `value at ${p.step} is the stored one`);
        assert.equal(p.epoch, Math.floor(p.step / 100));
        assert.equal(p.time, new Date(Date.UTC(2026, 0, 1) + p.step * 1000).toISOString());
      }
    }
  });

  test('a step range that cuts blocks at both ends reads those blocks from points, the rest from rollups', async () => {
    const steps = range(0, 200_000).map((i) => i * 3);
    const from = 1024 * 50 + 700;
    const to = 1024 * 500 + 3;
    const inside = steps.map((s, i) => [s, i] as const).filter(([s]) => s >= from && s <= to);
    const values = steps.map((s) => 1 + Math.sin(s / 5000) * 0.1);
    // extremes just outside the range must not leak in; just inside they must be kept
    const firstIn = inside[0]![1];
    const lastIn = inside[inside.length - 1]![1];
    for (const [i, v] of [[firstIn - 1, 99], [lastIn + 1, 99], [firstIn + 2, 50], [lastIn - 1, -50]] as const) values[i] = v;
    await insertPoints(db.prisma, job, 'cut', steps, values);
    const maxPoints = 200;
    assert.ok(usesRollups(steps[firstIn]!, steps[lastIn]!, maxPoints / 4));
    const s = await fetchSeries('cut', `maxPoints=${maxPoints}&from=${from}&to=${to}`);
    const expected = expectedSteps(inside.map(([x]) => x), inside.map(([, i]) => values[i]!), maxPoints);
    assert.deepEqual(s.points.map((p) => p.step), expected);
    assert.equal(s.points[0]!.step, steps[firstIn]);
    assert.equal(s.points[s.points.length - 1]!.step, steps[lastIn]);
    assert.ok(s.points.some((p) => p.value === 50) && s.points.some((p) => p.value === -50));
    assert.ok(!s.points.some((p) => p.value === 99));
  });

  test('maxPoints below 4 is a 400 with a pointer', async () => {
    const res = await app.inject({ url: `/v1/jobs/${job}/metrics?maxPoints=3` });
    assert.equal(res.statusCode, 400);
    const body = res.json() as { error: { code: string; details: { pointer: string }[] } };
    assert.equal(body.error.code, 'VALIDATION_FAILED');
    assert.equal(body.error.details[0]!.pointer, '/maxPoints');
  });
});
