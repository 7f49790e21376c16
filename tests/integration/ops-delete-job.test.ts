// DELETE /v1/jobs/:id (DESIGN.md): a finished job goes with its metrics, events,
// decisions and checkpoints (204); a queued or running one is refused (409, cancel
// first); a checkpoint that a waiting job starts from is not taken from under it;
// uploads belong to no job and stay.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, fetchJob, startTestWorker, submitJob, tinySpec, waitFor, type TestApp } from '../helpers/app.js';
import type { TrainingWorker } from '../../workers/training-worker.js';

let h: TestApp;
let worker: TrainingWorker | undefined;

before(async () => {
  h = await createTestApp('ops-delete-job');
  worker = await startTestWorker(h);
});

after(async () => {
  await worker?.close();
  await h?.close();
});

const owned = async (jobId: string) => ({
  events: await h.prisma.jobEvent.count({ where: { jobId } }),
  points: await h.prisma.metricPoint.count({ where: { jobId } }),
  rollups: await h.prisma.metricRollup.count({ where: { jobId } }),
  decisions: await h.prisma.earlyStoppingDecision.count({ where: { jobId } }),
  checkpoints: await h.prisma.checkpoint.count({ where: { jobId } }),
});

const trainedSpec = (name: string) => tinySpec({
  name,
  training: { epochs: 3, batchSize: 16, seed: 7 },
  earlyStopping: { monitor: 'val_loss', patience: 100 },
  checkpoints: { everyEpochs: 1, keepLast: 3 },
});

async function trained(name: string): Promise<string> {
  const id = await submitJob(h, trainedSpec(name));
  const job = await waitFor(() => fetchJob(h, id), (j) => j.status === 'succeeded' || j.status === 'failed', { timeoutMs: 60_000, what: `${name} to finish` });
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  return id;
}

const del = (id: string) => h.app.inject({ method: 'DELETE', url: `/v1/jobs/${id}` });

let keptId: string;
let doomedId: string;

test('a finished job is deleted with everything it owns, in one go; another job keeps its rows', async () => {
  keptId = await trained('kept');
  doomedId = await trained('doomed');
  const keptBefore = await owned(keptId);
  const before = await owned(doomedId);
  for (const [what, n] of Object.entries(before)) assert.ok(n > 0, `the job has ${what} to delete`);

  const res = await del(doomedId);
  assert.equal(res.statusCode, 204);
  assert.equal(res.body, '');
  assert.deepEqual(await owned(doomedId), { events: 0, points: 0, rollups: 0, decisions: 0, checkpoints: 0 });
  assert.equal(await h.prisma.job.count({ where: { id: doomedId } }), 0);
  assert.deepEqual(await owned(keptId), keptBefore);

  const again = await del(doomedId);
  assert.equal(again.statusCode, 404);
  assert.equal(again.json().error.code, 'NOT_FOUND');
  assert.equal((await h.app.inject({ method: 'GET', url: `/v1/jobs/${doomedId}` })).statusCode, 404);
  assert.equal((await del('not-a-uuid')).statusCode, 404);
});

test('queued jobs are refused (cancel first); a checkpoint a queued job starts from keeps its job; uploads survive', async () => {
  // no worker from here on: submitted jobs stay queued
  await worker!.close();
  worker = undefined;

  const final = await h.prisma.checkpoint.findFirstOrThrow({ where: { jobId: keptId, kind: 'final' }, select: { id: true } });
  const fromKept = await submitJob(h, { ...trainedSpec('from-kept'), initialWeights: { checkpointId: final.id } });

  const active = await del(fromKept);
  assert.equal(active.statusCode, 409);
  assert.equal(active.json().error.code, 'JOB_NOT_FINISHED');
  assert.match(active.json().error.message, /cancel it first/);

  const inUse = await del(keptId);
  assert.equal(inUse.statusCode, 409);
  assert.equal(inUse.json().error.code, 'CHECKPOINT_IN_USE');
  assert.ok(inUse.json().error.message.includes(fromKept), inUse.json().error.message);
  assert.equal(await h.prisma.checkpoint.count({ where: { id: final.id } }), 1);

  // an upload (a copy of the kept job's final weights) seeds another queued job
  const bytes = (await h.app.inject({ method: 'GET', url: `/v1/checkpoints/${final.id}` })).rawPayload;
  const up = await h.app.inject({ method: 'POST', url: '/v1/checkpoints', headers: { 'content-type': 'application/octet-stream' }, payload: bytes });
  assert.equal(up.statusCode, 201, up.body);
  const uploadId = up.json().id as string;
  await submitJob(h, { ...trainedSpec('from-upload'), initialWeights: { checkpointId: uploadId } });

  // once the job that used it is cancelled, the kept job can go; the upload stays
  assert.equal((await h.app.inject({ method: 'POST', url: `/v1/jobs/${fromKept}/cancel` })).statusCode, 200);
  assert.equal((await del(keptId)).statusCode, 204);
  assert.equal(await h.prisma.checkpoint.count({ where: { id: final.id } }), 0);
  assert.equal((await h.app.inject({ method: 'GET', url: `/v1/checkpoints/${uploadId}` })).statusCode, 200);
  assert.equal((await del(fromKept)).statusCode, 204, 'a cancelled job is finished');
});
