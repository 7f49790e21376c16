// Crash recovery with real worker processes: a worker killed with SIGKILL mid-epoch
// loses its job to another worker, which resumes from the latest checkpoint and ends
// with the same weights as a run that was never interrupted; SIGTERM hands the job
// over at the exact batch where it stopped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadPool, threadEngine } from '../../src/core/pool.js';
import { decodeSafetensors } from '../../src/core/safetensors.js';
import { train } from '../../src/core/trainer.js';
import { loadDataset } from '../../src/data/load.js';
import { toTrainSpec, validateJobSpec } from '../../src/spec/index.js';
import { createTestApp, waitFor, type TestApp, submitJob, fetchJob } from '../helpers/app.js';
import { killAll, spawnWorker, type WorkerProcess } from '../helpers/worker-process.js';

const EPOCHS = 5;
const THREADS = 2;
/** 6400 training samples / batch 8 */
const STEPS_PER_EPOCH = 800;

/**
 * A few hundred ms of training per epoch on two threads, several times the ~50–100 ms
 * an epoch's database writes take: a signal sent mid-epoch lands among the batches.
 */
function crashSpec(name: string): Record<string, unknown> {
  return {
    name,
    dataset: { name: 'synthetic/spirals', n: 8000, validationSplit: 0.2, seed: 3 },
    model: {
      layers: [
        { type: 'dense', units: 160, activation: 'relu' },
        { type: 'dense', units: 160, activation: 'relu' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
    },
    loss: 'cross-entropy',
    optimizer: { type: 'adam', learningRate: 0.005 },
    training: { epochs: EPOCHS, batchSize: 8, seed: 1, threads: THREADS },
    earlyStopping: { monitor: 'val_loss', patience: 100, restoreBest: true },
    checkpoints: { everyEpochs: 1, keepLast: 2, keepBest: true },
  };
}

let h: TestApp;
const workers: WorkerProcess[] = [];
/** final weights of the spec trained in-process, never interrupted */
let reference: Promise<Map<string, Float32Array>>;

before(async () => {
  h = await createTestApp('worker-crash', { trainerThreads: THREADS });
});
after(async () => {
  await killAll(workers);
  await h?.close();
});

async function startWorker(): Promise<WorkerProcess> {
  // debug: the worker logs when each epoch is under way (intoEpochAfter waits for that line)
  const w = await spawnWorker({ databaseUrl: h.db.url, queuePrefix: h.config.queuePrefix, trainerThreads: THREADS, env: { LOG_LEVEL: 'debug' } });
  workers.push(w);
  return w;
}

async function trainUninterrupted(): Promise<Map<string, Float32Array>> {
  const checked = validateJobSpec(crashSpec('reference'));
  assert.ok(checked.ok);
  const pool = new ThreadPool(THREADS - 1);
  try {
    const result = await train({ spec: toTrainSpec(checked.spec), data: loadDataset(checked.spec.dataset, { dataDir: h.config.dataDir }), engine: threadEngine(pool) });
    assert.equal(result.status, 'succeeded');
    return layerTensors(result.weights);
  } finally {
    await pool.close();
  }
}

function layerTensors(bytes: Uint8Array): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of decodeSafetensors(bytes).tensors) if (name.startsWith('layers.')) out.set(name, t.data as Float32Array);
  return out;
}

async function assertSameWeights(jobId: string): Promise<void> {
  const final = await h.prisma.checkpoint.findFirstOrThrow({ where: { jobId, kind: 'final' } });
  const got = layerTensors(final.data);
  const want = await reference;
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  let maxDiff = 0;
  for (const [name, w] of want) {
    const g = got.get(name)!;
    assert.equal(g.length, w.length, name);
    for (let i = 0; i < w.length; i++) maxDiff = Math.max(maxDiff, Math.abs(g[i]! - w[i]!));
  }
  assert.ok(maxDiff <= 1e-5, `final weights differ from the uninterrupted run by up to ${maxDiff}`);
}



function untilFinished(id: string, timeoutMs = 20_000) {
  return waitFor(() => fetchJob(h, id), (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status), { timeoutMs, what: `job ${id} finished` });
}

/**
 * Waits until worker `w` reports the first batch of epoch `epoch + 1` of job `id` done
 * (its debug line 'first batch of the epoch done'): epoch `epoch` is stored and the
 * next one is under way, with all but one of its 800 batches still to come. A
 * condition, not a guess at how long an epoch takes on this machine right now.
 */
async function intoEpochAfter(w: WorkerProcess, id: string, epoch: number): Promise<void> {
  await w.waitForLine((l) => l.jobId === id && l.msg === 'first batch of the epoch done' && l.epoch === epoch + 1, 60_000);
}

