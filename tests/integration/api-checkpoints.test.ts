import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodeSafetensors, encodeSafetensors } from '../../src/core/safetensors.js';
import type { TrainingWorker } from '../../workers/training-worker.js';
import { startTestWorker, createTestApp, tinySpec, waitFor, type TestApp, submitJob } from '../helpers/app.js';
import { writeTensors, type RawTensor } from '../helpers/safetensors-bytes.js';
import { UPLOAD_LIMIT_DEFAULT } from '../../src/api/routes/checkpoints.js';

let h: TestApp;
let worker: TrainingWorker;

before(async () => {
  h = await createTestApp('api-checkpoints');
  worker = await startTestWorker(h);
});
after(async () => {
  await worker?.close();
  await h?.close();
});

const MISSING = '00000000-0000-4000-8000-000000000000';


async function finished(id: string) {
  const job = await waitFor(
    async () => (await h.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json(),
    (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status),
    { timeoutMs: 30_000, what: `job ${id} finished` },
  );
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  return job;
}

function upload(payload: Uint8Array | string, contentType = 'application/octet-stream') {
  return h.app.inject({
    method: 'POST', url: '/v1/checkpoints', headers: { 'content-type': contentType },
    payload: typeof payload === 'string' ? payload : Buffer.from(payload),
  });
}

/** Weights for tinySpec's network (xor: 2 inputs → 8 tanh → 2 softmax), PyTorch layout. */
function tinyWeights(): Uint8Array {
  const w0 = Float32Array.from({ length: 8 * 2 }, (_, i) => ((i * 37) % 17) / 17 - 0.5);
  const b0 = Float32Array.from({ length: 8 }, (_, i) => i / 100);
  const w1 = Float32Array.from({ length: 2 * 8 }, (_, i) => ((i * 11) % 13) / 13 - 0.5);
  const b1 = Float32Array.from([0.25, -0.25]);
  return encodeSafetensors([
    { name: 'layers.0.weight', dtype: 'F32', shape: [8, 2], data: w0 },
    { name: 'layers.0.bias', dtype: 'F32', shape: [8], data: b0 },
    { name: 'layers.1.weight', dtype: 'F32', shape: [2, 8], data: w1 },
    { name: 'layers.1.bias', dtype: 'F32', shape: [2], data: b1 },
  ], { format: 'pt' });
}

describe('GET /v1/jobs/:id/checkpoints', () => {
  let jobId: string;
  before(async () => {
    jobId = await submitJob(h, tinySpec({
      name: 'ckpt-list',
      training: { epochs: 5, batchSize: 16, seed: 3 },
      earlyStopping: { monitor: 'val_loss', patience: 10 },
      checkpoints: { everyEpochs: 1, keepLast: 10, keepBest: true },
    }));
    await finished(jobId);
  });

  test('a trained job lists its epoch and final checkpoints, exactly one flagged best: the epoch with the lowest val_loss among the decisions', async () => {
    const res = await h.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/checkpoints` });
    assert.equal(res.statusCode, 200, res.body);
    const { items, nextCursor } = res.json();
    assert.equal(nextCursor, null);
    assert.deepEqual(items.map((c: { kind: string }) => c.kind), ['epoch', 'epoch', 'epoch', 'epoch', 'epoch', 'final']);
    assert.deepEqual(items.slice(0, 5).map((c: { epoch: number }) => c.epoch), [1, 2, 3, 4, 5]);
    for (const c of items) {
      assert.match(c.sha256, /^[0-9a-f]{64}$/);
      assert.ok(c.size > 0);
      assert.equal(typeof c.metrics.train_loss, 'number');
      assert.ok(!('data' in c), 'no bytes in the listing');
    }
    const best = items.filter((c: { best: boolean }) => c.best);
    assert.equal(best.length, 1);
    // the best epoch by the decisions' own values (minDelta 0: the first lowest val_loss)
    const decisions = (await h.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/early-stopping` })).json().items as { epoch: number; value: number }[];
    const lowest = decisions.reduce((a, b) => (b.value < a.value ? b : a));
    assert.equal(best[0].kind, 'epoch');
    assert.equal(best[0].epoch, lowest.epoch);
  });

  test('pages with limit and cursor neither skip nor repeat a checkpoint', async () => {
    const all = (await h.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/checkpoints` })).json().items.map((c: { id: string }) => c.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/jobs/${jobId}/checkpoints?limit=4${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await h.app.inject({ method: 'GET', url })).json();
      seen.push(...page.items.map((c: { id: string }) => c.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, all);
    const bad = await h.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/checkpoints?cursor=nonsense` });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'INVALID_CURSOR');
  });

  test('crafted cursors and cursors of another list are a 400 at /cursor, not a 500', async () => {
    const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const uuid = '7d0c3c2e-2b1a-4c5d-9e8f-0a1b2c3d4e5f';
    const crafted = [
      cursor(['0000-01-01T00:00:00Z', uuid]), // the old, unbound format with a year no row has
      cursor(['checkpoints', '0000-01-01T00:00:00.000Z', uuid]),
      cursor(['checkpoints', '2026-01-01T00:00:00.000Z', 'not-a-uuid']),
      cursor(['checkpoints', '2026-13-01T00:00:00.000Z', uuid]),
      cursor(['jobs', '2026-01-01T00:00:00.000Z', uuid]), // a jobs-list cursor
      cursor(['metrics', 'val_loss', 3]),
    ];
    for (const c of crafted) {
      const res = await h.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/checkpoints?cursor=${c}` });
      assert.equal(res.statusCode, 400, `${Buffer.from(c, 'base64url').toString()}: ${res.body}`);
      assert.equal(res.json().error.code, 'INVALID_CURSOR');
      assert.deepEqual(res.json().error.details.map((d: { pointer: string }) => d.pointer), ['/cursor']);
    }
    // a well-formed position this list could have handed out is accepted
    const ok = await h.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/checkpoints?cursor=${cursor(['checkpoints', '2026-01-01T00:00:00.000Z', uuid])}` });
    assert.equal(ok.statusCode, 200, ok.body);
  });

  test('download answers the exact stored bytes with their sha256 as ETag, length and a file name', async () => {
    const { items } = (await h.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/checkpoints` })).json();
    const final = items.find((c: { kind: string }) => c.kind === 'final');
    const res = await h.app.inject({ method: 'GET', url: `/v1/checkpoints/${final.id}` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(res.headers['content-disposition'], 'attachment; filename="ckpt-list-epoch5-final.safetensors"');
    const bytes = res.rawPayload;
    assert.equal(Number(res.headers['content-length']), bytes.length);
    assert.equal(bytes.length, final.size);
    const sha = createHash('sha256').update(bytes).digest('hex');
    assert.equal(sha, final.sha256);
    assert.equal(res.headers.etag, `"${sha}"`);
    const row = await h.prisma.checkpoint.findUniqueOrThrow({ where: { id: final.id } });
    assert.ok(Buffer.from(row.data).equals(bytes));
    assert.ok(decodeSafetensors(new Uint8Array(bytes)).tensors.has('layers.1.weight'));

    const epoch2 = items.find((c: { epoch: number; kind: string }) => c.kind === 'epoch' && c.epoch === 2);
    const res2 = await h.app.inject({ method: 'GET', url: `/v1/checkpoints/${epoch2.id}` });
    assert.equal(res2.headers['content-disposition'], 'attachment; filename="ckpt-list-epoch2.safetensors"');

    const again = await h.app.inject({ method: 'GET', url: `/v1/checkpoints/${final.id}`, headers: { 'if-none-match': `"${sha}"` } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.rawPayload.length, 0);
  });

  test('If-None-Match: * , a list of tags and a weak tag answer 304; other tags the file', async () => {
    const final = (await h.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/checkpoints` })).json().items
      .find((c: { kind: string }) => c.kind === 'final');
    const get = (ifNoneMatch: string) => h.app.inject({ method: 'GET', url: `/v1/checkpoints/${final.id}`, headers: { 'if-none-match': ifNoneMatch } });
    for (const header of ['*', ` * `, `"abc", "${final.sha256}"`, `W/"${final.sha256}"`, `"x,y", W/"${final.sha256}"`]) {
      const res = await get(header);
      assert.equal(res.statusCode, 304, header);
      assert.equal(res.headers.etag, `"${final.sha256}"`, header);
    }
    for (const header of ['"abc"', `"${final.sha256.slice(1)}"`, `${final.sha256}`, '"abc", W/"def"']) {
      const res = await get(header);
      assert.equal(res.statusCode, 200, header);
      assert.equal(res.rawPayload.length, final.size, header);
    }
    const missing = await h.app.inject({ method: 'GET', url: `/v1/checkpoints/${MISSING}`, headers: { 'if-none-match': '*' } });
    assert.equal(missing.statusCode, 404, '* matches only a representation that exists');
  });

  test('an unknown job or checkpoint is a 404 in the error shape', async () => {
    for (const url of [`/v1/jobs/${MISSING}/checkpoints`, '/v1/jobs/not-a-uuid/checkpoints', `/v1/checkpoints/${MISSING}`, '/v1/checkpoints/nope']) {
      const res = await h.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().error.code, 'NOT_FOUND');
    }
  });
});

