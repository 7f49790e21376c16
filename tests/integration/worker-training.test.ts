import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainingWorker } from '../../workers/training-worker.js';
import { startTestWorker, createTestApp, tinySpec, waitFor, type TestApp, submitJob, fetchJob } from '../helpers/app.js';

let h: TestApp;
const workers: TrainingWorker[] = [];

before(async () => {
  h = await createTestApp('worker-training');
});
after(async () => {
  for (const w of workers) await w.close();
  await h?.close();
});

async function startWorker(): Promise<TrainingWorker> {
  const w = await startTestWorker(h);
  workers.push(w);
  return w;
}



function untilStatus(id: string, statuses: string[], timeoutMs = 30_000) {
  return waitFor(() => fetchJob(h, id), (j) => statuses.includes(j.status), { timeoutMs, what: `job ${id} ${statuses.join('|')}` });
}

/** Long enough to cancel or interrupt: many epochs of a few hundred steps each. */
function longSpec(name: string) {
  return tinySpec({
    name,
    dataset: { name: 'synthetic/spirals', n: 1500, validationSplit: 0.2, seed: 3 },
    model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
    training: { epochs: 400, batchSize: 4, seed: 1 },
  });
}

async function eventTypes(id: string): Promise<string[]> {
  const events = await h.prisma.jobEvent.findMany({ where: { jobId: id }, orderBy: { id: 'asc' } });
  return events.map((e) => e.type);
}

