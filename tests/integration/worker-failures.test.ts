// How a job ends when it cannot train, with an in-process worker on real Postgres and
// Redis: a failure that can never succeed by retrying fails the job ONCE (attempt 1,
// BullMQ attemptsMade 1, state failed) with a reason a person understands; a transient
// error is retried (attempt + 1) and the retry succeeds; a cancel requested before a
// worker starts means the worker trains nothing.
import { EVERY_TENANT } from '../../src/db/scope.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeSafetensors } from '../../src/core/safetensors.js';
import { createJob, requestCancel } from '../../src/db/repositories/jobs.js';
import { enqueueTraining } from '../../src/queue/train-queue.js';
import { specHash } from '../../src/spec/index.js';
import type { TrainingWorker } from '../../workers/training-worker.js';
import { createTestApp, fetchJob, startTestWorker, submitJob, tinySpec, waitFor, type TestApp } from '../helpers/app.js';

let h: TestApp;
const emptyDataDir = mkdtempSync(path.join(tmpdir(), 'trainyard-no-data-'));

before(async () => {
  // DATA_DIR with nothing in it: fashion-mnist is "not installed" for this worker
  h = await createTestApp('worker-failures', { dataDir: emptyDataDir });
});
after(async () => {
  await h?.close();
  rmSync(emptyDataDir, { recursive: true, force: true });
});

/** Runs `body` with a worker on the test queue, closed afterwards (each test decides when one starts). */
async function withWorker<T>(body: (w: TrainingWorker) => Promise<T>): Promise<T> {
  const w = await startTestWorker(h);
  try {
    return await body(w);
  } finally {
    await w.close();
  }
}

/** Stores and queues a job the way the API does, minus the API's validation: what an old or hand-made row looks like to a worker. */
async function storeJob(spec: Record<string, unknown>): Promise<string> {
  const created = await createJob(h.prisma, EVERY_TENANT, { name: String(spec.name ?? 'stored'), spec: spec as never, specHash: specHash(spec as never) });
  await enqueueTraining(h.queue, created.job.id);
  return created.job.id;
}

function untilFinished(id: string, timeoutMs = 30_000) {
  return waitFor(() => fetchJob(h, id), (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status), { timeoutMs, what: `job ${id} finished` });
}

async function eventTypes(id: string): Promise<string[]> {
  return (await h.prisma.jobEvent.findMany({ where: { jobId: id }, orderBy: { id: 'asc' } })).map((e) => e.type);
}

/** Failed once and for good: one attempt in Postgres, one in BullMQ, BullMQ's job failed (not waiting for a retry). */
async function assertFailedOnce(id: string): Promise<{ code: string; message: string }> {
  const job = await untilFinished(id);
  assert.equal(job.status, 'failed', JSON.stringify(job));
  assert.equal(job.attempt, 1, 'one attempt');
  const bull = (await h.queue.getJob(id))!;
  await waitFor(() => bull.getState(), (s) => s === 'failed', { what: 'BullMQ job failed' });
  const fresh = (await h.queue.getJob(id))!;
  assert.equal(fresh.attemptsMade, 1, 'BullMQ did not retry');
  const events = await h.prisma.jobEvent.findMany({ where: { jobId: id }, orderBy: { id: 'asc' } });
  assert.equal(events.filter((e) => e.type === 'failed').length, 1);
  assert.equal(events.at(-1)!.type, 'failed');
  assert.equal(events.at(-1)!.message, job.error.message, 'the event says what the job says');
  assert.ok(!events.some((e) => e.type === 'retrying' || e.type === 'retried'));
  assert.equal(await h.prisma.metricPoint.count({ where: { jobId: id } }), 0, 'nothing trained');
  return job.error;
}

