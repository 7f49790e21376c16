// Property-based fuzzing of every write route (fast-check): mutations of a valid
// spec, random JSON, malformed text, random and mutated safetensors files, predict,
// key and tenant bodies, hostile path ids. Properties: never a 5xx; every refusal in
// the one error shape; nothing is queued or stored for a refused request (rows and
// queue entries equal the number of 201s). FUZZ_RUNS scales it (CI: 2,000 cases;
// `npm run bench:fuzz`: 20,000).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, submitJob, tinySpec, type TestApp } from '../helpers/app.js';
import { writeTensors } from '../helpers/safetensors-bytes.js';

const TOTAL = Number(process.env.FUZZ_RUNS ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);

let h: TestApp;
let jobId: string;
let created = { jobs: 0, checkpoints: 0, tenants: 0, keys: 0 };
let start = { jobs: 0, checkpoints: 0, tenants: 0, keys: 0 };
let cases = 0;

async function counts() {
  return {
    jobs: await h.prisma.job.count(),
    checkpoints: await h.prisma.checkpoint.count(),
    tenants: await h.prisma.tenant.count(),
    keys: await h.prisma.apiKey.count(),
  };
}

before(async () => {
  h = await createTestApp('auth-fuzz');
  jobId = await submitJob(h, tinySpec({ name: 'fuzz-target' }));
  start = await counts();
});
after(async () => {
  process.stdout.write(`# fuzz: ${cases} cases (seed ${SEED}); accepted: ${JSON.stringify(created)}\n`);
  await h?.close();
});

/** The property every answer has: no 5xx, and a refusal is { error: { code, message, details[] } }. */
function check(res: LightMyRequestResponse, what: string): void {
  cases++;
  assert.ok(res.statusCode < 500, `${what}: ${res.statusCode} ${res.body.slice(0, 500)}`);
  if (res.statusCode >= 400) {
    const body = res.json() as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    assert.equal(typeof body.error?.code, 'string', `${what}: ${res.body.slice(0, 300)}`);
    assert.equal(typeof body.error?.message, 'string');
    assert.ok(Array.isArray(body.error?.details));
    for (const d of body.error!.details as { pointer: unknown; message: unknown }[]) {
      assert.equal(typeof d.pointer, 'string');
      assert.equal(typeof d.message, 'string');
    }
  }
}

type Json = unknown;
type Mutation = [index: number, op: 'replace' | 'delete' | 'add', value: Json, key: string];

/** Every container path of a value, as arrays of keys. */
function paths(value: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) paths(v, [...at, Array.isArray(value) ? Number(k) : k], out);
  }
  return out;
}

function mutate(spec: Json, mutations: Mutation[]): Json {
  let doc = structuredClone(spec);
  for (const [index, op, value, key] of mutations) {
    const all = paths(doc);
    const target = all[index % all.length]!;
    if (target.length === 0) {
      if (op === 'replace') doc = value;
      continue;
    }
    const parent = target.slice(0, -1).reduce<any>((o, k) => o[k], doc);
    const last = target[target.length - 1]!;
    if (op === 'replace') parent[last] = value;
    else if (op === 'delete') Array.isArray(parent) ? parent.splice(Number(last), 1) : delete parent[last];
    else if (parent !== null && typeof parent === 'object' && !Array.isArray(parent)) Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return doc;
}

const json = fc.jsonValue({ maxDepth: 3 });
const mutation = fc.tuple(fc.nat(), fc.constantFrom('replace' as const, 'delete' as const, 'add' as const), json, fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'prototype')));

function runs(share: number): { numRuns: number; seed: number } {
  return { numRuns: Math.max(1, Math.round(TOTAL * share)), seed: SEED };
}

test('POST /v1/jobs: mutated valid specs never answer 5xx and a refusal stores nothing', async () => {
  await fc.assert(fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (ms) => {
    const body = mutate(tinySpec(), ms);
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) ?? 'null' });
    check(res, `spec ${JSON.stringify(body).slice(0, 300)}`);
    if (res.statusCode === 201) created.jobs++;
  }), runs(0.45));
});

