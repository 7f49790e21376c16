import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainingWorker } from '../../workers/training-worker.js';
import { startTestWorker, createTestApp, tinySpec, waitFor, type TestApp, submitJob, fetchJob } from '../helpers/app.js';
import { readF32Tensors, writeTensors, type F32Tensor } from '../helpers/safetensors-bytes.js';

let h: TestApp;
let worker: TrainingWorker | undefined;

before(async () => {
  h = await createTestApp('api-predict');
});
after(async () => {
  await worker?.close();
  await h?.close();
});

const MISSING = '00000000-0000-4000-8000-000000000000';
/** float32 inference against a float64 reference */
const TOLERANCE = 1e-5;

interface Layer { type: string; units?: number; activation?: string; rate?: number }
interface Checkpoint { id: string; kind: string; epoch: number | null; step: number | null; best: boolean }

async function succeeded(id: string) {
  const job = await waitFor(() => fetchJob(h, id), (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status), {
    timeoutMs: 60_000, what: `job ${id} finished`,
  });
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  return job;
}

function predict(id: string, payload: unknown) {
  return h.app.inject({ method: 'POST', url: `/v1/jobs/${id}/predict`, payload: payload as object });
}

async function checkpoints(jobId: string): Promise<Checkpoint[]> {
  return (await h.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/checkpoints` })).json().items;
}

/** The tensors of a checkpoint as downloaded, read with the test's own reader. */
async function download(checkpointId: string): Promise<Map<string, F32Tensor>> {
  const res = await h.app.inject({ method: 'GET', url: `/v1/checkpoints/${checkpointId}` });
  assert.equal(res.statusCode, 200);
  return readF32Tensors(new Uint8Array(res.rawPayload)).tensors;
}

/**
 * The network written out in float64: y = act(W·x + b) per dense layer (W [out, in]),
 * dropout the identity (inverted dropout: the stored weights are the test-time ones),
 * or, given `mask`, a thinned network (kept units scaled by 1/(1 − p)).
 */
function forward(layers: Layer[], w: Map<string, F32Tensor>, x: number[], mask?: (layer: number, unit: number) => boolean): number[] {
  let a = x.slice();
  layers.forEach((layer, i) => {
    if (layer.type === 'dropout') {
      if (mask) a = a.map((v, j) => (mask(i, j) ? v / (1 - layer.rate!) : 0));
      return;
    }
    const W = w.get(`layers.${i}.weight`)!, b = w.get(`layers.${i}.bias`)!;
    const [out, inn] = W.shape as [number, number];
    const z = Array.from({ length: out }, (_, o) => {
      let s = b.data[o]!;
      for (let j = 0; j < inn; j++) s += W.data[o * inn + j]! * a[j]!;
      return s;
    });
    const act = layer.activation ?? 'linear';
    if (act === 'softmax') {
      const m = Math.max(...z), e = z.map((v) => Math.exp(v - m)), sum = e.reduce((p, q) => p + q, 0);
      a = e.map((v) => v / sum);
    } else if (act === 'tanh') a = z.map(Math.tanh);
    else if (act === 'relu') a = z.map((v) => Math.max(0, v));
    else if (act === 'linear') a = z;
    else throw new Error(`reference has no ${act}`);
  });
  return a;
}

async function reference(spec: { model: { layers: Layer[] } }, checkpointId: string, inputs: number[][]): Promise<number[][]> {
  const w = await download(checkpointId);
  return inputs.map((x) => forward(spec.model.layers, w, x));
}

function assertClose(actual: number[][], expected: number[][], what: string) {
  assert.equal(actual.length, expected.length, `${what}: rows`);
  for (let r = 0; r < expected.length; r++) {
    assert.equal(actual[r]!.length, expected[r]!.length, `${what}: row ${r} width`);
    for (let j = 0; j < expected[r]!.length; j++) {
      assert.ok(Math.abs(actual[r]![j]! - expected[r]![j]!) <= TOLERANCE, `${what}: row ${r}[${j}] is ${actual[r]![j]}, the reference ${expected[r]![j]}`);
    }
  }
}

/**
 * The best epoch by the early-stopping values, with Keras's rule for a loss (mode min):
 * the first epoch, then each that beats the best so far by more than minDelta.
 */
async function bestDecidedEpoch(jobId: string, minDelta = 0): Promise<{ epoch: number; epochs: number }> {
  const { items } = (await h.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/early-stopping` })).json();
  assert.ok(items.length > 0, 'decisions');
  let best = items[0];
  for (const d of items) if (d.value < best.value - minDelta) best = d;
  return { epoch: best.epoch, epochs: items.length };
}

