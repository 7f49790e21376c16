// Every /v1 route × { no key, bad key, revoked key, wrong scope, other tenant }.
// The route list comes from the app's own OpenAPI document, and every route in it
// must have a row in ROUTES: a new /v1 route without a row here fails this test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { bearer, createKey, createTenant, createTestApp, tinySpec, type TestApp, type TestKey } from '../helpers/app.js';
import { writeTensors } from '../helpers/safetensors-bytes.js';

interface Ids { job: string; checkpoint: string; key: string; sweep: string; /** a finished job, for DELETE */ done: string }
interface Call { url: string; payload?: unknown; headers?: Record<string, string> }
interface RouteRow {
  scope: 'read' | 'submit' | 'admin';
  call(ids: Ids): Call;
  /** tenant A's submit key, ids of tenant B: what it answers (a missing id answers the same) */
  otherTenant: number | 'list' | 'own';
}

const OCTET = { 'content-type': 'application/octet-stream' };
const upload = () => Buffer.from(writeTensors([{ name: 'layers.0.weight', shape: [2, 2], values: [1, 2, 3, 4] }, { name: 'layers.0.bias', shape: [2], values: [0, 0] }]));

const ROUTES: Record<string, RouteRow> = {
  'POST /v1/jobs': { scope: 'submit', otherTenant: 400, call: (i) => ({ url: '/v1/jobs', payload: tinySpec({ initialWeights: { checkpointId: i.checkpoint } }) }) },
  'GET /v1/jobs': { scope: 'read', otherTenant: 'list', call: () => ({ url: '/v1/jobs' }) },
  'GET /v1/jobs/{id}': { scope: 'read', otherTenant: 404, call: (i) => ({ url: `/v1/jobs/${i.job}` }) },
  'DELETE /v1/jobs/{id}': { scope: 'submit', otherTenant: 404, call: (i) => ({ url: `/v1/jobs/${i.done}` }) },
  'POST /v1/jobs/{id}/cancel': { scope: 'submit', otherTenant: 404, call: (i) => ({ url: `/v1/jobs/${i.job}/cancel` }) },
  'GET /v1/jobs/{id}/metrics': { scope: 'read', otherTenant: 404, call: (i) => ({ url: `/v1/jobs/${i.job}/metrics` }) },
  'GET /v1/jobs/{id}/metrics/names': { scope: 'read', otherTenant: 404, call: (i) => ({ url: `/v1/jobs/${i.job}/metrics/names` }) },
  'GET /v1/metrics': { scope: 'read', otherTenant: 404, call: (i) => ({ url: `/v1/metrics?job=${i.job}` }) },
  'GET /v1/jobs/{id}/checkpoints': { scope: 'read', otherTenant: 404, call: (i) => ({ url: `/v1/jobs/${i.job}/checkpoints` }) },
  'GET /v1/checkpoints/{id}': { scope: 'read', otherTenant: 404, call: (i) => ({ url: `/v1/checkpoints/${i.checkpoint}` }) },
  'POST /v1/checkpoints': { scope: 'submit', otherTenant: 'own', call: () => ({ url: '/v1/checkpoints', payload: upload(), headers: OCTET }) },
  'POST /v1/jobs/{id}/predict': { scope: 'submit', otherTenant: 404, call: (i) => ({ url: `/v1/jobs/${i.job}/predict`, payload: { inputs: [[0, 1]] } }) },
  'GET /v1/jobs/{id}/events': { scope: 'read', otherTenant: 404, call: (i) => ({ url: `/v1/jobs/${i.job}/events` }) },
  'GET /v1/jobs/{id}/early-stopping': { scope: 'read', otherTenant: 404, call: (i) => ({ url: `/v1/jobs/${i.job}/early-stopping` }) },
  'POST /v1/tenants': { scope: 'admin', otherTenant: 403, call: () => ({ url: '/v1/tenants', payload: { name: `m-${randomBytes(4).toString('hex')}` } }) },
  'GET /v1/tenants': { scope: 'admin', otherTenant: 403, call: () => ({ url: '/v1/tenants' }) },
  'POST /v1/keys': { scope: 'admin', otherTenant: 403, call: () => ({ url: '/v1/keys', payload: { tenant: '00000000-0000-4000-8000-000000000000', name: 'm', scopes: ['read'] } }) },
  'GET /v1/keys': { scope: 'admin', otherTenant: 403, call: () => ({ url: '/v1/keys' }) },
  'DELETE /v1/keys/{id}': { scope: 'admin', otherTenant: 403, call: (i) => ({ url: `/v1/keys/${i.key}` }) },
  'GET /v1/audit': { scope: 'admin', otherTenant: 403, call: () => ({ url: '/v1/audit' }) },
  'POST /v1/sweeps': { scope: 'submit', otherTenant: 'own', call: () => ({ url: '/v1/sweeps', payload: sweepBody('a-sweep') }) },
  'GET /v1/sweeps': { scope: 'read', otherTenant: 'list', call: () => ({ url: '/v1/sweeps' }) },
  'GET /v1/sweeps/{id}': { scope: 'read', otherTenant: 404, call: (i) => ({ url: `/v1/sweeps/${i.sweep}` }) },
  'GET /v1/sweeps/{id}/trials': { scope: 'read', otherTenant: 404, call: (i) => ({ url: `/v1/sweeps/${i.sweep}/trials` }) },
  'GET /v1/sweeps/{id}/decisions': { scope: 'read', otherTenant: 404, call: (i) => ({ url: `/v1/sweeps/${i.sweep}/decisions` }) },
  'POST /v1/sweeps/{id}/cancel': { scope: 'submit', otherTenant: 404, call: (i) => ({ url: `/v1/sweeps/${i.sweep}/cancel` }) },
};