describe('training worker', () => {
  test('a worker started after jobs were queued picks them up and trains them to succeeded', async () => {
    const ids = [await submitJob(h, tinySpec({ name: 'first' })), await submitJob(h, tinySpec({ name: 'second', training: { epochs: 3, batchSize: 16, seed: 2 } }))];
    for (const id of ids) assert.equal((await fetchJob(h, id)).status, 'queued');

    await startWorker();
    for (const id of ids) await untilStatus(id, ['succeeded', 'failed']);

    const job = await fetchJob(h, ids[1]!);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.attempt, 1);
    assert.ok(job.startedAt && job.finishedAt);
    assert.equal(job.result.epochs, 3);
    assert.equal(job.result.stoppedEarly, false);
    assert.ok(Number.isFinite(job.result.finalMetrics.train_loss));
    assert.ok(job.diagnosis, 'diagnosis stored');
    assert.equal(job.progress.epoch, 3);

    // every per-epoch metric for each of the 3 epochs, written once
    for (const name of ['train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'learning_rate', 'epoch_seconds']) {
      const points = await h.prisma.metricPoint.findMany({ where: { jobId: ids[1]!, name }, orderBy: { step: 'asc' } });
      assert.deepEqual(points.map((p) => p.epoch), [1, 2, 3], name);
    }
    const checkpoints = await h.prisma.checkpoint.findMany({ where: { jobId: ids[1]! }, select: { kind: true, epoch: true, size: true, sha256: true } });
    const final = checkpoints.filter((c) => c.kind === 'final');
    assert.equal(final.length, 1);
    assert.ok(final[0]!.size > 0 && /^[0-9a-f]{64}$/.test(final[0]!.sha256));
    assert.ok(checkpoints.some((c) => c.kind === 'epoch' && c.epoch === 3), 'epoch checkpoint at the last epoch');
    assert.deepEqual(await eventTypes(ids[1]!), ['queued', 'started', 'epoch', 'epoch', 'epoch', 'succeeded']);
    assert.equal(await h.prisma.earlyStoppingDecision.count({ where: { jobId: ids[1]! } }), 0);
  });

  test('early stopping decisions are stored per epoch', async () => {
    const id = await submitJob(h, tinySpec({
      name: 'with-es',
      training: { epochs: 3, batchSize: 16, seed: 2 },
      earlyStopping: { monitor: 'val_loss', patience: 5 },
    }));
    const job = await untilStatus(id, ['succeeded', 'failed']);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    const decisions = await h.prisma.earlyStoppingDecision.findMany({ where: { jobId: id }, orderBy: { epoch: 'asc' } });
    assert.deepEqual(decisions.map((d) => d.epoch), [1, 2, 3]);
    assert.ok(decisions.every((d) => d.reason.length > 0));
  });

  test('cancelling a running job stops it within a batch and marks it cancelled', async () => {
    const id = await submitJob(h, longSpec('to-cancel'));
    await waitFor(() => fetchJob(h, id), (j) => j.status === 'running' && j.progress?.step > 0, { what: 'running with progress' });
    const res = await h.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.json().cancelRequested, true);
    const job = await untilStatus(id, ['cancelled', 'succeeded', 'failed']);
    assert.equal(job.status, 'cancelled');
    assert.ok(job.progress.epoch < 400);
    assert.equal((await eventTypes(id)).at(-1), 'cancelled');
    // the point where it stopped is kept as a 'resume' checkpoint
    const kept = await h.prisma.checkpoint.findMany({ where: { jobId: id, kind: 'resume' } });
    assert.equal(kept.length, 1);
    assert.ok(kept[0]!.step! >= job.progress.step, 'the checkpoint is at or after the last progress report');
  });

  test('a diverging job fails with a readable error and is not retried', async () => {
    const id = await submitJob(h, tinySpec({
      name: 'diverges',
      dataset: { name: 'synthetic/regression', n: 64, seed: 1 },
      model: { layers: [{ type: 'dense', units: 8, activation: 'linear' }, { type: 'dense', units: 1, activation: 'linear' }] },
      loss: 'mse',
      optimizer: { type: 'sgd', learningRate: 1e6 },
      training: { epochs: 50, batchSize: 8, seed: 1 },
    }));
    const job = await untilStatus(id, ['failed', 'succeeded']);
    assert.equal(job.status, 'failed');
    assert.equal(job.error.code, 'DIVERGED');
    assert.ok(job.error.message.length > 10);
    assert.equal(typeof job.error.epoch, 'number');
    assert.equal(typeof job.error.step, 'number');
    const bull = await h.queue.getJob(id);
    assert.equal(await bull!.getState(), 'failed');
    assert.equal(bull!.attemptsMade, 1, 'not retried');
    assert.equal(job.attempt, 1);
  });

  test('with WORKER_CONCURRENCY 2 two multi-threaded jobs train at the same time, each on its own thread pool', async () => {
    for (const w of workers.splice(0)) await w.close();
    const w = await TrainingWorker.start({
      config: { ...h.config, trainerThreads: 2 }, prisma: h.prisma, logger: h.logger, concurrency: 2, requeueDelayMs: 100,
    });
    workers.push(w);
    const spec = (name: string) => tinySpec({
      name,
      dataset: { name: 'synthetic/spirals', n: 1200, validationSplit: 0.2, seed: 3 },
      model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
      training: { epochs: 6, batchSize: 8, seed: 1, threads: 2 },
    });
    const ids = [await submitJob(h, spec('pool-a')), await submitJob(h, spec('pool-b'))];
    await waitFor(async () => w.runningJobIds.length, (n) => n === 2, { intervalMs: 5, what: 'both jobs running at once' });
    for (const id of ids) {
      const job = await untilStatus(id, ['succeeded', 'failed']);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      // a pool shared by both would refuse the second job ('ThreadPool is in use'), which would then need a retry
      assert.equal(job.attempt, 1);
    }
    for (const w of workers.splice(0)) await w.close();
  });

  test('a worker shut down mid-job puts it back in the queue and the next worker resumes it from its checkpoint', async () => {
    for (const w of workers.splice(0)) await w.close();
    const first = await startWorker();
    const spec = longSpec('interrupted');
    (spec.training as Record<string, unknown>).epochs = 12;
    const id = await submitJob(h, spec);
    await waitFor(() => h.prisma.checkpoint.count({ where: { jobId: id, kind: 'epoch' } }), (n) => n >= 2, { what: 'two epoch checkpoints' });
    await first.close();
    workers.splice(workers.indexOf(first), 1);

    const requeued = await fetchJob(h, id);
    assert.equal(requeued.status, 'queued');
    assert.ok((await eventTypes(id)).includes('requeued'));
    assert.equal(await (await h.queue.getJob(id))!.getState(), 'delayed');

    await startWorker();
    const job = await untilStatus(id, ['succeeded', 'failed', 'cancelled'], 60_000);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.attempt, 2);
    const events = await h.prisma.jobEvent.findMany({ where: { jobId: id, type: 'resumed' } });
    assert.equal(events.length, 1);
    // from the shutdown checkpoint: inside an epoch, or at its start when the shutdown came during an epoch-end write
    assert.match(events[0]!.message, /^resumed from epoch \d+, step \d+( \(inside epoch \d+: continues after batch \d+ of \d+\))?$/);
    assert.equal((events[0]!.data as { kind: string }).kind, 'resume');
    // each epoch's metrics exactly once across both attempts
    const points = await h.prisma.metricPoint.findMany({ where: { jobId: id, name: 'train_loss' }, orderBy: { step: 'asc' } });
    assert.deepEqual(points.map((p) => p.epoch), Array.from({ length: 12 }, (_, i) => i + 1));
  });
});
