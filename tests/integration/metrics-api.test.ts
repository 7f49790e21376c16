import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertJob, insertPoints, metricsApp, range, type JsonSeries } from './metrics-helpers.js';

interface History {
  series: JsonSeries[];
  nextCursor: string | null;
}

interface ErrorBody {
  error: { code: string; message: string; details: { pointer: string; message: string }[] };
}

describe('metric history routes', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let job: string;
  let other: string;

  before(async () => {
    db = await createTestDatabase('metrics-api');
    app = await metricsApp(db.prisma);
    job = await insertJob(db.prisma);
    other = await insertJob(db.prisma);
    await insertPoints(db.prisma, job, 'val_loss', range(0, 30).map((e) => e * 100), range(0, 30).map((e) => 1 / (e + 1)));
    await insertPoints(db.prisma, job, 'train_loss', range(0, 30).map((e) => e * 100), range(0, 30).map((e) => 2 / (e + 1)));
    await insertPoints(db.prisma, other, 'val_loss', range(0, 10).map((e) => e * 100), range(0, 10).map((e) => 3 / (e + 1)));
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  test('a page walk sees every point exactly once while the series is appended to between pages', async () => {
    const walker = await insertJob(db.prisma);
    await insertPoints(db.prisma, walker, 'batch_loss', range(0, 1000), range(0, 1000).map((s) => s / 1000));
    await insertPoints(db.prisma, walker, 'a_first', range(0, 50), range(0, 50));
    const seen: string[] = [];
    let cursor: string | null = null;
    let next = 1000;
    let pages = 0;
    do {
      const url: string = `/v1/jobs/${walker}/metrics?limit=97${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as History;
      for (const s of body.series) for (const p of s.points) seen.push(`${s.name}:${p.step}`);
      cursor = body.nextCursor;
      pages++;
      // a worker writes more points (the next steps) while the client is paging
      if (pages < 12) {
        await insertPoints(db.prisma, walker, 'batch_loss', range(next, 25), range(next, 25));
        next += 25;
      }
    } while (cursor !== null);
    assert.equal(new Set(seen).size, seen.length, 'no point repeated');
    const expected = [...range(0, 50).map((s) => `a_first:${s}`), ...range(0, next).map((s) => `batch_loss:${s}`)];
    assert.deepEqual(seen, expected, 'every point, in (name, step) order, including the appended ones');
  });

  test('pages restricted by name and step range honour both bounds inclusively', async () => {
    const res = await app.inject({ url: `/v1/jobs/${job}/metrics?name=val_loss&from=500&to=1500` });
    const body = res.json() as History;
    assert.equal(body.series.length, 1);
    assert.deepEqual(body.series[0]!.points.map((p) => p.step), range(5, 11).map((e) => e * 100));
    assert.equal(body.nextCursor, null);
    assert.equal(body.series[0]!.downsampled, false);
    const p = body.series[0]!.points[0]!;
    assert.equal(p.epoch, 5);
    assert.equal(p.value, 1 / 6);
    assert.match(p.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('repeated name parameters select several series', async () => {
    const res = await app.inject({ url: `/v1/jobs/${job}/metrics?name=val_loss&name=train_loss&to=200` });
    const body = res.json() as History;
    assert.deepEqual(body.series.map((s) => [s.name, s.points.length]), [['train_loss', 3], ['val_loss', 3]]);
  });

  test('CSV export streams every point with a header, via format=csv or Accept: text/csv', async () => {
    const big = await insertJob(db.prisma);
    const n = 25_003; // more than two of the export's 10,000-point batches
    await insertPoints(db.prisma, big, 'batch_loss', range(0, n), range(0, n).map((s) => (s === 7 ? NaN : s / 2)));
    await insertPoints(db.prisma, big, 'odd,"name"', [1], [Infinity]);
    for (const req of [{ url: `/v1/jobs/${big}/metrics?format=csv` }, { url: `/v1/jobs/${big}/metrics`, headers: { accept: 'text/csv' } }]) {
      const res = await app.inject(req);
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/csv/);
      const lines = res.body.trimEnd().split('\n');
      assert.equal(lines[0], 'name,step,epoch,value,time');
      assert.equal(lines.length, 1 + n + 1);
      assert.equal(lines[1], 'batch_loss,0,0,0,2026-01-01T00:00:00.000Z');
      assert.equal(lines[8], 'batch_loss,7,0,NaN,2026-01-01T00:00:07.000Z');
      assert.equal(lines[n], `batch_loss,${n - 1},${Math.floor((n - 1) / 100)},${(n - 1) / 2},${new Date(Date.UTC(2026, 0, 1) + (n - 1) * 1000).toISOString()}`);
      assert.equal(lines[n + 1], '"odd,""name""",1,0,Infinity,2026-01-01T00:00:01.000Z');
    }
    const reduced = await app.inject({ url: `/v1/jobs/${big}/metrics?format=csv&name=batch_loss&maxPoints=100` });
    const rows = reduced.body.trimEnd().split('\n');
    assert.ok(rows.length - 1 <= 100 && rows.length - 1 >= 50);
    assert.ok(rows.includes('batch_loss,7,0,NaN,2026-01-01T00:00:07.000Z'));
  });

  test('several jobs in one call: one series per (job, name), carrying jobId', async () => {
    const res = await app.inject({ url: `/v1/metrics?job=${job}&job=${other}&name=val_loss&maxPoints=8` });
    assert.equal(res.statusCode, 200, res.body);
    const { series } = res.json() as { series: JsonSeries[] };
    assert.deepEqual(series.map((s) => [s.jobId, s.name, s.downsampled]), [[job, 'val_loss', true], [other, 'val_loss', true]]);
    assert.ok(series.every((s) => s.points.length <= 8));
    assert.equal(series[0]!.points[0]!.value, 1);
    assert.equal(series[1]!.points[0]!.value, 3);
    assert.equal(series[1]!.points[series[1]!.points.length - 1]!.step, 900);
  });

  test('the names endpoint lists each recorded name with its count and step span', async () => {
    const res = await app.inject({ url: `/v1/jobs/${job}/metrics/names` });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      items: [
        { name: 'train_loss', count: 30, minStep: 0, maxStep: 2900 },
        { name: 'val_loss', count: 30, minStep: 0, maxStep: 2900 },
      ],
    });
  });

  test('an unknown job is a 404 in the one error shape, on every route', async () => {
    const missing = randomUUID();
    for (const url of [`/v1/jobs/${missing}/metrics`, `/v1/jobs/${missing}/metrics/names`, `/v1/jobs/not-a-uuid/metrics`, `/v1/jobs/${missing}/metrics?format=csv`]) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 404, url);
      const body = res.json() as ErrorBody;
      assert.equal(body.error.code, 'NOT_FOUND');
      assert.ok(Array.isArray(body.error.details));
    }
    const res = await app.inject({ url: `/v1/metrics?job=${job}&job=${missing}` });
    assert.equal(res.statusCode, 404);
    assert.deepEqual((res.json() as ErrorBody).error.details, [{ pointer: '/job/1', message: `no job with id ${missing}` }]);
  });

  test('bad parameters are 400s that point at the field', async () => {
    const cases: [string, string][] = [
      [`/v1/jobs/${job}/metrics?from=10&to=5`, '/to'],
      [`/v1/jobs/${job}/metrics?cursor=bogus`, '/cursor'],
      [`/v1/jobs/${job}/metrics?limit=0`, '/limit'],
      [`/v1/jobs/${job}/metrics?maxPoints=abc`, '/maxPoints'],
      [`/v1/jobs/${job}/metrics?maxPoints=100&cursor=WyJhIiwxXQ`, '/cursor'],
      [`/v1/jobs/${job}/metrics?format=csv&limit=10`, '/limit'],
      [`/v1/metrics?name=val_loss`, '/job'],
    ];
    for (const [url, pointer] of cases) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      const body = res.json() as ErrorBody;
      assert.ok(body.error.details.some((d) => d.pointer === pointer), `${url}: ${JSON.stringify(body.error.details)}`);
    }
  });
});