const XOR_INPUTS = [[0, 0], [0, 1], [1, 0], [1, 1], [0.3, -0.7]];

describe('POST /v1/jobs/:id/predict without weights', () => {
  test('a job that has not trained yet, or was cancelled before training, is a 409', async () => {
    // no worker runs yet: the job stays queued
    const queued = await submitJob(h, tinySpec({ name: 'still-queued' }));
    const res = await predict(queued, { inputs: XOR_INPUTS });
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(res.json().error.code, 'NO_WEIGHTS');
    assert.match(res.json().error.message, /is queued and has no weights yet/);
    assert.equal((await predict(queued, { inputs: XOR_INPUTS, weights: 'best' })).statusCode, 409);

    assert.equal((await h.app.inject({ method: 'POST', url: `/v1/jobs/${queued}/cancel` })).statusCode, 200);
    const cancelled = await predict(queued, { inputs: XOR_INPUTS });
    assert.equal(cancelled.statusCode, 409, cancelled.body);
    assert.match(cancelled.json().error.message, /is cancelled and has no weights/);
  });

  test('an unknown job is a 404', async () => {
    for (const id of [MISSING, 'not-a-uuid']) {
      const res = await predict(id, { inputs: XOR_INPUTS });
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().error.code, 'NOT_FOUND');
    }
  });
});

