import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodeSafetensors, encodeSafetensors } from '../../src/core/safetensors.js';
import type { TrainingWorker } from '../../workers/training-worker.js';
import { startTestWorker, createTestApp, tinySpec, waitFor, type TestApp, submitJob } from '../helpers/app.js';

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

  test('a trained job lists its epoch and final checkpoints, exactly one flagged best: the newest that was best when written', async () => {
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
    const expected = await h.prisma.checkpoint.findFirstOrThrow({
      where: { jobId, kind: 'epoch', isBest: true }, orderBy: { step: 'desc' }, select: { id: true, epoch: true },
    });
    assert.equal(best[0].id, expected.id);
    // the best checkpoint is the epoch early stopping reported as best
    const job = (await h.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}` })).json();
    assert.equal(best[0].epoch, job.result.best.epoch);
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

  test('a body that is not application/octet-stream is a 415', async () => {
    const res = await upload('{"a":1}', 'application/json');
    assert.equal(res.statusCode, 415, res.body);
    const res2 = await upload('hello', 'image/png');
    assert.equal(res2.statusCode, 415, res2.body);
    assert.equal(res2.json().error.code, 'UNSUPPORTED_MEDIA_TYPE');
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