/** A one-trial sweep (no worker runs here: it stays queued). */
function sweepBody(name: string) {
  return {
    name, spec: tinySpec({ name }), method: 'grid', maxTrials: 1, parallelism: 1,
    parameters: { '/optimizer/learningRate': { values: [0.01] } }, objective: { metric: 'val_loss', mode: 'min' },
  };
}

let h: TestApp;
let aSubmit: TestKey;
let aRead: TestKey;
let revoked: TestKey;
let bIds: Ids;
let routes: string[];

before(async () => {
  h = await createTestApp('auth-matrix');
  const a = await createTenant(h, 'a');
  const b = await createTenant(h, 'b');
  aSubmit = await createKey(h, a, ['submit']);
  aRead = await createKey(h, a, ['read']);
  revoked = await createKey(h, a, ['admin']);
  assert.equal((await h.app.inject({ method: 'DELETE', url: `/v1/keys/${revoked.id}` })).statusCode, 204);
  const bKey = await createKey(h, b, ['submit']);
  const job = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: bearer(bKey.key), payload: tinySpec({ name: 'b-job' }) });
  const checkpoint = await h.app.inject({ method: 'POST', url: '/v1/checkpoints', headers: { ...bearer(bKey.key), ...OCTET }, payload: upload() });
  assert.equal(job.statusCode, 201, job.body);
  assert.equal(checkpoint.statusCode, 201, checkpoint.body);
  // a key of tenant B for DELETE /v1/keys/{id}; the admin must not revoke it here, so the matrix only sends refused requests to it
  const sweep = await h.app.inject({ method: 'POST', url: '/v1/sweeps', headers: bearer(bKey.key), payload: sweepBody('b-sweep') });
  assert.equal(sweep.statusCode, 201, sweep.body);
  const done = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: bearer(bKey.key), payload: tinySpec({ name: 'b-done' }) });
  assert.equal(done.statusCode, 201, done.body);
  const cancelled = await h.app.inject({ method: 'POST', url: `/v1/jobs/${done.json().id}/cancel`, headers: bearer(bKey.key) });
  assert.equal(cancelled.statusCode, 200, cancelled.body); // no worker here: a queued job is cancelled at once
  bIds = { job: job.json().id, checkpoint: checkpoint.json().id, key: bKey.id, sweep: sweep.json().id, done: done.json().id };
  const doc = h.app.swagger() as { paths: Record<string, Record<string, unknown>> };
  routes = Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/v1'))
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
});
after(() => h?.close());

function methodOf(route: string): 'GET' | 'POST' | 'DELETE' {
  return route.split(' ')[0] as 'GET' | 'POST' | 'DELETE';
}

async function send(route: string, ids: Ids, authorization: string | undefined) {
  const c = ROUTES[route]!.call(ids);
  return h.app.inject({ method: methodOf(route), url: c.url, payload: c.payload as never, headers: { ...c.headers, authorization } });
}

test('every /v1 route of the OpenAPI document has a row in the auth matrix (and every row is a route)', () => {
  assert.ok(routes.length >= 19, `found only ${routes.length} routes`);
  assert.deepEqual([...routes].sort(), Object.keys(ROUTES).sort());
});

test('no key: 401 UNAUTHENTICATED with WWW-Authenticate: Bearer on every /v1 route', async () => {
  for (const route of routes) {
    const res = await send(route, bIds, undefined);
    assert.equal(res.statusCode, 401, `${route}: ${res.body}`);
    assert.equal(res.json().error.code, 'UNAUTHENTICATED', route);
    assert.match(String(res.headers['www-authenticate']), /^Bearer/, route);
  }
});