/** Every per-epoch metric once per epoch, batch_loss once per 10 steps, one 'epoch' event per epoch. */
async function assertEachPointOnce(id: string): Promise<void> {
  const counts = await h.prisma.metricPoint.groupBy({ by: ['name'], where: { jobId: id }, _count: { _all: true } });
  const byName = Object.fromEntries(counts.map((c) => [c.name, c._count._all]));
  for (const name of ['train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'learning_rate', 'epoch_seconds', 'grad_norm/0', 'weight_norm/2']) {
    assert.equal(byName[name], EPOCHS, name);
  }
  assert.equal(byName.batch_loss, (EPOCHS * STEPS_PER_EPOCH) / 10);
  const epochs = (await h.prisma.metricPoint.findMany({ where: { jobId: id, name: 'val_loss' }, orderBy: { step: 'asc' } })).map((p) => p.epoch);
  assert.deepEqual(epochs, Array.from({ length: EPOCHS }, (_, i) => i + 1));
  const events = await h.prisma.jobEvent.findMany({ where: { jobId: id, type: 'epoch' }, orderBy: { id: 'asc' } });
  assert.deepEqual(events.map((e) => (e.data as { epoch: number }).epoch), Array.from({ length: EPOCHS }, (_, i) => i + 1));
}

async function assertRetention(id: string): Promise<void> {
  const rows = await h.prisma.checkpoint.findMany({ where: { jobId: id }, select: { kind: true, epoch: true, isBest: true } });
  const epochRows = rows.filter((r) => r.kind === 'epoch');
  assert.equal(rows.filter((r) => r.kind === 'resume').length, 0, 'no resume checkpoint outlives a later epoch checkpoint');
  assert.ok(epochRows.some((r) => r.epoch === EPOCHS) && epochRows.some((r) => r.epoch === EPOCHS - 1), 'the last two epochs are kept');
  assert.ok(epochRows.length <= 3, `keepLast 2 + best, got ${JSON.stringify(epochRows)}`);
  assert.ok(rows.filter((r) => r.isBest).length <= 1, 'one best checkpoint at most');
}

describe('worker crash recovery', () => {
  test('a worker killed with SIGKILL mid-epoch: another worker resumes the job (attempt 2) and ends with the weights of an uninterrupted run', async () => {
    const first = await startWorker();
    const id = await submitJob(h, crashSpec('killed'));
    await intoEpochAfter(first, id, 2);
    first.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    const killed = await fetchJob(h, id);
    assert.equal(killed.status, 'running', 'nobody has noticed yet');
    const lastEpochCheckpoint = await h.prisma.checkpoint.findFirstOrThrow({ where: { jobId: id, kind: 'epoch' }, orderBy: { step: 'desc' } });

    // the uninterrupted run trains while the lock of the dead worker expires
    reference = trainUninterrupted();
    const second = await startWorker();
    const job = await untilFinished(id);
    assert.equal(job.status, 'succeeded', `${JSON.stringify(job.error)}\n${second.tail()}`);
    const trail = async () => (await h.prisma.jobEvent.findMany({ where: { jobId: id }, orderBy: { id: 'asc' } }))
      .filter((e) => e.type !== 'epoch').map((e) => `${e.createdAt.toISOString()} ${e.type} ${e.attempt}: ${e.message}`).join('\n');
    assert.equal(job.attempt, 2, `${await trail()}\n${second.tail(60)}`);
    assert.equal(job.error, null);
    assert.equal(job.result.epochs, EPOCHS);
    assert.ok(job.result.finalMetrics.val_loss > 0 && job.result.best.epoch >= 1);
    assert.ok(job.diagnosis);

    const events = await h.prisma.jobEvent.findMany({ where: { jobId: id }, orderBy: { id: 'asc' } });
    const lost = events.find((e) => e.type === 'requeued');
    assert.ok(lost, `a requeued event: ${events.map((e) => e.type).join(',')}`);
    assert.match(lost.message, /^the worker running attempt 1 stopped responding, last seen at epoch \d+ \(step \d+\); another worker resumes it/);
    assert.equal(lost.attempt, 1);
    const resumed = events.filter((e) => e.type === 'resumed');
    assert.equal(resumed.length, 1);
    assert.equal(resumed[0]!.message, `resumed from epoch ${lastEpochCheckpoint.epoch}, step ${lastEpochCheckpoint.step}`);
    assert.equal(resumed[0]!.attempt, 2);

    await assertEachPointOnce(id);
    await assertRetention(id);
    await assertSameWeights(id);
  });

  test('a worker stopped with SIGTERM mid-epoch requeues the job; the next worker continues at the next batch with the same final weights', async () => {
    const worker = workers.at(-1)!;
    const id = await submitJob(h, crashSpec('terminated'));
    await intoEpochAfter(worker, id, 2);
    worker.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0, worker.tail());

    const requeued = await fetchJob(h, id);
    assert.equal(requeued.status, 'queued');
    const stoppedAt = await h.prisma.checkpoint.findFirstOrThrow({ where: { jobId: id, kind: 'resume' } });
    const batch = stoppedAt.step! - stoppedAt.epoch! * STEPS_PER_EPOCH;
    assert.ok(batch > 0 && batch < STEPS_PER_EPOCH, `stopped inside an epoch (step ${stoppedAt.step}, epoch ${stoppedAt.epoch})`);

    await startWorker();
    const job = await untilFinished(id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.attempt, 2);
    const resumed = await h.prisma.jobEvent.findMany({ where: { jobId: id, type: 'resumed' } });
    assert.equal(resumed.length, 1);
    assert.equal(
      resumed[0]!.message,
      `resumed from epoch ${stoppedAt.epoch}, step ${stoppedAt.step} (inside epoch ${stoppedAt.epoch! + 1}: continues after batch ${batch} of ${STEPS_PER_EPOCH})`,
    );

    await assertEachPointOnce(id);
    await assertRetention(id);
    await assertSameWeights(id);
  });
});