/** safetensors in PyTorch layout whose first layer expects 5 inputs; xor has 2. */
function weightsForFiveInputs(): Uint8Array {
  const f = (n: number) => new Float32Array(n).fill(0.1);
  return encodeSafetensors([
    { name: 'layers.0.weight', dtype: 'F32', shape: [8, 5], data: f(40) },
    { name: 'layers.0.bias', dtype: 'F32', shape: [8], data: f(8) },
    { name: 'layers.1.weight', dtype: 'F32', shape: [2, 8], data: f(16) },
    { name: 'layers.1.bias', dtype: 'F32', shape: [2], data: f(2) },
  ]);
}

async function storeUpload(bytes: Uint8Array): Promise<string> {
  const id = randomUUID();
  await h.prisma.checkpoint.create({
    data: { id, kind: 'upload', size: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex'), data: new Uint8Array(bytes) },
  });
  return id;
}

describe('permanent failures fail once, with a readable reason', () => {
  test('a stored spec that is not valid (any more) fails with every problem and its pointer', async () => {
    const id = await storeJob(tinySpec({
      name: 'invalid-stored',
      model: { layers: [{ type: 'dense', units: 0, activation: 'tanh' }, { type: 'dense', units: 2, activation: 'softmax' }] },
    }));
    const error = await withWorker(() => assertFailedOnce(id));
    assert.equal(error.code, 'INVALID_SPEC');
    assert.match(error.message, /^the stored spec is not valid: \/model\/layers\/0\/units: /);
  });

  test('a dataset not installed on the worker (fashion-mnist, empty DATA_DIR) fails saying where it looked', async () => {
    const id = await storeJob(tinySpec({
      name: 'no-fashion',
      dataset: { name: 'fashion-mnist', validationSplit: 0.1, limit: 100 },
      model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] },
    }));
    const error = await withWorker(() => assertFailedOnce(id));
    assert.equal(error.code, 'DATASET_NOT_INSTALLED');
    assert.match(error.message, /^fashion-mnist is not installed on this machine: looked for /);
    assert.ok(error.message.includes(emptyDataDir), error.message);
  });

  test('initial weights that do not fit the model fail naming the tensor', async () => {
    const checkpointId = await storeUpload(weightsForFiveInputs());
    const id = await submitJob(h, tinySpec({ name: 'bad-weights', initialWeights: { checkpointId } }));
    const error = await withWorker(() => assertFailedOnce(id));
    assert.equal(error.code, 'INCOMPATIBLE_WEIGHTS');
    assert.match(error.message, /layers\.0\.weight/);
  });

  test('an initialWeights checkpoint deleted between submit and start fails saying it is gone', async () => {
    const f = (n: number) => new Float32Array(n).fill(0.1);
    const checkpointId = await storeUpload(encodeSafetensors([
      { name: 'layers.0.weight', dtype: 'F32', shape: [8, 2], data: f(16) },
      { name: 'layers.0.bias', dtype: 'F32', shape: [8], data: f(8) },
      { name: 'layers.1.weight', dtype: 'F32', shape: [2, 8], data: f(16) },
      { name: 'layers.1.bias', dtype: 'F32', shape: [2], data: f(2) },
    ]));
    const id = await submitJob(h, tinySpec({ name: 'weights-gone', initialWeights: { checkpointId } }));
    await h.prisma.checkpoint.delete({ where: { id: checkpointId } });
    const error = await withWorker(() => assertFailedOnce(id));
    assert.equal(error.code, 'CHECKPOINT_NOT_FOUND');
    assert.equal(error.message, `initialWeights.checkpointId ${checkpointId} does not exist (any more)`);
  });
});