test('POST /v1/jobs: random JSON and malformed text', async () => {
  await fc.assert(fc.asyncProperty(fc.oneof(json.map((v) => JSON.stringify(v) ?? 'null'), fc.string({ maxLength: 200 })), async (text) => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: text });
    check(res, `body ${text.slice(0, 200)}`);
    if (res.statusCode === 201) created.jobs++;
  }), runs(0.15));
});

const validUpload = Buffer.from(writeTensors([
  { name: 'layers.0.weight', shape: [8, 2], values: Array.from({ length: 16 }, (_, i) => i / 16) },
  { name: 'layers.0.bias', shape: [8], values: Array(8).fill(0) },
]));

test('POST /v1/checkpoints: random bytes and mutated safetensors files', async () => {
  const flips = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 });
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    flips.map((fs) => {
      const b = Buffer.from(validUpload);
      for (const [at, v] of fs) b[at % b.length] = v;
      return b;
    }),
    fc.nat().map((n) => validUpload.subarray(0, n % validUpload.length)),
  );
  await fc.assert(fc.asyncProperty(body, async (bytes) => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/checkpoints', headers: { 'content-type': 'application/octet-stream' }, payload: bytes });
    check(res, `upload of ${bytes.length} bytes`);
    if (res.statusCode === 201) created.checkpoints++;
  }), runs(0.15));
});

test('POST /v1/jobs/:id/predict, /cancel with hostile ids, /v1/keys and /v1/tenants bodies', async () => {
  const id = fc.oneof(fc.constant(jobId), fc.uuid(), fc.string({ maxLength: 40 }));
  const request = fc.oneof(
    fc.tuple(fc.constant('predict'), id, fc.oneof(json, fc.record({ inputs: fc.array(fc.array(fc.oneof(fc.double(), fc.jsonValue({ maxDepth: 0 })), { maxLength: 4 }), { maxLength: 3 }), weights: fc.oneof(fc.constantFrom('best', 'final'), fc.string()) }, { requiredKeys: [] }))),
    fc.tuple(fc.constant('cancel'), fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })), fc.constant(null)),
    fc.tuple(fc.constant('keys'), fc.constant(''), fc.oneof(json, fc.record({ tenant: fc.oneof(fc.uuid(), fc.string()), name: fc.string(), scopes: fc.array(fc.oneof(fc.constantFrom('read', 'submit', 'admin'), fc.string())) }, { requiredKeys: [] }))),
    fc.tuple(fc.constant('tenants'), fc.constant(''), fc.oneof(json, fc.record({ name: fc.string({ maxLength: 120 }) }))),
  );
  await fc.assert(fc.asyncProperty(request, async ([route, target, body]) => {
    const path = encodeURIComponent(target);
    const url = route === 'predict' ? `/v1/jobs/${path}/predict` : route === 'cancel' ? `/v1/jobs/${path}/cancel` : `/v1/${route}`;
    const res = route === 'cancel'
      ? await h.app.inject({ method: 'POST', url })
      : await h.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) ?? 'null' });
    check(res, `${route} ${url} ${JSON.stringify(body)?.slice(0, 200)}`);
    if (res.statusCode === 201 && route === 'tenants') created.tenants++;
    if (res.statusCode === 201 && route === 'keys') created.keys++;
  }), runs(0.25));
});

test('nothing was stored or queued beyond what the 201s created', async () => {
  const now = await counts();
  assert.equal(now.jobs - start.jobs, created.jobs, 'jobs');
  assert.equal(now.checkpoints - start.checkpoints, created.checkpoints, 'checkpoints');
  assert.equal(now.tenants - start.tenants, created.tenants, 'tenants');
  assert.equal(now.keys - start.keys, created.keys, 'keys');
  const queued = await h.queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active');
  const inQueue = Object.values(queued).reduce((a, b) => a + b, 0);
  assert.equal(inQueue, start.jobs + created.jobs, 'queue entries: one per stored job');
  assert.ok(cases >= TOTAL * 0.99, `ran ${cases} cases`);
});