describe('POST /v1/jobs/:id/predict', () => {
  let job: { id: string; spec: { model: { layers: Layer[] } } };
  before(async () => {
    worker = await startTestWorker(h);
    const id = await submitJob(h, tinySpec({
      name: 'predict-xor',
      training: { epochs: 6, batchSize: 16, seed: 5 },
      earlyStopping: { monitor: 'val_loss', patience: 10, restoreBest: false },
      checkpoints: { everyEpochs: 1, keepLast: 10, keepBest: true },
    }));
    job = await succeeded(id);
  });

  test('outputs equal a float64 forward pass over the downloaded final weights, predictions are their arg-max', async () => {
    const res = await predict(job.id, { inputs: XOR_INPUTS });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    const final = (await checkpoints(job.id)).find((c) => c.kind === 'final')!;
    assert.equal(body.checkpointId, final.id);
    assert.equal(body.epoch, 6);
    assertClose(body.outputs, await reference(job.spec, final.id, XOR_INPUTS), 'final');
    assert.deepEqual(body.predictions, body.outputs.map((o: number[]) => o.indexOf(Math.max(...o))));
    // a second call (cached weights) answers the same
    assert.deepEqual((await predict(job.id, { inputs: XOR_INPUTS, weights: 'final' })).json().outputs, body.outputs);
  });

  test('weights=best runs the checkpoint of the epoch with the lowest val_loss among the early-stopping decisions', async () => {
    const { epoch } = await bestDecidedEpoch(job.id);
    const expected = (await checkpoints(job.id)).find((c) => c.kind === 'epoch' && c.epoch === epoch)!;
    assert.ok(expected, `a checkpoint of epoch ${epoch}`);
    const res = await predict(job.id, { inputs: XOR_INPUTS, weights: 'best' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().checkpointId, expected.id);
    assert.equal(res.json().epoch, epoch);
    assertClose(res.json().outputs, await reference(job.spec, expected.id, XOR_INPUTS), 'best');
  });

  test('more rows than one batch of the network (300 > 256) each equal the reference and the same row predicted alone', async () => {
    const inputs = Array.from({ length: 300 }, (_, i) => [Math.sin(i * 1.3) * 2, Math.cos(i * 0.7) * 2]);
    const res = await predict(job.id, { inputs });
    assert.equal(res.statusCode, 200, res.body);
    const { outputs, checkpointId } = res.json();
    assertClose(outputs, await reference(job.spec, checkpointId, inputs), '300 rows');
    for (const r of [0, 255, 256, 299]) {
      const alone = (await predict(job.id, { inputs: [inputs[r]] })).json().outputs[0];
      assert.deepEqual(outputs[r], alone, `row ${r}`);
    }
  });

  test('rows of the wrong width are a 400 listing each with a JSON pointer', async () => {
    const res = await predict(job.id, { inputs: [[0, 1], [1, 2, 3, 4, 5], [0, 0], [7]] });
    assert.equal(res.statusCode, 400, res.body);
    const { error } = res.json();
    assert.equal(error.code, 'INVALID_INPUTS');
    assert.deepEqual(error.details, [
      { pointer: '/inputs/1', message: 'has 5 values; the model takes 2' },
      { pointer: '/inputs/3', message: 'has 1 value; the model takes 2' },
    ]);
  });

  test('empty inputs, too many rows, non-numbers and a bad weights choice are 400s', async () => {
    const empty = await predict(job.id, { inputs: [] });
    assert.equal(empty.statusCode, 400, empty.body);
    assert.equal(empty.json().error.details[0].pointer, '/inputs');

    const many = await predict(job.id, { inputs: Array.from({ length: 10_001 }, () => [0, 0]) });
    assert.equal(many.statusCode, 400, many.body);
    assert.equal(many.json().error.details[0].pointer, '/inputs');

    const text = await predict(job.id, { inputs: [[0, 'one']] });
    assert.equal(text.statusCode, 400, text.body);
    assert.ok(text.json().error.details.some((d: { pointer: string }) => d.pointer === '/inputs/0/1'));

    // JSON has no Infinity, but 1e999 parses to it
    const inf = await h.app.inject({
      method: 'POST', url: `/v1/jobs/${job.id}/predict`, headers: { 'content-type': 'application/json' },
      payload: '{"inputs":[[0,1],[1e999,0]]}',
    });
    assert.equal(inf.statusCode, 400, inf.body);
    assert.deepEqual(inf.json().error.details.map((d: { pointer: string }) => d.pointer), ['/inputs/1/0']);

    const weights = await predict(job.id, { inputs: XOR_INPUTS, weights: 'latest' });
    assert.equal(weights.statusCode, 400, weights.body);
    assert.equal(weights.json().error.details[0].pointer, '/weights');
  });

  test('finite inputs beyond float32 are a 400 pointing at each value; float32 max itself is taken', async () => {
    const res = await predict(job.id, { inputs: [[3.5e38, 3.5e38], [0, 0], [-3.4028236e38, 1]] });
    assert.equal(res.statusCode, 400, res.body);
    const { error } = res.json();
    assert.equal(error.code, 'INVALID_INPUTS');
    assert.deepEqual(error.details.map((d: { pointer: string }) => d.pointer), ['/inputs/0/0', '/inputs/0/1', '/inputs/2/0']);
    assert.match(error.details[0].message, /float32/);
    // tanh saturates: the largest float32 is an input like any other for this network
    const max = await predict(job.id, { inputs: [[3.4028234663852886e38, -3.4028234663852886e38]] });
    assert.equal(max.statusCode, 200, max.body);
  });

  test('an unknown field in the body is a 400 naming it, not ignored', async () => {
    const res = await predict(job.id, { inputs: XOR_INPUTS, weight: 'best' });
    assert.equal(res.statusCode, 400, res.body);
    const { error } = res.json();
    // the wording of the detail is the error handler's; the pointer is what a client acts on
    assert.ok(error.details.some((d: { pointer: string }) => d.pointer === '/weight'), JSON.stringify(error));
  });

  test('a job cancelled mid-training predicts with the listed epoch or resume checkpoint of the highest step', async () => {
    const id = await submitJob(h, tinySpec({
      name: 'predict-cancelled',
      dataset: { name: 'synthetic/xor', n: 1200, validationSplit: 0.2, seed: 3 },
      training: { epochs: 1000, batchSize: 4, seed: 1 },
    }));
    await waitFor(() => fetchJob(h, id), (j) => j.status === 'running' && j.progress?.epoch >= 1, { timeoutMs: 60_000, what: 'an epoch done' });
    assert.equal((await h.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` })).statusCode, 202);
    const cancelled = await waitFor(() => fetchJob(h, id), (j) => j.status === 'cancelled', { timeoutMs: 30_000, what: 'cancelled' });
    const listed = (await checkpoints(id)).filter((c) => c.kind === 'epoch' || c.kind === 'resume');
    assert.ok(listed.length > 0);
    const newest = listed.reduce((a, b) => (b.step! >= a.step! ? b : a));
    const res = await predict(id, { inputs: XOR_INPUTS });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().checkpointId, newest.id, 'the highest step; on a tie the newer');
    assertClose(res.json().outputs, await reference(cancelled.spec, newest.id, XOR_INPUTS), 'cancelled');
  });

  test('a regression job answers outputs without predictions', async () => {
    const id = await submitJob(h, tinySpec({
      name: 'predict-regression',
      dataset: { name: 'synthetic/regression', n: 64, seed: 1 },
      model: { layers: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dense', units: 1, activation: 'linear' }] },
      loss: 'mse',
    }));
    const reg = await succeeded(id);
    const inputs = [[-1], [0], [0.5]];
    const res = await predict(id, { inputs });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.ok(!('predictions' in body));
    assertClose(body.outputs, await reference(reg.spec, body.checkpointId, inputs), 'regression');
  });
});

describe('predict: the weights it reports and the best epoch', () => {
  // a minDelta no loss can beat: the best epoch is the first, an epoch that
  // everyEpochs 2 does not checkpoint
  const MIN_DELTA = 1000;
  const bestIsFirst = (name: string, restoreBest: boolean, keepBest: boolean) => tinySpec({
    name,
    training: { epochs: 5, batchSize: 16, seed: 11 },
    earlyStopping: { monitor: 'val_loss', minDelta: MIN_DELTA, patience: 10, restoreBest },
    checkpoints: { everyEpochs: 2, keepLast: 10, keepBest },
  });

  test('weights=final after restoreBest runs the best epoch\'s weights and says which epoch', async () => {
    const id = await submitJob(h, bestIsFirst('restored-final', true, true));
    const done = await succeeded(id);
    const { epoch, epochs } = await bestDecidedEpoch(id, MIN_DELTA);
    assert.ok(epoch < epochs, `premise: the best epoch (${epoch}) is not the last (${epochs})`);
    const res = await predict(id, { inputs: XOR_INPUTS });
    assert.equal(res.statusCode, 200, res.body);
    const final = (await checkpoints(id)).find((c) => c.kind === 'final')!;
    assert.equal(res.json().checkpointId, final.id);
    assert.equal(res.json().epoch, epoch);
    // and those are the best epoch's weights: its own checkpoint (keepBest) gives the same outputs
    const own = (await checkpoints(id)).find((c) => c.kind === 'epoch' && c.epoch === epoch)!;
    assert.ok(own, 'keepBest kept the best epoch');
    assertClose(res.json().outputs, await reference(done.spec, own.id, XOR_INPUTS), 'final = best epoch');
  });

  test('with everyEpochs > 1 and keepBest false, best is the final checkpoint when it restored the best weights, else a 409 naming the epoch', async () => {
    const restored = await submitJob(h, bestIsFirst('every2-restored', true, false));
    const plain = await submitJob(h, bestIsFirst('every2-plain', false, false));
    const restoredJob = await succeeded(restored);
    await succeeded(plain);

    const { epoch } = await bestDecidedEpoch(restored, MIN_DELTA);
    const listed = await checkpoints(restored);
    assert.ok(!listed.some((c) => c.kind === 'epoch' && c.epoch === epoch), `premise: epoch ${epoch} has no checkpoint of its own`);
    const final = listed.find((c) => c.kind === 'final')!;
    const res = await predict(restored, { inputs: XOR_INPUTS, weights: 'best' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().checkpointId, final.id);
    assert.equal(res.json().epoch, epoch);
    assertClose(res.json().outputs, await reference(restoredJob.spec, final.id, XOR_INPUTS), 'best = restored final');
    assert.deepEqual(listed.filter((c) => c.best).map((c) => c.id), [final.id], 'the listing marks the same one best');

    const { epoch: plainBest } = await bestDecidedEpoch(plain, MIN_DELTA);
    const none = await predict(plain, { inputs: XOR_INPUTS, weights: 'best' });
    assert.equal(none.statusCode, 409, none.body);
    assert.equal(none.json().error.code, 'NO_WEIGHTS');
    assert.match(none.json().error.message, new RegExp(`best epoch ${plainBest} has no checkpoint`));
    assert.ok(!(await checkpoints(plain)).some((c) => c.best), 'no checkpoint is marked best');
  });

  test('mc-ensemble answers the mean of sampled thinned networks, the same on every call, not the weight-scaled network', async () => {
    const layers: Layer[] = [
      { type: 'dense', units: 4, activation: 'tanh' },
      { type: 'dropout', rate: 0.5 },
      { type: 'dense', units: 2, activation: 'softmax' },
    ];
    const K = 3;
    const id = await submitJob(h, tinySpec({
      name: 'predict-mc',
      model: { layers, dropoutInference: 'mc-ensemble', mcSamples: K },
      training: { epochs: 3, batchSize: 16, seed: 2 },
    }));
    await succeeded(id);
    const res = await predict(id, { inputs: XOR_INPUTS });
    assert.equal(res.statusCode, 200, res.body);
    const { outputs, checkpointId } = res.json();
    const w = await download(checkpointId);
    // the 16 thinned networks of the 4 hidden units, for each row
    const masks = Array.from({ length: 16 }, (_, m) => (_layer: number, unit: number) => ((m >> unit) & 1) === 1);
    let differsFromScaling = false;
    XOR_INPUTS.forEach((x, r) => {
      const thinned = masks.map((mask) => forward(layers, w, x, mask));
      let found = false;
      for (let a = 0; a < 16 && !found; a++) for (let b = a; b < 16 && !found; b++) for (let c = b; c < 16 && !found; c++) {
        found = outputs[r].every((v: number, j: number) => Math.abs(v - (thinned[a]![j]! + thinned[b]![j]! + thinned[c]![j]!) / K) <= TOLERANCE);
      }
      assert.ok(found, `row ${r}: ${outputs[r]} is not the mean of ${K} thinned networks`);
      const scaled = forward(layers, w, x);
      if (scaled.some((v, j) => Math.abs(v - outputs[r][j]) > 1e-3)) differsFromScaling = true;
    });
    assert.ok(differsFromScaling, 'the ensemble differs from the weight-scaled network');
    assert.deepEqual((await predict(id, { inputs: XOR_INPUTS })).json().outputs, outputs, 'seeded: the same answer again');
  });

  test('a row whose output overflows float32 although its inputs fit is a 422 naming the row', async () => {
    // all-ones weights and relu: 3e38 + 3e38 overflows in the first layer
    const ones = (n: number) => new Array(n).fill(1);
    const upload = await h.app.inject({
      method: 'POST', url: '/v1/checkpoints', headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.from(writeTensors([
        { name: 'layers.0.weight', shape: [4, 2], values: ones(8) },
        { name: 'layers.0.bias', shape: [4], values: new Array(4).fill(0) },
        { name: 'layers.1.weight', shape: [2, 4], values: [1, 1, 1, 1, -1, -1, -1, -1] },
        { name: 'layers.1.bias', shape: [2], values: [0, 0] },
      ])),
    });
    assert.equal(upload.statusCode, 201, upload.body);
    const id = await submitJob(h, tinySpec({
      name: 'predict-overflow',
      model: { layers: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'dense', units: 2, activation: 'softmax' }] },
      initialWeights: { checkpointId: upload.json().id },
      optimizer: { type: 'sgd', learningRate: 1e-12 },
      training: { epochs: 1, batchSize: 16, seed: 3 },
    }));
    await succeeded(id);
    const res = await predict(id, { inputs: [[1, 1], [3e38, 3e38], [0, 0]] });
    assert.equal(res.statusCode, 422, res.body);
    const { error } = res.json();
    assert.equal(error.code, 'OUTPUT_OVERFLOW');
    assert.deepEqual(error.details.map((d: { pointer: string }) => d.pointer), ['/inputs/1']);
    assert.match(error.details[0].message, /overflowed float32 for this row/);
    assert.equal((await predict(id, { inputs: [[1, 1], [0, 0]] })).statusCode, 200);
  });
});
