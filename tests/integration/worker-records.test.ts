// What the worker writes per epoch, against a real database: replays overwrite,
// retention keeps the newest and the best, a lost worker is recorded once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createJob } from '../../src/db/repositories/jobs.js';
import { EVERY_TENANT } from '../../src/db/scope.js';
import { latestCheckpoint, recordEpoch, requeueJob, requeueStalled, startJob, type EpochWrite } from '../../src/db/repositories/training-records.js';
import type { PrismaClient } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let prisma: PrismaClient;

before(async () => {
  db = await createTestDatabase('worker-records');
  prisma = db.prisma;
});
after(() => db?.drop());

async function newJob(): Promise<string> {
  const created = await createJob(prisma, EVERY_TENANT, { name: 'records', spec: {}, specHash: 'hash' });
  return created.job.id;
}

function epochRecord(jobId: string, epoch: number, value: number, opts: { isBest?: boolean; attempt?: number } = {}): EpochWrite {
  const step = epoch * 100;
  return {
    jobId, attempt: opts.attempt ?? 1, epoch, step,
    points: [
      { name: 'batch_loss', step: step - 50, epoch, value },
      { name: 'train_loss', step, epoch, value },
    ],
    metrics: { train_loss: value },
    decision: { epoch, monitor: 'val_loss', value, best: value, bestEpoch: epoch, wait: 0, decision: 'improved', reason: `epoch ${epoch} run ${value}` },
    checkpoint: { epoch, step, isBest: opts.isBest ?? false, metrics: { train_loss: value }, data: new Uint8Array([epoch, value]) },
    retention: { keepLast: 2, keepBest: true },
    progress: { epoch, step },
  };
}

describe('training records', () => {
  test('a replayed epoch overwrites its metric points and decision, and keeps its one epoch event', async () => {
    const id = await newJob();
    await recordEpoch(prisma, epochRecord(id, 1, 1));
    await recordEpoch(prisma, epochRecord(id, 2, 2));
    await recordEpoch(prisma, epochRecord(id, 2, 7, { attempt: 2 }));

    const points = await prisma.metricPoint.findMany({ where: { jobId: id }, orderBy: [{ name: 'asc' }, { step: 'asc' }] });
    assert.deepEqual(points.map((p) => [p.name, p.step, p.value]), [
      ['batch_loss', 50, 1], ['batch_loss', 150, 7], ['train_loss', 100, 1], ['train_loss', 200, 7],
    ]);
    const decision = await prisma.earlyStoppingDecision.findUniqueOrThrow({ where: { jobId_epoch: { jobId: id, epoch: 2 } } });
    assert.equal(decision.reason, 'epoch 2 run 7');
    const events = await prisma.jobEvent.findMany({ where: { jobId: id, type: 'epoch' }, orderBy: { id: 'asc' } });
    assert.deepEqual(events.map((e) => (e.data as { epoch: number }).epoch), [1, 2]);
    const checkpoints = await prisma.checkpoint.findMany({ where: { jobId: id, epoch: 2 } });
    assert.equal(checkpoints.length, 1);
    assert.deepEqual([...checkpoints[0]!.data], [2, 7], 'the replay replaced the checkpoint of its epoch');
  });

  test('retention keeps the newest keepLast epoch checkpoints and the best one, however old; one is marked best', async () => {
    const id = await newJob();
    await recordEpoch(prisma, epochRecord(id, 1, 1, { isBest: true }));
    await recordEpoch(prisma, epochRecord(id, 2, 1, { isBest: true }));
    for (let epoch = 3; epoch <= 6; epoch++) await recordEpoch(prisma, epochRecord(id, epoch, 1));
    const rows = await prisma.checkpoint.findMany({ where: { jobId: id }, orderBy: { epoch: 'asc' } });
    assert.deepEqual(rows.map((r) => [r.epoch, r.isBest]), [[2, true], [5, false], [6, false]]);
  });

  test('a resume checkpoint is the resume point until a later epoch checkpoint replaces it', async () => {
    const id = await newJob();
    await prisma.job.update({ where: { id }, data: { status: 'running', attempt: 1 } });
    await recordEpoch(prisma, epochRecord(id, 1, 1));
    await requeueJob(prisma, {
      jobId: id, attempt: 1, type: 'requeued', message: 'shut down', cancelledMessage: 'cancelled while shutting down',
      checkpoint: { epoch: 1, step: 140, isBest: false, metrics: {}, data: new Uint8Array([9]) },
    });
    assert.deepEqual(await latestCheckpoint(prisma, id).then((r) => r && [r.kind, r.step]), ['resume', 140]);
    await recordEpoch(prisma, epochRecord(id, 2, 1));
    assert.deepEqual(await latestCheckpoint(prisma, id).then((r) => r && [r.kind, r.step]), ['epoch', 200]);
    assert.equal(await prisma.checkpoint.count({ where: { jobId: id, kind: 'resume' } }), 0);
  });

  test('a lost worker is recorded once: by the stall handler, or by the next start when that came first', async () => {
    const id = await newJob();
    assert.equal((await startJob(prisma, id)).kind, 'started');
    await prisma.job.update({ where: { id }, data: { progress: { epoch: 3, step: 250 } } });
    // the next attempt started before the stall was reported
    const started = await startJob(prisma, id);
    assert.equal(started.kind === 'started' && started.job.attempt, 2);
    assert.equal(await requeueStalled(prisma, id, new Date(Date.now() - 500)), false, 'attempt 2 is not touched');
    const lost = await prisma.jobEvent.findMany({ where: { jobId: id, type: 'requeued' } });
    assert.deepEqual(lost.map((e) => e.message), [
      'the worker running attempt 1 stopped responding, last seen at epoch 3 (step 250); another worker resumes it from its latest checkpoint',
    ]);
    assert.equal((await prisma.job.findUniqueOrThrow({ where: { id } })).status, 'running');

    // attempt 2 dies too, and this time the stall handler is first
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await requeueStalled(prisma, id, new Date()), true);
    const row = await prisma.job.findUniqueOrThrow({ where: { id } });
    assert.equal(row.status, 'queued');
    assert.equal((row.error as { code: string }).code, 'WORKER_LOST');
    const third = await startJob(prisma, id);
    assert.equal(third.kind === 'started' && third.job.attempt, 3);
    assert.equal(await prisma.jobEvent.count({ where: { jobId: id, type: 'requeued' } }), 2);
  });
});
