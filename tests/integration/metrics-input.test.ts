// Hostile and ordinary input on the metric routes (issue 16, part 2): every problem
// is a 400/404/406 in the one error shape, decided before the first byte (CSV
// included), and an unknown metric name is answered the same way on every path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { encodeNameStepCursor, encodeTimeIdCursor } from '../../src/db/cursor.js';
import { insertJob, insertPoints, metricsApp, range, type JsonSeries } from './metrics-helpers.js';

interface ErrorBody {
  error: { code: string; message: string; details: { pointer: string; message: string }[] };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('metric routes refuse what they cannot answer', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let job: string;

  before(async () => {
    db = await createTestDatabase('metrics-input');
    app = await metricsApp(db.prisma);
    job = await insertJob(db.prisma);
    await insertPoints(db.prisma, job, 'val_loss', range(0, 30), range(0, 30).map((s) => 1 / (s + 1)));
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  async function expectError(req: { url: string; headers?: Record<string, string> }, status: number, pointer: string | null, message?: RegExp) {
    const res = await app.inject(req);
    assert.equal(res.statusCode, status, `${req.url} ${JSON.stringify(req.headers ?? {})}: ${res.body}`);
    assert.match(String(res.headers['content-type']), /^application\/json/, `${req.url}: an error is JSON, never a started CSV`);
    const body = res.json() as ErrorBody;
    assert.equal(typeof body.error.code, 'string');
    assert.ok(Array.isArray(body.error.details));
    if (pointer !== null) {
      const detail = body.error.details.find((d) => d.pointer === pointer);
      assert.ok(detail, `${req.url}: no detail at ${pointer} in ${JSON.stringify(body.error.details)}`);
      if (message) assert.match(detail.message, message);
    }
    return body;
  }

  test('a metric name with NUL is a 400 at its index on every path (JSON, CSV, maxPoints, several jobs)', async () => {
    const nul = /NUL/;
    for (const url of [
      `/v1/jobs/${job}/metrics?name=%00`,
      `/v1/jobs/${job}/metrics?name=%00&maxPoints=10`,
      `/v1/jobs/${job}/metrics?name=%00&format=csv`,
      `/v1/jobs/${job}/metrics?name=%00&format=csv&maxPoints=10`,
      `/v1/metrics?job=${job}&name=%00`,
    ]) await expectError({ url }, 400, '/name/0', nul);
    await expectError({ url: `/v1/jobs/${job}/metrics?name=%00`, headers: { accept: 'text/csv' } }, 400, '/name/0', nul);
    await expectError({ url: `/v1/jobs/${job}/metrics?name=val_loss&name=a%00b` }, 400, '/name/1', nul);
    await expectError({ url: `/v1/metrics?job=${job}&name=val_loss&name=%00` }, 400, '/name/1', nul);
  });

  test('a crafted cursor, an unbound one and one of another list are 400s at /cursor', async () => {
    for (const cursor of [
      b64(['metrics', 'val_loss', 2 ** 40]),
      b64(['val_loss', 2 ** 40]), // the old, unbound spelling
      b64(['metrics', 'val_loss', -1]),
      b64(['metrics', 'val\u0000loss', 1]),
      encodeTimeIdCursor('jobs', { createdAt: new Date(), id: randomUUID() }),
      encodeNameStepCursor('checkpoints', { name: 'val_loss', step: 3 }),
      'bogus',
    ]) {
      await expectError({ url: `/v1/jobs/${job}/metrics?cursor=${cursor}` }, 400, '/cursor', /cursor/);
    }
    // and the cursor a page hands out works
    const first = (await app.inject({ url: `/v1/jobs/${job}/metrics?limit=10` })).json() as { nextCursor: string };
    const second = await app.inject({ url: `/v1/jobs/${job}/metrics?limit=10&cursor=${first.nextCursor}` });
    assert.equal(second.statusCode, 200);
    assert.equal((second.json() as { series: JsonSeries[] }).series[0]!.points[0]!.step, 10);
  });

  test('integers are refused as written, not after truncation: maxPoints=1.5, from=1.5, limit=0x10', async () => {
    await expectError({ url: `/v1/jobs/${job}/metrics?maxPoints=1.5` }, 400, '/maxPoints', /^must be an integer \(from 4 to 100000\)$/);
    await expectError({ url: `/v1/metrics?job=${job}&maxPoints=1.5` }, 400, '/maxPoints', /^must be an integer/);
    await expectError({ url: `/v1/jobs/${job}/metrics?from=1.5` }, 400, '/from', /^must be an integer/);
    await expectError({ url: `/v1/jobs/${job}/metrics?limit=0x10` }, 400, '/limit', /^must be an integer \(from 1 to 10000\)$/);
    await expectError({ url: `/v1/jobs/${job}/metrics?maxPoints=3` }, 400, '/maxPoints', /4/);
  });

  test('every invalid CSV request is refused before the first byte, in the error shape', async () => {
    const missing = randomUUID();
    const cases: [string, number, string | null][] = [
      [`/v1/jobs/${job}/metrics?format=csv&name=%00`, 400, '/name/0'],
      [`/v1/jobs/${job}/metrics?format=csv&from=10&to=5`, 400, '/to'],
      [`/v1/jobs/${job}/metrics?format=csv&from=1.5`, 400, '/from'],
      [`/v1/jobs/${job}/metrics?format=csv&maxPoints=1.5`, 400, '/maxPoints'],
      [`/v1/jobs/${job}/metrics?format=csv&cursor=${b64(['metrics', 'val_loss', 2 ** 40])}`, 400, '/cursor'],
      [`/v1/jobs/${job}/metrics?format=csv&limit=10`, 400, '/limit'],
      [`/v1/jobs/${job}/metrics?format=csv&name=${'x'.repeat(300)}`, 400, '/name/0'],
      [`/v1/jobs/${missing}/metrics?format=csv`, 404, null],
      [`/v1/jobs/not-a-uuid/metrics?format=csv`, 404, null],
      [`/v1/jobs/${missing}/metrics?format=csv&maxPoints=10`, 404, null],
    ];
    for (const [url, status, pointer] of cases) {
      await expectError({ url }, status, pointer);
      await expectError({ url: url.replace('format=csv&', ''), headers: { accept: 'text/csv' } }, status, pointer);
    }
  });

  test('Accept q-values choose JSON or CSV; an Accept refusing both is a 406 in the error shape', async () => {
    const kind = async (accept: string, url = `/v1/jobs/${job}/metrics?name=val_loss`) => {
      const res = await app.inject({ url, headers: { accept } });
      assert.equal(res.statusCode, 200, `${accept}: ${res.body}`);
      return String(res.headers['content-type']).split(';')[0];
    };
    assert.equal(await kind('text/csv;q=0.1, application/json'), 'application/json');
    assert.equal(await kind('application/json;q=0, text/csv'), 'text/csv');
    assert.equal(await kind('*/*'), 'application/json');
    assert.equal(await kind('text/*'), 'text/csv');
    assert.equal(await kind('text/csv;q=0.1, application/json', `/v1/jobs/${job}/metrics?name=val_loss&maxPoints=10`), 'application/json');
    assert.equal(await kind('application/json;q=0, text/csv', `/v1/jobs/${job}/metrics?name=val_loss&maxPoints=10`), 'text/csv');
    // format= is explicit and wins over Accept
    assert.equal(await kind('application/json', `/v1/jobs/${job}/metrics?format=csv`), 'text/csv');

    const body = await expectError({ url: `/v1/jobs/${job}/metrics`, headers: { accept: 'text/html, application/xml;q=0.9' } }, 406, '');
    assert.equal(body.error.code, 'NOT_ACCEPTABLE');
    await expectError({ url: `/v1/jobs/${job}/metrics`, headers: { accept: 'application/json;q=0, text/csv;q=0' } }, 406, '');
    await expectError({ url: `/v1/metrics?job=${job}`, headers: { accept: 'text/csv' } }, 406, '');
    await expectError({ url: `/v1/jobs/${job}/metrics/names`, headers: { accept: 'text/csv' } }, 406, '');
  });
});

describe('an unknown metric name is an empty series on every path', () => {
  let db: TestDatabase;
  let app: FastifyInstance;

  before(async () => {
    db = await createTestDatabase('metrics-names');
    app = await metricsApp(db.prisma);
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  test('JSON pages, maxPoints and several jobs list it as an empty series in name order; CSV has no lines for it', async () => {
    const job = await insertJob(db.prisma);
    await insertPoints(db.prisma, job, 'val_loss', range(0, 20), range(0, 20).map((s) => s / 2));
    const names = 'name=val_loss&name=nope';
    const shape = (series: JsonSeries[]) => series.map((s) => [s.name, s.points.length]);
    const expected = [['nope', 0], ['val_loss', 20]];

    const page = await app.inject({ url: `/v1/jobs/${job}/metrics?${names}` });
    assert.deepEqual(shape((page.json() as { series: JsonSeries[] }).series), expected);
    const reduced = await app.inject({ url: `/v1/jobs/${job}/metrics?${names}&maxPoints=100` });
    assert.deepEqual(shape((reduced.json() as { series: JsonSeries[] }).series), expected);
    const several = await app.inject({ url: `/v1/metrics?job=${job}&${names}` });
    assert.deepEqual(shape((several.json() as { series: JsonSeries[] }).series), expected);
    // only unknown names
    for (const url of [`/v1/jobs/${job}/metrics?name=nope`, `/v1/jobs/${job}/metrics?name=nope&maxPoints=10`, `/v1/metrics?job=${job}&name=nope`]) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.deepEqual(shape((res.json() as { series: JsonSeries[] }).series), [['nope', 0]], url);
    }
    // a step range without points answers the same way as an unknown name
    const empty = await app.inject({ url: `/v1/jobs/${job}/metrics?${names}&from=1000` });
    assert.deepEqual(shape((empty.json() as { series: JsonSeries[] }).series), [['nope', 0], ['val_loss', 0]]);
    const emptyReduced = await app.inject({ url: `/v1/jobs/${job}/metrics?${names}&from=1000&maxPoints=10` });
    assert.deepEqual(shape((emptyReduced.json() as { series: JsonSeries[] }).series), [['nope', 0], ['val_loss', 0]]);

    for (const url of [`/v1/jobs/${job}/metrics?${names}&format=csv`, `/v1/jobs/${job}/metrics?${names}&format=csv&maxPoints=100`]) {
      const lines = (await app.inject({ url })).body.trimEnd().split('\n');
      assert.equal(lines.length, 21, url);
      assert.ok(lines.slice(1).every((l) => l.startsWith('val_loss,')), url);
    }
  });

  test('a page walk meets each empty series once, on the page its name falls on', async () => {
    const job = await insertJob(db.prisma);
    await insertPoints(db.prisma, job, 'b', range(0, 10), range(0, 10));
    await insertPoints(db.prisma, job, 'x', range(0, 10), range(0, 10));
    const pages: [string, number][][] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/jobs/${job}/metrics?name=zzz&name=x&name=m&name=b&name=aaa&limit=7${cursor ? `&cursor=${cursor}` : ''}`;
      const body = (await app.inject({ url })).json() as { series: JsonSeries[]; nextCursor: string | null };
      pages.push(body.series.map((s) => [s.name, s.points.length]));
      cursor = body.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(pages, [
      [['aaa', 0], ['b', 7]],
      [['b', 3], ['m', 0], ['x', 4]],
      [['x', 6], ['zzz', 0]],
    ]);
  });
});
