import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { learningRateAt } from '../../../src/core/optimizers/schedule.js';
import { train } from '../../../src/core/trainer.js';
import { ThreadPool, threadEngine } from '../../../src/core/pool.js';
import { decodeSafetensors } from '../../../src/core/safetensors.js';
import { loadDataset } from '../../../src/data/load.js';
import type { ScheduleSpec, TrainSpec } from '../../../src/core/types.js';
import type { EpochEnd } from '../../../src/core/train-types.js';
import { trainSpec } from './specs.js';

// Made once by tests/fixtures/lr-schedules.py with PyTorch 1.13's lr_scheduler (the rate each epoch trains with).
interface Fixture { epochs: number; cases: Array<{ learningRate: number; schedule: ScheduleSpec; rates: number[] }> }
const fixture = JSON.parse(readFileSync(new URL('../../../../tests/fixtures/lr-schedules.json', import.meta.url), 'utf8')) as Fixture;

const pool = new ThreadPool(1);
after(() => pool.close());

function relative(a: number, e: number): number { return e === 0 ? Math.abs(a) : Math.abs(a - e) / Math.abs(e); }

test('StepLR, ExponentialLR and CosineAnnealingLR rates match PyTorch over 40 epochs within 1e-7 relative', () => {
  assert.ok(fixture.epochs >= 20);
  for (const c of fixture.cases) {
    c.rates.forEach((expected, k) => {
      const got = learningRateAt(c.schedule, c.learningRate, k + 1);
      assert.ok(relative(got, expected) <= 1e-7, `${JSON.stringify(c.schedule)} epoch ${k + 1}: ${got} vs torch ${expected}`);
    });
  }
  // the cases cover cosine past tMax, where PyTorch's recursion rises again
  const cosine = fixture.cases.find((c) => c.schedule.type === 'cosine' && c.schedule.tMax * 2 < fixture.epochs)!;
  assert.ok(cosine.rates[cosine.rates.length - 1] > Math.min(...cosine.rates));
});

const data = loadDataset({ name: 'synthetic/blobs', n: 120, classes: 3, validationSplit: 0.25, seed: 2 });

function spec(schedule: ScheduleSpec | undefined, threads = 1, epochs = 22, learningRate = 0.05): TrainSpec {
  return trainSpec({
    model: { layers: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dense', units: 3, activation: 'softmax' }] },
    loss: 'cross-entropy',
    optimizer: { type: 'momentum', learningRate, ...(schedule ? { schedule } : {}) },
    training: { epochs, batchSize: 16, seed: 3, threads },
  });
}

function weights(bytes: Uint8Array): number[] {
  const f = decodeSafetensors(bytes);
  return [...f.tensors.keys()].sort().flatMap((k) => [...(f.tensors.get(k)!.data as Float32Array)]);
}

test('each epoch trains with the scheduled rate and the learning_rate metric shows it (PyTorch fixture, 22 epochs)', async () => {
  const c = fixture.cases.find((x) => x.schedule.type === 'cosine' && x.schedule.etaMin > 0)!;
  const s = spec(c.schedule, 1, 22, c.learningRate);
  const lrs: number[] = [];
  await train({ spec: s, data, hooks: { onEpochEnd: (e: EpochEnd) => { lrs.push(e.metrics.learning_rate); } } });
  assert.equal(lrs.length, 22);
  lrs.forEach((lr, k) => assert.ok(relative(lr, c.rates[k]) <= 1e-7, `epoch ${k + 1}: ${lr} vs ${c.rates[k]}`));
});

test('pool threads train with the scheduled rate too: 2 threads reach the 1-thread weights, which differ from a constant rate', async () => {
  const schedule: ScheduleSpec = { type: 'step', stepSize: 2, gamma: 0.1 };
  const one = weights((await train({ spec: spec(schedule, 1, 5), data, engine: threadEngine(pool) })).weights);
  const two = weights((await train({ spec: spec(schedule, 2, 5), data, engine: threadEngine(pool) })).weights);
  const constant = weights((await train({ spec: spec(undefined, 2, 5), data, engine: threadEngine(pool) })).weights);
  let worst = 0, apart = 0;
  one.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - two[i]) / Math.max(1, Math.abs(v))); apart = Math.max(apart, Math.abs(v - constant[i])); });
  assert.ok(worst < 1e-5, `2 threads differ from 1 by ${worst}`);
  assert.ok(apart > 1e-3, `the schedule changed nothing (${apart})`);
});

test('a run resumed from an epoch checkpoint continues the schedule: same weights as one that never stopped', async () => {
  const schedule: ScheduleSpec = { type: 'exponential', gamma: 0.7 };
  const full = await train({ spec: spec(schedule, 1, 6), data, specHash: 'h' });
  let ck: Uint8Array | null = null;
  await train({ spec: spec(schedule, 1, 6), data, specHash: 'h', hooks: { onEpochEnd: (e) => { if (e.epoch === 3) ck = e.checkpoint(); } } });
  const lrs: number[] = [];
  const resumed = await train({ spec: spec(schedule, 1, 6), data, specHash: 'h', resumeFrom: ck!, hooks: { onEpochEnd: (e) => { lrs.push(e.metrics.learning_rate); } } });
  assert.deepEqual(weights(resumed.weights), weights(full.weights));
  assert.ok(relative(lrs[0], 0.05 * 0.7 ** 3) < 1e-12, `epoch 4 trained with ${lrs[0]}`);
});
