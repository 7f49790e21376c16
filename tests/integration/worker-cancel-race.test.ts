// The race between a cancel request and a job's terminal write, replayed in the order
// that used to lose the cancel: the last epoch is recorded, the API accepts a cancel
// (202), and only then does the worker write the job's end. Postgres orders the two
// (finishSucceeded locks the row; requestCancel only updates an unfinished job), so a
// 202 always ends 'cancelled' and a cancel after the end is refused (409).
import { EVERY_TENANT } from '../../src/db/scope.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createJob, requestCancel } from '../../src/db/repositories/jobs.js';
import { finishSucceeded, recordEpoch, requeueJob, startJob, type SuccessRecord } from '../../src/db/repositories/training-records.js';
import type { PrismaClient } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { TrainingWorker } from '../../workers/training-worker.js';
import { createTestApp, fetchJob, submitJob, tinySpec, waitFor, type TestApp } from '../helpers/app.js';

let db: TestDatabase;
let prisma: PrismaClient;

before(async () => {
  db = await createTestDatabase('worker-cancel-race');
  prisma = db.prisma;
});
after(() => db?.drop());

const EPOCHS = 2;
const STEP = 8;

/** A job trained to its last epoch: started, both epochs recorded, not yet finished. */
async function trainedToTheEnd(): Promise<string> {
  const id = (await createJob(prisma, EVERY_TENANT, { name: 'race', spec: {}, specHash: 'hash' })).job.id;
  assert.equal((await startJob(prisma, id)).kind, 'started');
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    const step = epoch * (STEP / EPOCHS);
    const { cancelRequested } = await recordEpoch(prisma, {
      jobId: id, attempt: 1, epoch, step,
      points: [{ name: 'train_loss', step, epoch, value: 1 / epoch }],
      metrics: { train_loss: 1 / epoch }, decision: null,
      checkpoint: { epoch, step, isBest: true, metrics: { train_loss: 1 / epoch }, data: new Uint8Array([epoch]) },
      retention: { keepLast: 3, keepBest: true }, progress: { epoch, step },
    });
    assert.equal(cancelRequested, false);
  }
  return id;
}

function success(jobId: string): SuccessRecord {
  return {
    jobId, attempt: 1, result: { epochs: EPOCHS }, diagnosis: null, testPoints: [],
    finalWeights: { epoch: EPOCHS, step: STEP, isBest: false, metrics: { train_loss: 0.5 }, data: new Uint8Array([0xf1]) },
    progress: { epoch: EPOCHS, step: STEP },
    stoppedAt: { epoch: EPOCHS, step: STEP, isBest: false, metrics: { train_loss: 0.5 }, data: new Uint8Array([0x5e]) },
  };
}

describe('cancel vs. the terminal write', () => {
  test('a cancel accepted after the last epoch but before the terminal write ends the job cancelled, says so, and keeps where it stopped', async () => {
    const id = await trainedToTheEnd();
    assert.equal(await requestCancel(prisma, EVERY_TENANT, id), true, 'the API accepts the cancel (202)');
    assert.equal(await finishSucceeded(prisma, success(id)), 'cancelled');

    const job = await prisma.job.findUniqueOrThrow({ where: { id } });
    assert.equal(job.status, 'cancelled');
    assert.equal(job.cancelRequested, true);
    assert.ok(job.finishedAt);
    assert.equal(job.result, null, 'no result: the job did not succeed');
    const last = await prisma.jobEvent.findFirstOrThrow({ where: { jobId: id }, orderBy: { id: 'desc' } });
    assert.equal(last.type, 'cancelled');
    assert.equal(
      last.message,
      `cancelled: the cancel request arrived after the last epoch had trained (epoch ${EPOCHS}, step ${STEP}) but before the job was marked succeeded; the checkpoint of that point is kept`,
    );
    assert.equal(await prisma.jobEvent.count({ where: { jobId: id, type: 'succeeded' } }), 0);
    const kept = await prisma.checkpoint.findMany({ where: { jobId: id }, orderBy: { step: 'asc' } });
    assert.deepEqual(kept.map((c) => [c.kind, c.epoch, c.step]), [['epoch', 1, 4], ['epoch', 2, 8], ['resume', 2, 8]]);
    assert.deepEqual([...kept.at(-1)!.data], [0x5e], 'the resume checkpoint of where training ended');
  });

  test('a cancel after the terminal write is refused (the API answers 409) and the job stays succeeded', async () => {
    const id = await trainedToTheEnd();
    assert.equal(await finishSucceeded(prisma, success(id)), 'succeeded');
    assert.equal(await requestCancel(prisma, EVERY_TENANT, id), false);
    const job = await prisma.job.findUniqueOrThrow({ where: { id } });
    assert.equal(job.status, 'succeeded');
    assert.equal(job.cancelRequested, false, 'no cancel recorded on a succeeded job');
    assert.deepEqual(
      (await prisma.checkpoint.findMany({ where: { jobId: id, kind: { in: ['final', 'resume'] } } })).map((c) => c.kind),
      ['final'],
    );
  });

  test('run at the same time, cancel and terminal write agree every time: an accepted cancel ends cancelled, a refused one succeeded', async () => {
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const id = await trainedToTheEnd();
      // alternate which one is sent first; both are in flight together
      const [accepted, finished] = i % 2 === 0
        ? await Promise.all([requestCancel(prisma, EVERY_TENANT, id), finishSucceeded(prisma, success(id))])
        : await Promise.all([finishSucceeded(prisma, success(id)), requestCancel(prisma, EVERY_TENANT, id)]).then(([f, a]) => [a, f] as const);
      const job = await prisma.job.findUniqueOrThrow({ where: { id } });
      assert.equal(job.status, accepted ? 'cancelled' : 'succeeded', `run ${i}: cancel ${accepted ? 'accepted' : 'refused'}, finish said ${finished}`);
      assert.equal(finished, job.status);
      assert.equal(job.cancelRequested, accepted);
      outcomes.set(job.status, (outcomes.get(job.status) ?? 0) + 1);
    }
    assert.equal([...outcomes.values()].reduce((a, b) => a + b), 20);
  });
});