describe('retries', () => {
  test('a transient error is retried: attempt 2 starts, the failure is on record, and the job succeeds', async () => {
    const id = await submitJob(h, tinySpec({ name: 'flaky', training: { epochs: 2, batchSize: 16, seed: 7 } }));
    // A real failure from Postgres, once: the first write of an epoch event for this job raises.
    // A sequence survives the rollback of the transaction that called nextval.
    await h.prisma.$executeRawUnsafe(`CREATE SEQUENCE flaky_once`);
    await h.prisma.$executeRawUnsafe(`
      CREATE FUNCTION flaky_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.type = 'epoch' AND NEW.job_id = '${id}'::uuid AND nextval('flaky_once') = 1 THEN
          RAISE EXCEPTION 'injected: the connection was reset';
        END IF;
        RETURN NEW;
      END $$`);
    await h.prisma.$executeRawUnsafe(`CREATE TRIGGER flaky_once BEFORE INSERT ON job_events FOR EACH ROW EXECUTE FUNCTION flaky_once()`);
    try {
      const job = await withWorker(() => untilFinished(id, 60_000)); // BullMQ's backoff: 5 s before the retry
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.equal(job.attempt, 2);
      assert.equal(job.error, null, 'a succeeded job carries no error');
      const events = await h.prisma.jobEvent.findMany({ where: { jobId: id }, orderBy: { id: 'asc' } });
      assert.deepEqual(events.map((e) => [e.type, e.attempt]), [
        ['queued', 0], ['started', 1], ['retrying', 1], ['retried', 2], ['epoch', 2], ['epoch', 2], ['succeeded', 2],
      ]);
      const retrying = events.find((e) => e.type === 'retrying')!;
      assert.match(retrying.message, /^attempt 1 failed: the worker failed: [\s\S]*injected: the connection was reset/);
      assert.equal((retrying.data as { code: string }).code, 'INTERNAL');
      const bull = (await h.queue.getJob(id))!;
      assert.equal(await bull.getState(), 'completed');
      assert.equal(bull.attemptsMade, 2, 'BullMQ ran it twice');
      const trainLoss = await h.prisma.metricPoint.findMany({ where: { jobId: id, name: 'train_loss' }, orderBy: { step: 'asc' } });
      assert.deepEqual(trainLoss.map((p) => p.epoch), [1, 2]);
    } finally {
      await h.prisma.$executeRawUnsafe(`DROP TRIGGER flaky_once ON job_events`);
      await h.prisma.$executeRawUnsafe(`DROP FUNCTION flaky_once()`);
      await h.prisma.$executeRawUnsafe(`DROP SEQUENCE flaky_once`);
    }
  });
});

describe('cancel before a worker starts', () => {
  test('a queued job whose cancel was requested is cancelled by the worker that takes it, without training', async () => {
    const id = await submitJob(h, tinySpec({ name: 'cancel-requested-queued' }));
    // what the cancel route does when BullMQ will not hand the job back (a worker holds it, not yet started)
    assert.equal(await requestCancel(h.prisma, EVERY_TENANT, id), true);
    const job = await withWorker(() => untilFinished(id));
    assert.equal(job.status, 'cancelled');
    assert.equal(job.attempt, 0, 'no attempt started');
    assert.deepEqual(await eventTypes(id), ['queued', 'cancelled']);
    assert.equal((await h.prisma.jobEvent.findFirstOrThrow({ where: { jobId: id, type: 'cancelled' } })).message, 'cancelled before training started');
    assert.equal(await h.prisma.metricPoint.count({ where: { jobId: id } }), 0);
    assert.equal(await h.prisma.checkpoint.count({ where: { jobId: id } }), 0);
  });

  test('a job cancelled while queued and then delivered to a worker anyway (re-queued) is not trained', async () => {
    const id = await submitJob(h, tinySpec({ name: 'cancelled-then-delivered' }));
    const res = await h.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().status, 'cancelled');
    await enqueueTraining(h.queue, id); // a duplicate delivery
    await withWorker(async () => {
      await waitFor(async () => (await h.queue.getJob(id))?.getState(), (s) => s === 'completed', { what: 'the worker to take the delivery' });
    });
    const job = await fetchJob(h, id);
    assert.equal(job.status, 'cancelled');
    assert.equal(job.attempt, 0);
    assert.deepEqual(await eventTypes(id), ['queued', 'cancelled']);
    assert.equal(await h.prisma.metricPoint.count({ where: { jobId: id } }), 0);
  });
});
