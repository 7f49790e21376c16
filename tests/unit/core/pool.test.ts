import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { train } from '../../../src/core/trainer.js';
import { ThreadPool, shareSplit, threadEngine } from '../../../src/core/pool.js';
import { Heap, RowBlocks } from '../../../src/core/memory.js';
import { loadDataset } from '../../../src/data/load.js';
import type { TrainSpec } from '../../../src/core/types.js';
import { trainSpec } from './specs.js';
import { weightTensors, worstRelativeDifference } from './weights.js';

const pool = new ThreadPool(2);
after(() => pool.close());

const data = loadDataset({ name: 'synthetic/spirals', n: 500, classes: 3, validationSplit: 0.2, seed: 4 });

function spec(threads: number): TrainSpec {
  return trainSpec({
    model: { layers: [{ type: 'dense', units: 24, activation: 'tanh' }, { type: 'dropout', rate: 0.3 }, { type: 'maxout', units: 8, pieces: 2 }, { type: 'dense', units: 3, activation: 'softmax' }] },
    loss: 'cross-entropy',
    optimizer: { type: 'adam', learningRate: 0.01 },
    training: { epochs: 3, batchSize: 30, seed: 5, threads },
  });
}


test('2 and 3 threads reach exactly the weights of 1 thread (dropout keyed by sample, not thread; each weight gradient one sum over the batch)', async () => {
  // 400 training rows in batches of 30: the last batch (10 rows) leaves the second and third threads without rows
  const one = await train({ spec: spec(1), data, engine: threadEngine(pool) });
  for (const threads of [2, 3]) {
    const many = await train({ spec: spec(threads), data, engine: threadEngine(pool) });
    assert.deepEqual(weightTensors(many.weights), weightTensors(one.weights), `${threads} threads`);
    // the metrics too (grad_norm/<i>, update_ratio/<i>, losses), up to the order of their double-precision sums
    const compared = Object.entries(one.finalMetrics).filter(([name]) => /^(train_|val_|grad_norm\/|weight_norm\/|update_ratio\/)/.test(name));
    assert.ok(compared.some(([name]) => name.startsWith('update_ratio/')) && compared.some(([name]) => name === 'val_loss'));
    for (const [name, v] of compared) {
      assert.ok(Math.abs(many.finalMetrics[name] - v) <= 1e-9 * Math.max(1, Math.abs(v)), `${threads} threads: ${name} ${many.finalMetrics[name]} vs ${v}`);
    }
  }
});

