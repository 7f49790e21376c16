// Input that used to break the API (issue 16): each answered in the one error shape,
// with a pointer where there is a field to point at, and nothing stored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { buildApp } from '../../src/api/app.js';
import { createRedis } from '../../src/queue/connection.js';
import { createTrainQueue } from '../../src/queue/train-queue.js';
import { authorize, createTestApp, submitJob, tinySpec, type TestApp } from '../helpers/app.js';

let h: TestApp;
before(async () => {
  h = await createTestApp('api-hostile');
});
after(async () => {
  await h?.close();
});

/** Every error answer: { error: { code, message, details: [{ pointer, message }] } } and nothing else. */
function assertErrorShape(body: any, code: string): void {
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'details', 'message']);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(Array.isArray(body.error.details));
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('job specs that used to be a 500 or train into a misleading failure', () => {
  test('a name with NUL or a lone surrogate is a 400 at /name, and nothing is stored', async () => {
    const before = await h.prisma.job.count();
    for (const name of ['nul \u0000 inside', 'half an emoji \ud83d']) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: tinySpec({ name }) });
      assert.equal(res.statusCode, 400, res.body);
      assertErrorShape(res.json(), 'INVALID_SPEC');
      assert.deepEqual(res.json().error.details.map((d: { pointer: string }) => d.pointer), ['/name']);
    }
    assert.equal(await h.prisma.job.count(), before);
  });

  test('inline features and regression labels beyond float32 are a 400 pointing at the number', async () => {
    const before = await h.prisma.job.count();
    const features = [[0, 0], [0, 1], [1, 0], [1, 1]];
    const cases = [
      { features: features.map((r, i) => (i === 3 ? [r[0], 1e39] : r)), labels: [0, 1, 1, 0], units: 2, loss: 'cross-entropy', pointer: '/dataset/features/3/1' },
      { features: features.map((r, i) => (i === 3 ? [r[0], -1e39] : r)), labels: [0, 1, 1, 0], units: 2, loss: 'cross-entropy', pointer: '/dataset/features/3/1' },
      { features, labels: [[0], [1], [1e39], [0]], units: 1, loss: 'mse', pointer: '/dataset/labels/2/0' },
    ];
    for (const c of cases) {
      const spec = tinySpec({
        dataset: { name: 'inline', features: c.features, labels: c.labels },
        model: { layers: [{ type: 'dense', units: 4, activation: 'tanh' }, { type: 'dense', units: c.units, activation: c.loss === 'mse' ? 'linear' : 'softmax' }] },
        loss: c.loss,
        training: { epochs: 1, batchSize: 2 },
      });
      const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: spec });
      assert.equal(res.statusCode, 400, res.body);
      const details = res.json().error.details;
      assert.deepEqual(details.map((d: { pointer: string }) => d.pointer), [c.pointer]);
      assert.match(details[0].message, /float32/);
    }
    assert.equal(await h.prisma.job.count(), before);
  });

  test('learningRate 1e999 (Infinity once parsed) is "too large", not "not null"', async () => {
    const body = JSON.stringify(tinySpec()).replace('"learningRate":0.01', '"learningRate":1e999');
    assert.match(body, /1e999/);
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: body });
    assert.equal(res.statusCode, 400, res.body);
    const [detail, ...rest] = res.json().error.details;
    assert.equal(rest.length, 0);
    assert.equal(detail.pointer, '/optimizer/learningRate');
    assert.doesNotMatch(detail.message, /null/);
    assert.match(detail.message, /too large/);
  });
});

describe('crafted cursors on GET /v1/jobs', () => {
  test('a year-0 timestamp, a pre-binding cursor and another list\'s cursor are each a 400 at /cursor', async () => {
    await submitJob(h, tinySpec({ name: 'cursor-a' }));
    await submitJob(h, tinySpec({ name: 'cursor-b' }));
    const id = randomUUID();
    const crafted = [
      b64url(['0000-01-01T00:00:00Z', id]), // the old, unbound form: used to reach Postgres as year 0 → 500
      b64url(['jobs', '0000-01-01T00:00:00.000Z', id]),
      b64url(['checkpoints', new Date().toISOString(), id]), // a cursor of another list
      b64url(['jobs', new Date().toISOString(), 'not-a-uuid']),
    ];
    for (const cursor of crafted) {
      const res = await h.app.inject({ method: 'GET', url: `/v1/jobs?cursor=${cursor}` });
      assert.equal(res.statusCode, 400, `${Buffer.from(cursor, 'base64url')}: ${res.body}`);
      assertErrorShape(res.json(), 'INVALID_CURSOR');
      assert.deepEqual(res.json().error.details.map((d: { pointer: string }) => d.pointer), ['/cursor']);
    }
    // the cursor the API hands out still pages
    const first = (await h.app.inject({ method: 'GET', url: '/v1/jobs?limit=1' })).json();
    assert.ok(first.nextCursor);
    const second = await h.app.inject({ method: 'GET', url: `/v1/jobs?limit=1&cursor=${first.nextCursor}` });
    assert.equal(second.statusCode, 200, second.body);
    assert.notEqual(second.json().items[0].id, first.items[0].id);
  });
});

