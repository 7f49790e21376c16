// A job whose workers keep dying is not retried forever: after
// WORKER_MAX_STALLED_COUNT + 1 deaths it ends 'failed' with a reason a person
// understands. Real worker processes, killed with SIGKILL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, tinySpec, waitFor, type TestApp, fetchJob } from '../helpers/app.js';
import { killAll, spawnWorker, type WorkerProcess } from '../helpers/worker-process.js';

const MAX_STALLED = 1;

let h: TestApp;
const workers: WorkerProcess[] = [];

before(async () => {
  h = await createTestApp('worker-stall-limit');
});
after(async () => {
  await killAll(workers);
  await h?.close();
});

async function startWorker(): Promise<WorkerProcess> {
  const w = await spawnWorker({ databaseUrl: h.db.url, queuePrefix: h.config.queuePrefix, maxStalledCount: MAX_STALLED });
  workers.push(w);
  return w;
}


test('a job whose worker dies more than WORKER_MAX_STALLED_COUNT times ends failed, saying how often and where it was last seen', async () => {
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: tinySpec({
      name: 'keeps-dying',
      dataset: { name: 'synthetic/spirals', n: 1500, validationSplit: 0.2, seed: 3 },
      model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
      training: { epochs: 400, batchSize: 4, seed: 1 },
    }),
  });
  assert.equal(res.statusCode, 201, res.body);
  const id: string = res.json().id;

  // each attempt gets as far as one epoch checkpoint, then its worker is killed
  for (let attempt = 1; attempt <= MAX_STALLED + 1; attempt++) {
    const w = await startWorker();
    await waitFor(() => fetchJob(h, id), (j) => j.status === 'running' && j.attempt === attempt, { what: `attempt ${attempt} running` });
    // a checkpoint written by this attempt: after its 'resumed' event, an epoch beyond
    // every earlier one (the previous attempt may have got further than the one we saw
    // before killing it, so "epoch ≥ attempt" could already hold when this one starts)
    if (attempt > 1) {
      await waitFor(() => h.prisma.jobEvent.count({ where: { jobId: id, type: 'resumed', attempt } }), (n) => n > 0, { what: `attempt ${attempt} resumed` });
    }
    const before = (await h.prisma.checkpoint.aggregate({ where: { jobId: id, kind: 'epoch' }, _max: { epoch: true } }))._max.epoch ?? 0;
    await waitFor(() => h.prisma.checkpoint.count({ where: { jobId: id, kind: 'epoch', epoch: { gt: before } } }), (n) => n > 0, {
      what: `an epoch checkpoint of attempt ${attempt}`,
    });
    w.kill('SIGKILL');
    await w.exited;
  }

  // the next worker finds the job stalled once too often and fails it without training
  await startWorker();
  const job = await waitFor(() => fetchJob(h, id), (j) => j.status === 'failed', { timeoutMs: 20_000, what: 'failed' });
  assert.equal(job.attempt, MAX_STALLED + 1, 'no third attempt started');
  assert.equal(job.error.code, 'WORKER_LOST');
  assert.match(job.error.message, /^the worker running this job died 2 times; last seen at epoch \d+ \(step \d+\)\. Trainyard gives up after 2/);
  assert.ok(job.finishedAt);

  const events = await h.prisma.jobEvent.findMany({ where: { jobId: id }, orderBy: { id: 'asc' } });
  assert.equal(events.at(-1)!.type, 'failed');
  assert.equal(events.at(-1)!.message, job.error.message);
  const lost = events.filter((e) => e.type === 'requeued');
  assert.ok(lost.length >= 1 && lost[0]!.message.startsWith('the worker running attempt 1 stopped responding'), lost.map((e) => e.message).join('\n'));
  assert.equal(events.filter((e) => e.type === 'resumed').length, 1, 'attempt 2 resumed from the checkpoint of attempt 1');

  const bull = await h.queue.getJob(id);
  assert.equal(await bull!.getState(), 'failed');
  assert.equal(bull!.failedReason, 'job stalled more than allowable limit');
});
