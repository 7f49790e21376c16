// Keys, revocation across API processes, the shared rate limit, the tenant quota,
// bootstrap, hostile JSON keys, logs and browser headers — on the real service.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { buildApp } from '../../src/api/app.js';
import { createLogger } from '../../src/logger.js';
import { createRedis } from '../../src/queue/connection.js';
import { createTrainQueue } from '../../src/queue/train-queue.js';
import { createTestDatabase } from '../helpers/db.js';
import { authorize, bearer, createKey, createTenant, createTestApp, testConfig, tinySpec, waitFor, type TestApp } from '../helpers/app.js';
import type { Config } from '../../src/config.js';

let h: TestApp;
before(async () => {
  h = await createTestApp('auth-keys');
});
after(() => h?.close());

/** A second API process on the same database, Redis and prefix (another buildApp). */
async function secondApi(config: Config, prisma = h.prisma) {
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1, connectionName: 'trainyard-test-api-2' });
  const queue = createTrainQueue(redis, config.queuePrefix);
  const app = authorize(await buildApp({ config, prisma, queue, redis, logger: h.logger }), config.adminKey!);
  return { app, async close() { await app.close(); await queue.close(); redis.disconnect(); } };
}

describe('keys', () => {
  test('a key is shown once, stored only as its SHA-256, listed without a secret, and works with its scopes', async () => {
    const tenant = await createTenant(h, 'keys-t');
    const res = await h.app.inject({ method: 'POST', url: '/v1/keys', payload: { tenant, name: 'ci', scopes: ['read'] } });
    assert.equal(res.statusCode, 201, res.body);
    const created = res.json();
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.match(created.key, /^ty_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/, '48-bit prefix + 256-bit secret, base64url');
    assert.ok(created.key.startsWith(`${created.prefix}_`));
    const row = await h.prisma.apiKey.findUniqueOrThrow({ where: { id: created.id } });
    assert.equal(row.keyHash, createHash('sha256').update(created.key).digest('hex'));
    assert.ok(!JSON.stringify(row).includes(created.key.slice(created.prefix.length + 1)), 'the secret is in no column');
    const list = await h.app.inject({ method: 'GET', url: `/v1/keys?tenant=${tenant}` });
    assert.equal(list.json().items.length, 1);
    assert.ok(!list.body.includes(created.key.slice(created.prefix.length + 1)));
    assert.deepEqual(list.json().items[0].scopes, ['read']);
    assert.equal((await h.app.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(created.key) })).statusCode, 200);
    assert.equal((await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: bearer(created.key), payload: tinySpec() })).statusCode, 403);
    const audit = (await h.app.inject({ method: 'GET', url: '/v1/audit' })).json();
    assert.ok(audit.items.some((e: { action: string; target: string }) => e.action === 'key.created' && e.target === created.id));
  });

  test('an unknown tenant is a 400 with its pointer; a tenant name is unique (409)', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/keys', payload: { tenant: '11111111-1111-4111-8111-111111111111', name: 'x', scopes: ['read'] } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.details[0].pointer, '/tenant');
    await createTenant(h, 'twice');
    assert.equal((await h.app.inject({ method: 'POST', url: '/v1/tenants', payload: { name: 'twice' } })).statusCode, 409);
  });

  test('a key revoked through one API process is refused by a second one that had it cached, long before the cache would expire', async () => {
    const tenant = await createTenant(h);
    const key = await createKey(h, tenant, ['read']);
    const two = await secondApi(h.config);
    try {
      assert.equal((await two.app.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(key.key) })).statusCode, 200);
      // the second process now trusts the key from its cache: a revoke written behind its back is not seen...
      await h.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
      assert.equal((await two.app.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(key.key) })).statusCode, 200, 'served from the cache');
      await h.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: null } });
      // ...but DELETE /v1/keys/:id on the first process reaches it through Redis
      const started = Date.now();
      assert.equal((await h.app.inject({ method: 'DELETE', url: `/v1/keys/${key.id}` })).statusCode, 204);
      await waitFor(
        async () => (await two.app.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(key.key) })).statusCode,
        (s) => s === 401,
        { timeoutMs: 15_000, intervalMs: 5, what: 'the second process to refuse the revoked key' },
      );
      // the cache keeps keys 60 s: refused within 15 s can only be the invalidation
      process.stdout.write(`# revocation seen by the second process after ${Date.now() - started} ms\n`);
      const audit = await h.prisma.auditEntry.findFirst({ where: { action: 'key.revoked', target: key.id } });
      assert.equal(audit?.keyPrefix, (await h.prisma.apiKey.findFirstOrThrow({ where: { name: 'TRAINYARD_ADMIN_KEY' } })).prefix);
    } finally {
      await two.close();
    }
  });
});

