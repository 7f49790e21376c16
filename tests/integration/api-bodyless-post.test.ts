// Many HTTP clients send Content-Type: application/json on every POST. On a route that
// takes no body (cancel) an empty body then is no body; where a body is required (submit,
// predict) an empty one is still a 400, and a non-empty body is parsed as before.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, tinySpec, type TestApp } from '../helpers/app.js';

let h: TestApp;
before(async () => {
  h = await createTestApp('api-bodyless-post');
});
after(async () => {
  await h?.close();
});

const JSON_TYPE = { 'content-type': 'application/json' };

describe('POST with Content-Type: application/json and an empty body', () => {
  test('cancel accepts it and cancels the queued job', async () => {
    const created = (await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: tinySpec({ name: 'bodyless-cancel' }) })).json();
    const res = await h.app.inject({ method: 'POST', url: `/v1/jobs/${created.id}/cancel`, headers: JSON_TYPE, payload: '' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().status, 'cancelled');
    const row = await h.prisma.job.findUniqueOrThrow({ where: { id: created.id } });
    assert.equal(row.status, 'cancelled');
  });

  test('submit still refuses it with 400 MALFORMED_JSON, and nothing is stored', async () => {
    const before = await h.prisma.job.count();
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: JSON_TYPE, payload: '' });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().error.code, 'MALFORMED_JSON');
    assert.match(res.json().error.message, /the body is empty, but Content-Type says it is JSON/);
    assert.equal(await h.prisma.job.count(), before);
  });

  test('predict (a body is required) refuses it too', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const res = await h.app.inject({ method: 'POST', url: `/v1/jobs/${id}/predict`, headers: JSON_TYPE, payload: '' });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().error.code, 'MALFORMED_JSON');
  });

  test('a JSON body is parsed as before: malformed is 400, proto poisoning is refused', async () => {
    const bad = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: JSON_TYPE, payload: '{"name":' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'MALFORMED_JSON');
    const poisoned = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: JSON_TYPE, payload: '{"__proto__":{"x":1}}' });
    assert.equal(poisoned.statusCode, 400);
    const ok = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: JSON_TYPE, payload: JSON.stringify(tinySpec({ name: 'bodyless-json' })) });
    assert.equal(ok.statusCode, 201, ok.body);
  });
});
