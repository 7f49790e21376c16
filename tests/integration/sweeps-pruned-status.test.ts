// A trial the pruner stopped ends 'pruned' on every path a cancel can end a job
// (training-records.ts reads jobs.cancel_reason under the row lock), and a person's
// cancel is never turned into a prune.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { finishCancelled, requeueJob, startJob } from '../../src/db/repositories/training-records.js';
import { requestPrune } from '../../src/db/repositories/sweeps.js';
import { requestCancel } from '../../src/db/repositories/jobs.js';
import { EVERY_TENANT } from '../../src/db/scope.js';

let db: TestDatabase;
before(async () => { db = await createTestDatabase('sweeps-pruned'); });
after(async () => { await db?.drop(); });

async function newJob(): Promise<string> {
  const id = randomUUID();
  await db.prisma.job.create({ data: { id, name: 't', status: 'queued', spec: {}, specHash: 'h' } });
  return id;
}
const statusOf = async (id: string) => (await db.prisma.job.findUniqueOrThrow({ where: { id } })).status;
const lastEvent = async (id: string) => db.prisma.jobEvent.findFirstOrThrow({ where: { jobId: id }, orderBy: { id: 'desc' } });

test('a running trial marked for pruning that stops ends pruned, with a pruned event', async () => {
  const id = await newJob();
  const started = await startJob(db.prisma, id);
  assert.equal(started.kind, 'started');
  assert.equal(await requestPrune(db.prisma, id), true);
  await finishCancelled(db.prisma, { id, attempt: 1 }, 'cancelled in epoch 4 at step 40; the checkpoint of that point is kept');
  assert.equal(await statusOf(id), 'pruned');
  const e = await lastEvent(id);
  assert.equal(e.type, 'pruned');
  assert.equal(e.message, "pruned by the sweep's pruner in epoch 4 at step 40; the checkpoint of that point is kept");
});

test('a trial marked for pruning whose worker shuts down ends pruned instead of going back to the queue', async () => {
  const id = await newJob();
  await startJob(db.prisma, id);
  await requestPrune(db.prisma, id);
  const outcome = await requeueJob(db.prisma, { jobId: id, attempt: 1, type: 'requeued', message: 'requeued', cancelledMessage: 'cancelled on shutdown' });
  assert.equal(outcome, 'cancelled');
  assert.equal(await statusOf(id), 'pruned');
  assert.equal((await lastEvent(id)).type, 'pruned');
});

test('a trial marked for pruning before a worker starts it ends pruned', async () => {
  const id = await newJob();
  await requestPrune(db.prisma, id);
  const started = await startJob(db.prisma, id);
  assert.notEqual(started.kind, 'started');
  assert.equal(await statusOf(id), 'pruned');
});

test("a person's cancel stays a cancel: the pruner cannot claim it afterwards", async () => {
  const id = await newJob();
  await startJob(db.prisma, id);
  assert.equal(await requestCancel(db.prisma, EVERY_TENANT, id), true);
  assert.equal(await requestPrune(db.prisma, id), false);
  await finishCancelled(db.prisma, { id, attempt: 1 }, 'cancelled in epoch 2 at step 20');
  assert.equal(await statusOf(id), 'cancelled');
  assert.equal((await lastEvent(id)).type, 'cancelled');
});
