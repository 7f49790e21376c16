import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainingWorker } from '../../workers/training-worker.js';
import { startTestWorker, createTestApp, tinySpec, waitFor, type TestApp, submitJob, fetchJob } from '../helpers/app.js';

let h: TestApp;
let worker: TrainingWorker;

before(async () => {
  h = await createTestApp('api-early-stopping');
  worker = await startTestWorker(h);
});
after(async () => {
  await worker?.close();
  await h?.close();
});

async function train(spec: Record<string, unknown>) {
  const id = await submitJob(h, spec);
  const job = await waitFor(
    () => fetchJob(h, id),
    (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status),
    { timeoutMs: 30_000, what: `job ${id} finished` },
  );
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  return job;
}

describe('GET /v1/jobs/:id/early-stopping', () => {
  test('every decision is listed by epoch with its reason, ending with the stop the job reports', async () => {
    // minDelta far above any change in val_loss: only the first epoch counts as an improvement
    const job = await train(tinySpec({
      name: 'stops-early',
      training: { epochs: 20, batchSize: 16, seed: 2 },
      earlyStopping: { monitor: 'val_loss', patience: 2, minDelta: 100 },
    }));
    assert.equal(job.result.stoppedEarly, true);

    const res = await h.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/early-stopping` });
    assert.equal(res.statusCode, 200, res.body);
    const { items } = res.json();
    assert.deepEqual(items.map((d: { epoch: number }) => d.epoch), [1, 2, 3]);
    assert.deepEqual(items.map((d: { decision: string }) => d.decision), ['improved', 'continue', 'stop']);
    assert.deepEqual(items.map((d: { wait: number }) => d.wait), [0, 1, 2]);
    for (const d of items) {
      assert.equal(d.monitor, 'val_loss');
      assert.equal(d.bestEpoch, 1);
      assert.equal(typeof d.value, 'number');
      assert.ok(d.reason.length > 10, d.reason);
      assert.ok(!Number.isNaN(Date.parse(d.createdAt)));
    }
    assert.equal(items[0].best, items[0].value);
    const last = items[2];
    const stop = job.result.stopDecision;
    assert.deepEqual(
      { epoch: last.epoch, decision: last.decision, reason: last.reason, value: last.value, best: last.best },
      { epoch: stop.epoch, decision: stop.decision, reason: stop.reason, value: stop.value, best: stop.best },
    );
    // the monitored value is the epoch's val_loss metric
    const metrics = (await h.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/metrics?name=val_loss` })).json();
    assert.deepEqual(items.map((d: { value: number }) => d.value), metrics.series[0].points.map((p: { value: number }) => p.value));
  });

  test('a job without earlyStopping has no decisions', async () => {
    const job = await train(tinySpec({ name: 'no-es' }));
    const res = await h.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/early-stopping` });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { items: [] });
  });

  test('an unknown job is a 404', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) {
      const res = await h.app.inject({ method: 'GET', url: `/v1/jobs/${id}/early-stopping` });
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().error.code, 'NOT_FOUND');
    }
  });
});