describe('cancel vs. the terminal write, through the API and a worker', () => {
  let h: TestApp;
  let worker: TrainingWorker | undefined;
  before(async () => {
    h = await createTestApp('worker-cancel-race-api');
  });
  after(async () => {
    await worker?.close();
    await h?.close();
  });

  test('a cancel answered 202 after the last epoch was recorded ends the job cancelled, with an event that says why', async () => {
    const answers: number[] = [];
    // the pause point: training is over, the last epoch is stored, the terminal write has not happened
    worker = await TrainingWorker.start({
      config: h.config, prisma: h.prisma, logger: h.logger, requeueDelayMs: 100,
      beforeTerminalWrite: async (jobId) => {
        const res = await h.app.inject({ method: 'POST', url: `/v1/jobs/${jobId}/cancel` });
        answers.push(res.statusCode);
      },
    });
    const id = await submitJob(h, tinySpec({ name: 'cancel-at-the-end', training: { epochs: 2, batchSize: 16, seed: 7 } }));
    const job = await waitFor(() => fetchJob(h, id), (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status), { what: 'finished' });
    assert.deepEqual(answers, [202], 'the API accepted the cancel');
    assert.equal(job.status, 'cancelled', 'a 202 is honoured');
    assert.equal(job.cancelRequested, true);
    assert.equal(job.progress.epoch, 2);
    const events = await h.prisma.jobEvent.findMany({ where: { jobId: id }, orderBy: { id: 'asc' } });
    assert.deepEqual(events.map((e) => e.type), ['queued', 'started', 'epoch', 'epoch', 'cancelled']);
    // tinySpec: 64 xor samples, a quarter for validation, batches of 16 → 3 steps an epoch
    const lastStep = 2 * Math.ceil((64 * 0.75) / 16);
    assert.match(events.at(-1)!.message, new RegExp(`^cancelled: the cancel request arrived after the last epoch had trained \\(epoch 2, step ${lastStep}\\)`));
    const resume = await h.prisma.checkpoint.findFirstOrThrow({ where: { jobId: id, kind: 'resume' } });
    assert.deepEqual([resume.epoch, resume.step], [2, lastStep]);
    assert.equal(await h.prisma.checkpoint.count({ where: { jobId: id, kind: 'final' } }), 0);
  });
});

describe('cancel vs. going back to the queue', () => {
  async function running(): Promise<string> {
    const id = (await createJob(prisma, EVERY_TENANT, { name: 'requeue-race', spec: {}, specHash: 'hash' })).job.id;
    assert.equal((await startJob(prisma, id)).kind, 'started');
    return id;
  }
  const shutdown = (jobId: string) => ({
    jobId, attempt: 1, type: 'requeued' as const, message: 'the worker shut down in epoch 1 at step 3; another worker resumes it from there',
    cancelledMessage: 'cancelled in epoch 1 at step 3 (the worker was shutting down); the checkpoint of that point is kept',
    checkpoint: { epoch: 0, step: 3, isBest: false, metrics: {}, data: new Uint8Array([3]) },
  });

  test('a cancel accepted before a shutdown requeue ends the job cancelled, keeping where it stopped, instead of queued again', async () => {
    const id = await running();
    assert.equal(await requestCancel(prisma, EVERY_TENANT, id), true);
    assert.equal(await requeueJob(prisma, shutdown(id)), 'cancelled');
    const job = await prisma.job.findUniqueOrThrow({ where: { id } });
    assert.equal(job.status, 'cancelled');
    assert.ok(job.finishedAt);
    const events = await prisma.jobEvent.findMany({ where: { jobId: id }, orderBy: { id: 'asc' } });
    assert.deepEqual(events.map((e) => e.type), ['queued', 'cancelled']);
    assert.equal(events.at(-1)!.message, 'cancelled in epoch 1 at step 3 (the worker was shutting down); the checkpoint of that point is kept');
    const kept = await prisma.checkpoint.findFirstOrThrow({ where: { jobId: id, kind: 'resume' } });
    assert.deepEqual([kept.step, [...kept.data]], [3, [3]]);
  });

  test('without a cancel the job goes back to the queue', async () => {
    const id = await running();
    assert.equal(await requeueJob(prisma, shutdown(id)), 'requeued');
    assert.equal((await prisma.job.findUniqueOrThrow({ where: { id } })).status, 'queued');
    assert.equal(await requestCancel(prisma, EVERY_TENANT, id), true, 'a queued job can still be cancelled');
  });
});