describe('tenants own rows', () => {
  test("a job's checkpoint, written as the worker writes it (no tenant named), belongs to the job's tenant", async () => {
    const a = await createKey(h, await createTenant(h), ['submit']);
    const b = await createKey(h, await createTenant(h), ['submit']);
    const job = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: bearer(b.key), payload: tinySpec() });
    const jobId = job.json().id as string;
    const id = '22222222-2222-4222-8222-222222222222';
    await h.prisma.checkpoint.createMany({ data: [{ id, jobId, kind: 'epoch', epoch: 1, step: 4, size: 1, sha256: 'x', data: new Uint8Array([1]) }] });
    assert.equal((await h.prisma.checkpoint.findUniqueOrThrow({ where: { id } })).tenantId, b.tenant);
    assert.equal((await h.app.inject({ method: 'GET', url: `/v1/checkpoints/${id}`, headers: bearer(b.key) })).statusCode, 200);
    assert.equal((await h.app.inject({ method: 'GET', url: `/v1/checkpoints/${id}`, headers: bearer(a.key) })).statusCode, 404);
    // and a row cannot claim another tenant while it belongs to a job
    await h.prisma.checkpoint.update({ where: { id }, data: { tenantId: a.tenant } });
    assert.equal((await h.prisma.checkpoint.findUniqueOrThrow({ where: { id } })).tenantId, b.tenant);
  });
});