describe('POST /v1/checkpoints', () => {
  test('a valid safetensors file is stored as an upload and downloads byte for byte', async () => {
    const file = tinyWeights();
    const res = await upload(file);
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json();
    assert.equal(body.kind, 'upload');
    assert.equal(body.size, file.length);
    assert.equal(body.sha256, createHash('sha256').update(file).digest('hex'));
    assert.deepEqual(body.tensors, [
      { name: 'layers.0.weight', shape: [8, 2], dtype: 'F32' },
      { name: 'layers.0.bias', shape: [8], dtype: 'F32' },
      { name: 'layers.1.weight', shape: [2, 8], dtype: 'F32' },
      { name: 'layers.1.bias', shape: [2], dtype: 'F32' },
    ]);
    assert.equal(res.headers.location, `/v1/checkpoints/${body.id}`);
    const row = await h.prisma.checkpoint.findUniqueOrThrow({ where: { id: body.id } });
    assert.equal(row.jobId, null);
    assert.equal(row.kind, 'upload');

    const down = await h.app.inject({ method: 'GET', url: `/v1/checkpoints/${body.id}` });
    assert.ok(down.rawPayload.equals(Buffer.from(file)));
    assert.equal(down.headers['content-disposition'], `attachment; filename="${body.id}.safetensors"`);
  });

  test('garbage is a 400 saying why it is not a safetensors file, and nothing is stored', async () => {
    const before = await h.prisma.checkpoint.count({ where: { kind: 'upload' } });
    const res = await upload(new TextEncoder().encode('definitely not a tensor file, just text of some length'));
    assert.equal(res.statusCode, 400, res.body);
    const { error } = res.json();
    assert.equal(error.code, 'INVALID_CHECKPOINT');
    assert.match(error.message, /not a valid safetensors file: header length/);
    assert.equal(await h.prisma.checkpoint.count({ where: { kind: 'upload' } }), before);

    const empty = await upload(new Uint8Array(0));
    assert.equal(empty.statusCode, 400, empty.body);
    assert.equal(empty.json().error.code, 'INVALID_CHECKPOINT');
  });

  test('a safetensors file without usable layer tensors is a 400 pointing at each problem', async () => {
    const noLayers = encodeSafetensors([{ name: 'embedding', dtype: 'F32', shape: [2], data: new Float32Array(2) }]);
    const res = await upload(noLayers);
    assert.equal(res.statusCode, 400, res.body);
    assert.match(res.json().error.details[0].message, /no layers\.<i>\.weight/);

    const mismatched = encodeSafetensors([
      { name: 'layers.0.weight', dtype: 'F32', shape: [8, 2], data: new Float32Array(16) },
      { name: 'layers.0.bias', dtype: 'F32', shape: [7], data: new Float32Array(7) },
      { name: 'layers.1.weight', dtype: 'I32', shape: [2, 8], data: new Int32Array(16) },
    ]);
    const res2 = await upload(mismatched);
    assert.equal(res2.statusCode, 400, res2.body);
    const details = res2.json().error.details as { pointer: string; message: string }[];
    assert.deepEqual(details.map((d) => d.pointer).sort(), ['/layers.0.bias', '/layers.1.bias', '/layers.1.weight']);
    assert.match(details.find((d) => d.pointer === '/layers.0.bias')!.message, /has 7 values but layers\.0\.weight has 8 rows/);
  });

  test('a body over the upload limit is a 413 that names the limit, in the error shape', async () => {
    // Fastify refuses on the declared length before reading a byte, so the test sends little
    const res = await h.app.inject({
      method: 'POST', url: '/v1/checkpoints',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(UPLOAD_LIMIT_DEFAULT + 1) },
      payload: Buffer.alloc(16),
    });
    assert.equal(res.statusCode, 413, res.body);
    const { error } = res.json();
    assert.equal(error.code, 'BODY_TOO_LARGE');
    assert.ok(error.message.includes(String(UPLOAD_LIMIT_DEFAULT)), error.message);
    assert.match(error.message, /256 MiB/);
  });

  test('a body that is not application/octet-stream is a 415', async () => {
    const res = await upload('{"a":1}', 'application/json');
    assert.equal(res.statusCode, 415, res.body);
    const res2 = await upload('hello', 'image/png');
    assert.equal(res2.statusCode, 415, res2.body);
    assert.equal(res2.json().error.code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.match(res2.json().error.message, /application\/octet-stream/, 'the hint names the type this route takes');
  });

  test('a job with initialWeights from an upload trains from those weights', async () => {
    const file = tinyWeights();
    const id = (await upload(file)).json().id;
    // a learning rate too small to move float32 weights: the final weights are the uploaded ones
    const jobId = await submitJob(h, tinySpec({
      name: 'warm-start',
      initialWeights: { checkpointId: id },
      optimizer: { type: 'sgd', learningRate: 1e-12 },
      training: { epochs: 1, batchSize: 16, seed: 3 },
    }));
    await finished(jobId);
    const final = (await h.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/checkpoints` })).json().items
      .find((c: { kind: string }) => c.kind === 'final');
    const down = await h.app.inject({ method: 'GET', url: `/v1/checkpoints/${final.id}` });
    const trained = decodeSafetensors(new Uint8Array(down.rawPayload)).tensors;
    const uploaded = decodeSafetensors(file).tensors;
    for (const name of ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']) {
      const a = Array.from(trained.get(name)!.data as Float32Array), b = Array.from(uploaded.get(name)!.data as Float32Array);
      assert.equal(a.length, b.length, name);
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-6, `${name}[${i}]: ${a[i]} vs ${b[i]}`);
    }

    // the same job without initialWeights ends elsewhere (its own initialization)
    const coldId = await submitJob(h, tinySpec({ name: 'cold-start', optimizer: { type: 'sgd', learningRate: 1e-12 }, training: { epochs: 1, batchSize: 16, seed: 3 } }));
    await finished(coldId);
    const coldFinal = (await h.app.inject({ method: 'GET', url: `/v1/jobs/${coldId}/checkpoints` })).json().items
      .find((c: { kind: string }) => c.kind === 'final');
    const cold = decodeSafetensors(new Uint8Array((await h.app.inject({ method: 'GET', url: `/v1/checkpoints/${coldFinal.id}` })).rawPayload)).tensors;
    assert.notDeepEqual(Array.from(cold.get('layers.0.weight')!.data as Float32Array), Array.from(uploaded.get('layers.0.weight')!.data as Float32Array));
  });
});

describe('POST /v1/checkpoints refuses files that can never serve as weights', () => {
  const f32 = (n: number, v = 0.5) => new Array(n).fill(v);
  /** a valid 2 → 8 → 2 network, to spoil one thing at a time */
  const good = (): RawTensor[] => [
    { name: 'layers.0.weight', shape: [8, 2], values: f32(16) },
    { name: 'layers.0.bias', shape: [8], values: f32(8) },
    { name: 'layers.1.weight', shape: [2, 8], values: f32(16) },
    { name: 'layers.1.bias', shape: [2], values: f32(2) },
  ];
  const spoilt = (name: string, change: Partial<RawTensor>) => good().map((t) => (t.name === name ? { ...t, ...change } : t));

  async function refused(file: Uint8Array, pointer: string, message: RegExp) {
    const before = await h.prisma.checkpoint.count({ where: { kind: 'upload' } });
    const res = await upload(file);
    assert.equal(res.statusCode, 400, res.body);
    const { error } = res.json();
    assert.equal(error.code, 'INVALID_CHECKPOINT');
    const detail = (error.details as { pointer: string; message: string }[]).find((d) => d.pointer === pointer);
    assert.ok(detail, `a problem at ${pointer}: ${JSON.stringify(error.details)}`);
    assert.match(detail.message, message);
    assert.equal(await h.prisma.checkpoint.count({ where: { kind: 'upload' } }), before, 'nothing stored');
  }

  test('the unspoilt file is accepted (the cases below differ from it in one thing each)', async () => {
    assert.equal((await upload(writeTensors(good()))).statusCode, 201);
  });

  test('a tensor named twice in the header', async () => {
    // a second layers.0.bias entry pointing at the same bytes: JSON.parse alone keeps the last
    const file = writeTensors(good(), (json) => json.replace(
      '"layers.0.bias":{"dtype":"F32","shape":[8],"data_offsets":[64,96]}',
      '"layers.0.bias":{"dtype":"F32","shape":[8],"data_offsets":[64,96]},"layers.0.bias":{"dtype":"F32","shape":[8],"data_offsets":[64,96]}',
    ));
    assert.ok(Buffer.from(file).toString('latin1').split('"layers.0.bias"').length === 3, 'premise: the name appears twice');
    await refused(file, '/layers.0.bias', /twice/);
  });

  test('NaN and Infinity values, F32 and F64', async () => {
    await refused(writeTensors(spoilt('layers.1.weight', { values: [...f32(9), NaN, ...f32(6)] })), '/layers.1.weight', /NaN at \[1, 1\]/);
    await refused(writeTensors(spoilt('layers.0.bias', { values: [...f32(7), -Infinity], dtype: 'F64' })), '/layers.0.bias', /-Infinity at \[7\]/);
  });

  test('a broken layer chain: a layer that does not take the previous one\'s outputs', async () => {
    await refused(writeTensors([
      ...good().slice(0, 2),
      { name: 'layers.1.weight', shape: [2, 5], values: f32(10) },
      { name: 'layers.1.bias', shape: [2], values: f32(2) },
    ]), '/layers.1.weight', /takes 5 inputs but layers\.0 puts out 8/);
  });

  test('a chain through a dropout index and a maxout layer (rows = units · pieces) is accepted', async () => {
    const res = await upload(writeTensors([
      { name: 'layers.0.weight', shape: [8, 2], values: f32(16) }, // maxout: 4 units × 2 pieces
      { name: 'layers.0.bias', shape: [8], values: f32(8) },
      { name: 'layers.2.weight', shape: [2, 4], values: f32(8) }, // layers.1 is dropout
      { name: 'layers.2.bias', shape: [2], values: f32(2) },
    ]));
    assert.equal(res.statusCode, 201, res.body);
  });

  test('an input dropout at layers.0 (stored layers start at layers.1) is accepted', async () => {
    const res = await upload(writeTensors(good().map((t) => ({ ...t, name: t.name.replace(/^layers\.(\d)/, (_m, i) => `layers.${Number(i) * 2 + 1}`) }))));
    assert.equal(res.statusCode, 201, res.body);
  });

  test('layers missing at the start', async () => {
    await refused(writeTensors(good().slice(2).map((t) => ({ ...t, name: t.name.replace('layers.1', 'layers.3') }))), '/layers.0.weight', /start at layers\.3/);
  });

  test('a zero-sized dimension', async () => {
    await refused(writeTensors([
      { name: 'layers.0.weight', shape: [0, 2], values: [] },
      { name: 'layers.0.bias', shape: [0], values: [] },
    ]), '/layers.0.weight', /has shape \[0, 2\]/);
  });

  test('a non-canonical layer index or an unknown layer part', async () => {
    await refused(writeTensors(good().map((t) => (t.name === 'layers.1.bias' ? { ...t, name: 'layers.01.bias' } : t))), '/layers.01.bias', /leading zeros/);
    await refused(writeTensors([...good(), { name: 'layers.1.scale', shape: [2], values: f32(2) }]), '/layers.1.scale', /not a layer tensor/);
  });
});

describe('OpenAPI', () => {
  test('the checkpoint, predict, events and early-stopping routes are documented with their media types', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const paths = doc.paths;
    assert.ok(paths['/v1/jobs/{id}/checkpoints'].get.responses['200'].content['application/json']);
    assert.deepEqual(paths['/v1/checkpoints/{id}'].get.responses['200'].content['application/octet-stream'].schema, { type: 'string', format: 'binary' });
    assert.ok(paths['/v1/checkpoints'].post.requestBody.content['application/octet-stream']);
    assert.ok(paths['/v1/checkpoints'].post.responses['201'].content['application/json'].schema.properties.tensors);
    assert.ok(paths['/v1/jobs/{id}/early-stopping'].get.responses['200']);
    assert.ok(paths['/v1/jobs/{id}/predict'].post.requestBody.content['application/json'].schema.properties.inputs);
    assert.ok(paths['/v1/jobs/{id}/events'].get.responses['200'].content['text/event-stream']);
  });
});