describe('HTTP-level errors leave in the one error shape', () => {
  test('a body above the limit is a 413 that names the limit', async () => {
    const payload = `{"name":"${'a'.repeat(32 * 1024 * 1024)}"}`;
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload });
    assert.equal(res.statusCode, 413);
    assertErrorShape(res.json(), 'BODY_TOO_LARGE');
    assert.match(res.json().error.message, /32 MiB/);
  });

  test('JSON sent as text/plain is a 415 that says to send Content-Type: application/json', async () => {
    const res = await h.app.inject({
      method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify(tinySpec()),
    });
    assert.equal(res.statusCode, 415, res.body);
    assertErrorShape(res.json(), 'UNSUPPORTED_MEDIA_TYPE');
    assert.match(res.json().error.message, /Content-Type: application\/json/);
  });

  test('a wrong method on an existing path is a 405 with Allow; an unknown path stays 404', async () => {
    const list = await h.app.inject({ method: 'DELETE', url: '/v1/jobs' });
    assert.equal(list.statusCode, 405, list.body);
    assertErrorShape(list.json(), 'METHOD_NOT_ALLOWED');
    const allowList = String(list.headers.allow).split(', ');
    assert.ok(allowList.includes('GET') && allowList.includes('POST'), String(list.headers.allow));
    assert.ok(!allowList.includes('DELETE'));

    const one = await h.app.inject({ method: 'PUT', url: `/v1/jobs/${randomUUID()}` });
    assert.equal(one.statusCode, 405, one.body);
    assert.ok(String(one.headers.allow).split(', ').includes('GET'), String(one.headers.allow));

    const none = await h.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    assert.equal(none.statusCode, 404);
    assert.equal(none.headers.allow, undefined);
  });

  test('GET /v1/jobs/ (no id) is a 404 that says the id is missing', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/jobs/' });
    assert.equal(res.statusCode, 404, res.body);
    assertErrorShape(res.json(), 'NOT_FOUND');
    assert.doesNotMatch(res.json().error.message, /no job with id $/);
    assert.match(res.json().error.message, /no job id/);
  });

  test('a malformed percent-encoding in the path is a 400 BAD_URL', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/jobs/%E0%A4%A' });
    assert.equal(res.statusCode, 400, res.body);
    assertErrorShape(res.json(), 'BAD_URL');
  });

  test('an invalid header is "the headers are invalid", with the pointer', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: { 'idempotency-key': '' }, payload: tinySpec() });
    assert.equal(res.statusCode, 400, res.body);
    assertErrorShape(res.json(), 'VALIDATION_FAILED');
    assert.equal(res.json().error.message, 'the headers are invalid');
    assert.deepEqual(res.json().error.details.map((d: { pointer: string }) => d.pointer), ['/idempotency-key']);
  });

  test('headers above Node\'s limit are a 431 in the error shape (real socket)', async () => {
    const app = await buildApp({ config: h.config, prisma: h.prisma, queue: h.queue, redis: h.redis, logger: h.logger });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as net.AddressInfo;
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        let answer = '';
        socket.on('data', (chunk) => { answer += chunk.toString('utf8'); });
        socket.on('close', () => resolve(answer));
        socket.on('error', (err) => (answer ? resolve(answer) : reject(err)));
        socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
      });
      assert.match(raw, /^HTTP\/1\.1 431 /);
      const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
      assertErrorShape(body, 'HEADERS_TOO_LARGE');
      assert.match(body.error.message, /KiB/);
    } finally {
      await app.close();
    }
  });
});

describe('POST /v1/jobs when Redis is unreachable', () => {
  test('answers 503 QUEUE_UNAVAILABLE and leaves no job and no event behind', async () => {
    const redis = createRedis('redis://127.0.0.1:1', { maxRetriesPerRequest: 1, lazyConnect: true, connectionName: 'trainyard-test-down' });
    redis.on('error', () => {});
    const queue = createTrainQueue(redis, h.config.queuePrefix);
    queue.on('error', () => {});
    const app = authorize(await buildApp({ config: h.config, prisma: h.prisma, queue, redis, logger: h.logger }), h.adminKey);
    try {
      const jobsBefore = await h.prisma.job.count();
      const eventsBefore = await h.prisma.jobEvent.count();
      const res = await app.inject({ method: 'POST', url: '/v1/jobs', payload: tinySpec({ name: 'no-queue' }) });
      assert.equal(res.statusCode, 503, res.body);
      assertErrorShape(res.json(), 'QUEUE_UNAVAILABLE');
      assert.match(res.json().error.message, /no job was created/);
      assert.equal(await h.prisma.job.count(), jobsBefore);
      assert.equal(await h.prisma.job.count({ where: { name: 'no-queue' } }), 0);
      assert.equal(await h.prisma.jobEvent.count(), eventsBefore);
    } finally {
      await app.close();
      await queue.close().catch(() => {});
      redis.disconnect();
    }
  });
});
