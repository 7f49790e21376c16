// A spec without training.threads trains on the worker's TRAINER_THREADS, and the count
// is no part of the spec's identity: the hash is the same whatever the worker, and a job
// started on 2 threads that resumes on a worker with 1 ends where a 1-thread run ends
// (within DESIGN.md's 1e-5), so a resumed job need not keep its thread count.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { train } from '../../../src/core/trainer.js';
import { ThreadPool, threadEngine } from '../../../src/core/pool.js';
import { decodeSafetensors } from '../../../src/core/safetensors.js';
import { loadDataset } from '../../../src/data/load.js';
import { normalizeJobSpec, specHash, toTrainSpec, validateJobSpec, type JobSpec } from '../../../src/spec/index.js';
import type { EpochEnd } from '../../../src/core/train-types.js';

const pool = new ThreadPool(1);
after(() => pool.close());

const input: JobSpec = {
  name: 'threads-default',
  dataset: { name: 'synthetic/spirals', n: 400, classes: 3, validationSplit: 0.2, seed: 2 },
  model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 3, activation: 'softmax' }] },
  loss: 'cross-entropy',
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: 3, batchSize: 20, seed: 7 },
};

function weights(bytes: Uint8Array): number[] {
  const f = decodeSafetensors(bytes);
  return [...f.tensors.keys()].sort().flatMap((k) => [...(f.tensors.get(k)!.data as Float32Array)]);
}

test('a spec without training.threads stores none and takes the worker\'s count; one that names it keeps it', () => {
  const v = validateJobSpec(input);
  assert.ok(v.ok);
  assert.equal('threads' in v.spec.training, false, 'the stored spec names no thread count');
  assert.ok(validateJobSpec(v.spec).ok, 'and validates again unchanged');
  assert.equal(toTrainSpec(v.spec, 2).training.threads, 2);
  assert.equal(toTrainSpec(v.spec).training.threads, 1);
  const pinned = normalizeJobSpec({ ...input, training: { ...input.training, threads: 1 } });
  assert.equal(toTrainSpec(pinned, 2).training.threads, 1);
  // the hash comes from the stored spec, so it cannot depend on the worker that trains it
  assert.equal(specHash(v.spec), specHash(normalizeJobSpec(structuredClone(input))));
});

test('a job started on 2 threads and resumed on 1 ends within 1e-5 of a 1-thread run', async () => {
  const spec = normalizeJobSpec(input);
  const data = loadDataset(spec.dataset);
  const hash = specHash(spec);
  const oneThread = await train({ spec: toTrainSpec(spec, 1), data, specHash: hash });

  let checkpoint: Uint8Array | undefined;
  const controller = new AbortController();
  await train({
    spec: toTrainSpec(spec, 2), data, specHash: hash, engine: threadEngine(pool), signal: controller.signal,
    hooks: { onEpochEnd: (e: EpochEnd) => { if (e.epoch === 1) { checkpoint = e.checkpoint(); controller.abort(); } } },
  });
  assert.ok(checkpoint);
  const resumed = await train({ spec: toTrainSpec(spec, 1), data, specHash: hash, resumeFrom: checkpoint });
  assert.equal(resumed.epochs, 3);
  const a = weights(oneThread.weights), b = weights(resumed.weights);
  assert.equal(a.length, b.length);
  let worst = 0;
  a.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - b[i]!) / Math.max(1, Math.abs(v))); });
  assert.ok(worst < 1e-5, `worst relative difference ${worst}`);
});
