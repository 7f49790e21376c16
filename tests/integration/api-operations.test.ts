import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../src/api/app.js';
import { createRedis } from '../../src/queue/connection.js';
import { createTrainQueue } from '../../src/queue/train-queue.js';
import { createTestApp, tinySpec, type TestApp } from '../helpers/app.js';

let h: TestApp;
before(async () => {
  h = await createTestApp('api-ops');
});
after(async () => {
  await h?.close();
});

test('GET /health answers 200 ok', async () => {
  const res = await h.app.inject({ method: 'GET', url: '/health' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { status: 'ok' });
});

test('GET /ready answers 200 when Postgres and Redis answer', async () => {
  const res = await h.app.inject({ method: 'GET', url: '/ready' });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json(), { status: 'ready', checks: { postgres: { ok: true }, redis: { ok: true } } });
});

test('GET /ready answers 503 naming Redis when Redis is unreachable', async () => {
  // a port nothing listens on
  const redis = createRedis('redis://127.0.0.1:1', { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  const queue = createTrainQueue(redis, h.config.queuePrefix);
  queue.on('error', () => {});
  const app = await buildApp({ config: h.config, prisma: h.prisma, queue, redis, logger: h.logger });
  try {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    assert.equal(res.statusCode, 503, res.body);
    const body = res.json();
    assert.equal(body.status, 'unavailable');
    assert.equal(body.checks.postgres.ok, true);
    assert.equal(body.checks.redis.ok, false);
    assert.ok(body.checks.redis.error);
  } finally {
    await app.close();
    redis.disconnect();
  }
});

/** A sample's value in a Prometheus text body, 0 when the series is not there yet. */
function sample(body: string, series: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

test('GET /metrics exposes request durations and jobs by status in Prometheus format', async () => {
  const posted = 'trainyard_http_request_duration_seconds_count{method="POST",route="/v1/jobs",status="201"}';
  const before = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.equal((await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: tinySpec() })).statusCode, 201);
  assert.equal((await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: tinySpec() })).statusCode, 201);
  const res = await h.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /text\/plain/);
  assert.equal(sample(res.body, posted) - sample(before, posted), 2);
  // the gauge counts the rows, whatever earlier tests left
  const queued = await h.prisma.job.count({ where: { status: 'queued' } });
  const running = await h.prisma.job.count({ where: { status: 'running' } });
  assert.ok(queued >= 2);
  assert.equal(sample(res.body, 'trainyard_jobs{status="queued"}'), queued);
  assert.equal(sample(res.body, 'trainyard_jobs{status="running"}'), running);
});

test('/docs serves the OpenAPI UI from the package and the document lists the routes', async () => {
  const ui = await h.app.inject({ method: 'GET', url: '/docs/' });
  assert.equal(ui.statusCode, 200);
  assert.match(ui.body, /swagger-ui/i);
  const bundle = await h.app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
  assert.equal(bundle.statusCode, 200);
  assert.ok(bundle.body.length > 100_000, 'the UI bundle is served locally');
  const doc = await h.app.inject({ method: 'GET', url: '/docs/json' });
  assert.equal(doc.statusCode, 200);
  const paths = Object.keys(doc.json().paths);
  for (const p of ['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/cancel', '/health', '/ready']) {
    assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
  }
  assert.ok(doc.json().paths['/v1/jobs'].post.requestBody, 'the spec body is documented');
});

test('an unknown route answers 404 in the error shape', async () => {
  const res = await h.app.inject({ method: 'GET', url: '/v2/nothing' });
  assert.equal(res.statusCode, 404);
  assert.equal(res.json().error.code, 'NOT_FOUND');
});