describe('limits', () => {
  test('the per-key rate limit is shared by two API processes: the 6th request of a 5/minute key is a 429 with Retry-After', async () => {
    const r = await createTestApp('auth-rate', { rateLimitPerMinute: 5 });
    const two = await secondApi(r.config, r.prisma);
    try {
      const tenant = await createTenant(r);
      const key = await createKey(r, tenant, ['read']);
      const other = await createKey(r, tenant, ['read']);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const app = i % 2 === 0 ? r.app : two.app;
        statuses.push((await app.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(key.key) })).statusCode);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
      const limited = await two.app.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(key.key) });
      assert.equal(limited.statusCode, 429, limited.body);
      assert.equal(limited.json().error.code, 'RATE_LIMITED');
      assert.deepEqual(limited.json().error.details, []);
      const retryAfter = Number(limited.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${limited.headers['retry-after']}`);
      assert.equal((await r.app.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(key.key) })).statusCode, 429, 'the first process refuses it too');
      assert.equal((await r.app.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(other.key) })).statusCode, 200, 'another key has its own budget');
      assert.equal((await r.app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'public routes are not limited');
    } finally {
      await two.close();
      await r.close();
    }
  });

  test('TENANT_MAX_ACTIVE_JOBS: of 6 concurrent submits at a cap of 2, exactly 2 are created and 4 answer 429 QUOTA_EXCEEDED', async () => {
    const q = await createTestApp('auth-quota', { tenantMaxActiveJobs: 2 });
    try {
      const tenant = await createTenant(q);
      const key = await createKey(q, tenant, ['submit']);
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) =>
        q.app.inject({ method: 'POST', url: '/v1/jobs', headers: bearer(key.key), payload: tinySpec({ name: `q${i}` }) })));
      const statuses = answers.map((a) => a.statusCode).sort();
      assert.deepEqual(statuses, [201, 201, 429, 429, 429, 429]);
      for (const a of answers.filter((x) => x.statusCode === 429)) assert.equal(a.json().error.code, 'QUOTA_EXCEEDED');
      assert.equal(await q.prisma.job.count({ where: { tenantId: tenant } }), 2);
      // another tenant is not held back by this one
      assert.equal((await q.app.inject({ method: 'POST', url: '/v1/jobs', payload: tinySpec() })).statusCode, 201);
      // a cancelled job frees its slot
      const first = answers.find((a) => a.statusCode === 201)!.json().id;
      await q.app.inject({ method: 'POST', url: `/v1/jobs/${first}/cancel` });
      assert.equal((await q.app.inject({ method: 'POST', url: '/v1/jobs', headers: bearer(key.key), payload: tinySpec() })).statusCode, 201);
    } finally {
      await q.close();
    }
  });

  test('the predict and upload body limits come from the configuration', async () => {
    const small = await createTestApp('auth-body', { predictBodyLimit: 2048, uploadBodyLimit: 4096 });
    try {
      const predict = await small.app.inject({ method: 'POST', url: `/v1/jobs/${'0'.repeat(8)}-0000-4000-8000-000000000000/predict`, payload: { inputs: [Array(600).fill(0.5)] } });
      assert.equal(predict.statusCode, 413, predict.body);
      assert.equal(predict.json().error.code, 'BODY_TOO_LARGE');
      const upload = await small.app.inject({ method: 'POST', url: '/v1/checkpoints', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(5000) });
      assert.equal(upload.statusCode, 413, upload.body);
    } finally {
      await small.close();
    }
  });
});

describe('input that cannot hurt', () => {
  for (const [body, pointer] of [
    ['{"name":"x","__proto__":{"admin":true}}', '/__proto__'],
    ['{"model":{"layers":[{"constructor":{"prototype":{"polluted":1}}}]}}', '/model/layers/0/constructor/prototype'],
    ['{"a":{"\\u005f_proto__":{}}}', '/a/__proto__'],
  ] as const) {
    test(`a body with a prototype key is refused naming the key and ${pointer}`, async () => {
      const before = await h.prisma.job.count();
      const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: body });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().error.code, 'FORBIDDEN_KEY');
      assert.equal(res.json().error.details[0].pointer, pointer);
      assert.match(res.json().error.message, /__proto__|constructor\.prototype/);
      assert.equal(await h.prisma.job.count(), before);
      assert.equal(({} as Record<string, unknown>).admin, undefined);
    });
  }
});

describe('secrets and browsers', () => {
  test('keys never reach the logs: not on success, not on a 401', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
    const config = { ...h.config, logLevel: 'trace' as const };
    const logger = createLogger(config, { destination });
    const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1 });
    const queue = createTrainQueue(redis, config.queuePrefix);
    const app = await buildApp({ config, prisma: h.prisma, queue, redis, logger });
    try {
      const bad = `ty_ZZZZZZZZ_${randomBytes(32).toString('base64url')}`;
      await app.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(h.adminKey) });
      await app.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(bad) });
      // someone logs a whole request's headers: redacted
      logger.info({ req: { headers: { authorization: `Bearer ${bad}` } } }, 'headers');
      const text = lines.join('');
      assert.ok(lines.length > 3, 'the requests were logged');
      assert.ok(!text.includes(h.adminKey) && !text.includes(bad), 'no key in any log line');
      assert.ok(text.includes('[redacted]'));
    } finally {
      await app.close();
      await queue.close();
      redis.disconnect();
    }
  });

  test("helmet's headers and CSP default-src 'self' on every answer; no CORS headers without CORS_ORIGINS", async () => {
    const res = await h.app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } });
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });

  test('CORS_ORIGINS allows exactly its origins, and a preflight needs no key', async () => {
    const c = await createTestApp('auth-cors', { corsOrigins: ['https://dash.example'] });
    try {
      const preflight = await c.app.inject({ method: 'OPTIONS', url: '/v1/jobs', headers: { authorization: undefined, origin: 'https://dash.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
      assert.equal(preflight.statusCode, 204, preflight.body);
      assert.equal(preflight.headers['access-control-allow-origin'], 'https://dash.example');
      assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
      const other = await c.app.inject({ method: 'GET', url: '/v1/jobs', headers: { origin: 'https://evil.example' } });
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    } finally {
      await c.close();
    }
  });

  test('METRICS_TOKEN closes /metrics to callers without it', async () => {
    const m = await createTestApp('auth-metrics', { metricsToken: 'metrics-token-0123456789' });
    try {
      assert.equal((await m.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
      assert.equal((await m.app.inject({ method: 'GET', url: '/metrics', headers: bearer('wrong-token-0123456789') })).statusCode, 401);
      assert.equal((await m.app.inject({ method: 'GET', url: '/metrics', headers: bearer('metrics-token-0123456789') })).statusCode, 200);
      assert.equal((await h.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: undefined } })).statusCode, 200, 'public without METRICS_TOKEN');
    } finally {
      await m.close();
    }
  });
});

describe('bootstrap', () => {
  test('the first start on an empty database writes an admin key to an owner-only file; the next start creates none', async () => {
    const db = await createTestDatabase('auth-boot');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'trainyard-boot-'));
    const file = path.join(dir, 'nested', 'admin-key');
    const config = { ...testConfig(db.url), adminKey: null, adminKeyFile: file };
    const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1 });
    const queue = createTrainQueue(redis, config.queuePrefix);
    try {
      const app = await buildApp({ config, prisma: db.prisma, queue, redis, logger: h.logger });
      const key = (await readFile(file, 'utf8')).trim();
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
      assert.equal((await app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(key) })).statusCode, 200);
      assert.equal((await app.inject({ method: 'GET', url: '/v1/jobs' })).statusCode, 401);
      await app.close();
      const again = await buildApp({ config, prisma: db.prisma, queue, redis, logger: h.logger });
      assert.equal(await db.prisma.apiKey.count(), 1);
      assert.equal((await readFile(file, 'utf8')).trim(), key, 'the file is not rewritten');
      await again.close();
    } finally {
      await queue.close();
      redis.disconnect();
      await db.drop();
    }
  });
});