test('a bad key, another scheme and a revoked key: 401 on every /v1 route, and the key is in no answer', async () => {
  const bad = `ty_AAAAAAAA_${randomBytes(32).toString('base64url')}`;
  for (const route of routes) {
    for (const authorization of [`Bearer ${bad}`, `Basic ${Buffer.from('admin:admin').toString('base64')}`, `Bearer ${revoked.key}`]) {
      const res = await send(route, bIds, authorization);
      assert.equal(res.statusCode, 401, `${route} with ${authorization.slice(0, 12)}…: ${res.body}`);
      assert.equal(res.json().error.code, 'UNAUTHENTICATED');
      assert.ok(!res.body.includes(bad) && !res.body.includes(revoked.key), 'the key is never echoed');
    }
  }
});

test('wrong scope: a read key on submit routes and a submit key on admin routes answer 403 FORBIDDEN', async () => {
  let checked = 0;
  for (const route of routes) {
    const row = ROUTES[route]!;
    if (row.scope === 'read') continue; // nothing is weaker than read
    const key = row.scope === 'submit' ? aRead : aSubmit;
    const res = await send(route, bIds, `Bearer ${key.key}`);
    assert.equal(res.statusCode, 403, `${route}: ${res.body}`);
    assert.equal(res.json().error.code, 'FORBIDDEN');
    checked++;
  }
  assert.ok(checked >= 9);
});

test('read routes accept a read key, and the admin key passes auth on every route', async () => {
  const adminIds = { ...bIds, key: revoked.id };
  for (const route of routes) {
    const row = ROUTES[route]!;
    if (row.scope === 'read' && row.otherTenant === 'list') {
      assert.equal((await send(route, bIds, `Bearer ${aRead.key}`)).statusCode, 200, route);
    }
    const res = await send(route, adminIds, `Bearer ${h.adminKey}`);
    assert.ok(![401, 403, 404].includes(res.statusCode), `${route} as admin answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
  }
});

test("another tenant's ids answer exactly like missing ones, on every route with an id", async () => {
  const missing: Ids = { job: randomUUID(), checkpoint: randomUUID(), key: randomUUID(), sweep: randomUUID(), done: randomUUID() };
  for (const route of routes) {
    const row = ROUTES[route]!;
    const res = await send(route, bIds, `Bearer ${aSubmit.key}`);
    if (row.otherTenant === 'list') {
      assert.equal(res.statusCode, 200);
      assert.ok(!res.body.includes(bIds.job) && !res.body.includes(bIds.sweep), `${route} lists another tenant's rows`);
      continue;
    }
    if (row.otherTenant === 'own') {
      assert.equal(res.statusCode, 201, `${route}: ${res.body}`);
      continue;
    }
    assert.equal(res.statusCode, row.otherTenant, `${route}: ${res.body}`);
    if (row.otherTenant === 403) continue;
    const gone = await send(route, missing, `Bearer ${aSubmit.key}`);
    const anonymize = (body: string, ids: Ids) => body.replaceAll(ids.job, '<id>').replaceAll(ids.checkpoint, '<id>').replaceAll(ids.sweep, '<id>').replaceAll(ids.done, '<id>');
    assert.equal(gone.statusCode, res.statusCode, route);
    assert.equal(anonymize(res.body, bIds), anonymize(gone.body, missing), `${route}: the same answer as for a missing id`);
  }
  // the audit log has the admin's cancel of B's job (earlier test), and none by tenant A's key
  const cancels = await h.prisma.auditEntry.findMany({ where: { action: 'job.cancelled', target: bIds.job } });
  assert.deepEqual(cancels.map((c) => c.keyPrefix), [(await h.prisma.apiKey.findFirstOrThrow({ where: { name: 'TRAINYARD_ADMIN_KEY' } })).prefix]);
});

test('an admin sees every tenant, or only the one ?tenant= names', async () => {
  const all = (await h.app.inject({ method: 'GET', url: '/v1/jobs' })).json();
  assert.ok(all.items.some((j: { id: string }) => j.id === bIds.job));
  const onlyA = (await h.app.inject({ method: 'GET', url: `/v1/jobs?tenant=${aSubmit.tenant}` })).json();
  assert.ok(!onlyA.items.some((j: { id: string }) => j.id === bIds.job));
  assert.equal((await h.app.inject({ method: 'GET', url: '/v1/jobs?tenant=nope' })).statusCode, 400);
});