test('with PReLU slopes (summed per thread, then over threads), L2 and update-ratio samples, 2 and 3 threads stay within 1e-5 of 1 thread', async () => {
  const s = (threads: number) => trainSpec({
    model: { layers: [{ type: 'dense', units: 20, activation: 'prelu' }, { type: 'dense', units: 12, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
    loss: 'cross-entropy',
    optimizer: { type: 'adam', learningRate: 0.01 },
    regularization: { l2: 1e-3 },
    training: { epochs: 3, batchSize: 30, seed: 5, threads },
  });
  const one = await train({ spec: s(1), data, engine: threadEngine(pool) });
  for (const threads of [2, 3]) {
    const many = await train({ spec: s(threads), data, engine: threadEngine(pool) });
    const worst = worstRelativeDifference(weightTensors(one.weights), weightTensors(many.weights));
    assert.ok(worst < 1e-5, `${threads} threads: worst relative difference ${worst}`);
  }
});

test('the pool threads are reused by the next run', async () => {
  const a = await train({ spec: spec(2), data, engine: threadEngine(pool) });
  const started = pool.threadsStarted;
  assert.ok(started >= 1, 'a 2-thread run starts a pool thread');
  const b = await train({ spec: spec(2), data, engine: threadEngine(pool) });
  const c = await train({ spec: spec(3), data, engine: threadEngine(pool) });
  assert.equal(pool.threadsStarted, Math.max(started, 2), 'only a wider run starts another thread');
  await train({ spec: spec(3), data, engine: threadEngine(pool) });
  assert.equal(pool.threadsStarted, Math.max(started, 2));
  assert.deepEqual(weightTensors(a.weights), weightTensors(b.weights));
  assert.ok(c.weights.length > 0);
});

test('a pool reuses one memory run after run, and a run on reused memory equals one on fresh memory', async () => {
  const other = trainSpec({
    model: { layers: [{ type: 'dense', units: 40, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
    loss: 'cross-entropy', optimizer: { type: 'rmsprop', learningRate: 0.01 }, training: { epochs: 3, batchSize: 30, seed: 5, threads: 2 },
  });
  const fresh = new ThreadPool(1);
  try {
    const onFresh = await train({ spec: spec(2), data, engine: threadEngine(fresh) });
    await train({ spec: other, data, engine: threadEngine(pool) }); // leaves its state in the pool's memory
    const heapBefore = threadEngine(pool).heap!();
    const memory = heapBefore.memory;
    pool.release();
    const onReused = await train({ spec: spec(2), data, engine: threadEngine(pool) });
    assert.deepEqual(weightTensors(onReused.weights), weightTensors(onFresh.weights));
    assert.equal(threadEngine(pool).heap!().memory, memory);
    pool.release();
  } finally {
    await fresh.close();
  }
});

// MNIST's cached arrays live on a SharedArrayBuffer (src/data/idx.ts), so a pool run
// hands them to its threads as they are instead of copying the training split (188 MB
// for all of MNIST) into the run's memory; data that is not shared is still copied.
test('RowBlocks: each thread\'s rows of a tensor follow the previous thread\'s, and a replay that differs is refused', () => {
  const heap = new Heap();
  const first = new RowBlocks(heap, 3, 0);
  const a0 = first.alloc(8), b0 = first.alloc(5);
  const second = new RowBlocks(heap.memory, 3, 2, first.blocks);
  const a2 = second.alloc(8), b2 = second.alloc(5);
  assert.equal(a2.byteOffset, a0.byteOffset + 2 * 8 * 4);
  assert.equal(b2.byteOffset, b0.byteOffset + 2 * 5 * 4);
  const whole = second.whole(a2);
  assert.equal(whole.length, 24);
  assert.equal(whole.byteOffset, first.whole(a0).byteOffset);
  a2[0] = 7;
  assert.equal(first.whole(a0)[16], 7, 'thread 2\'s first float is float 2·8 of the whole tensor');
  assert.throws(() => new RowBlocks(heap.memory, 3, 1, first.blocks).alloc(9), /does not match/);
  assert.throws(() => second.alloc(1), /does not match/);
  assert.throws(() => first.whole(new Float32Array(4)), /not a view/);
});

test('the training split is shared without a copy when it is on a SharedArrayBuffer, copied otherwise', () => {
  const mnist = loadDataset({ name: 'mnist', limit: 300, validationSplit: 0.1 });
  const heap = pool.takeHeap();
  try {
    const shared = shareSplit(heap, mnist.train);
    assert.equal(shared.split.x, mnist.train.x);
    assert.equal(shared.split.labels, mnist.train.labels);
    assert.equal(shared.offsets.buffers.x, mnist.train.x.buffer);
    const copied = shareSplit(heap, data.train);
    assert.notEqual(copied.split.x, data.train.x);
    assert.equal(copied.split.x.buffer, heap.memory.buffer);
    assert.deepEqual([...copied.split.x], [...data.train.x]);
    assert.equal(copied.offsets.buffers.x, undefined);
  } finally {
    pool.release();
  }
});

test('on MNIST (threads read the loader\'s shared arrays) 2 threads reach exactly the weights of 1 thread', async () => {
  const mnist = loadDataset({ name: 'mnist', limit: 600, validationSplit: 0.1 });
  const s = (threads: number) => trainSpec({
    model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] },
    loss: 'cross-entropy', optimizer: { type: 'adam', learningRate: 0.01 },
    training: { epochs: 2, batchSize: 50, seed: 3, threads },
  });
  const one = await train({ spec: s(1), data: mnist, engine: threadEngine(pool) });
  const two = await train({ spec: s(2), data: mnist, engine: threadEngine(pool) });
  assert.deepEqual(weightTensors(two.weights), weightTensors(one.weights));
  assert.ok(two.finalMetrics.train_accuracy > 0.5, `train accuracy ${two.finalMetrics.train_accuracy}: the threads trained on garbage`);
});
