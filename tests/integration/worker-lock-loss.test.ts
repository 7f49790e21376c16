// A worker that loses its BullMQ lock (frozen too long; here the lock is taken from it
// in Redis) stops the job without writing anything more: another attempt owns it now.
// The stall check gives the job back to the queue, the next attempt resumes from the
// latest epoch checkpoint, and the job succeeds once, as attempt 2.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainingWorker } from '../../workers/training-worker.js';
import { createTestApp, fetchJob, submitJob, tinySpec, waitFor, type TestApp } from '../helpers/app.js';

let h: TestApp;
let worker: TrainingWorker;

before(async () => {
  // lock 2 s (renewed every second), stall check every second
  h = await createTestApp('worker-lock-loss', { workerLockMs: 2000, workerStalledIntervalMs: 1000 });
  worker = await TrainingWorker.start({ config: h.config, prisma: h.prisma, logger: h.logger, requeueDelayMs: 100 });
});
after(async () => {
  await worker?.close();
  await h?.close();
});

test('a worker whose lock is taken stops writing; the job is resumed by attempt 2 from its epoch checkpoint and succeeds', async () => {
  const id = await submitJob(h, tinySpec({
    name: 'lock-lost',
    dataset: { name: 'synthetic/spirals', n: 1500, validationSplit: 0.2, seed: 3 },
    model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
    // long enough (about 4 s here) to still be training when the next renewal, at most 1 s on, fails
    training: { epochs: 120, batchSize: 4, seed: 1 },
  }));
  await waitFor(() => h.prisma.checkpoint.count({ where: { jobId: id, kind: 'epoch' } }), (n) => n >= 1, { what: 'an epoch checkpoint' });
  // Another owner's token, as if the stall check had handed the job to another worker:
  // the next renewal fails (lockRenewalFailed). It expires after 3 s, and then the stall check requeues the job.
  const lockKey = `${h.config.queuePrefix}:train:${id}:lock`;
  assert.ok(await h.redis.get(lockKey), 'the worker holds the lock');
  await h.redis.set(lockKey, 'someone-else', 'PX', 3000);

  const job = await waitFor(() => fetchJob(h, id), (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status), { timeoutMs: 120_000, what: 'finished' });
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  assert.equal(job.attempt, 2);
  const events = await h.prisma.jobEvent.findMany({ where: { jobId: id }, orderBy: { id: 'asc' } });
  const types = events.map((e) => e.type);
  // attempt 1 wrote no end of its own: not cancelled, failed, retrying or requeued-with-a-checkpoint
  assert.ok(!types.some((t) => ['cancelled', 'failed', 'retrying'].includes(t)), types.join(','));
  const requeued = events.filter((e) => e.type === 'requeued');
  assert.equal(requeued.length, 1, types.join(','));
  assert.match(requeued[0]!.message, /^the worker running attempt 1 stopped responding/);
  const resumed = events.filter((e) => e.type === 'resumed');
  assert.equal(resumed.length, 1);
  assert.equal((resumed[0]!.data as { kind: string }).kind, 'epoch', 'resumed from an epoch checkpoint, not one written after the lock was lost');
  assert.equal(resumed[0]!.attempt, 2);
  const epochs = events.filter((e) => e.type === 'epoch').map((e) => (e.data as { epoch: number }).epoch);
  assert.deepEqual(epochs, Array.from({ length: 120 }, (_, i) => i + 1), 'each epoch once');
  assert.equal(types.at(-1), 'succeeded');
});
