// A pool thread: attaches to a run's shared memory, then serves steps signalled
// through the control array until told to detach (see pool.ts).
import { parentPort } from 'node:worker_threads';
import type { Split } from './dataset.js';
import type { ForwardContext } from './layers/layer.js';
import { Heap, RowBlocks } from './memory.js';
import { createOptimizer } from './optimizers/index.js';
import { DeadUnits } from './dead-units.js';
import { evaluateRows } from './evaluate.js';
import { CMD, CTRL, barrier, evalRange, learningRateCell, waitWhileEqual, type AttachMessage, type SharedSplit } from './pool.js';
import { createShard } from './shard.js';
import { LAYER_STATS, LOSS_STATS } from './step-stats.js';
import { gradientsAndUpdate } from './update.js';

parentPort!.on('message', (m: AttachMessage) => {
  if (m.type !== 'attach') return;
  try {
    serve(m);
  } catch (err) {
    parentPort!.postMessage({ type: 'error', error: (err as Error).stack ?? String(err) });
  }
});

function serve(m: AttachMessage): void {
  const heap = new Heap(m.memory, m.region[0], m.region[1]);
  const buf = m.memory.buffer, P = m.plan.size, o = m.offsets;
  const f32 = (off: number, n: number) => new Float32Array(buf, off, n);
  const params = f32(o.params, P);
  let nextState = 0;
  // this thread's Optimizer object over the state buffers the calling thread allocated
  const optimizer = createOptimizer(m.optimizer, P, (n) => f32(m.optimizerOffsets[nextState++], n));
  const { replica, update, blocks } = createShard({
    plan: m.plan, model: m.model, loss: m.loss, task: m.task, regularization: m.regularization, optimizer,
    heap, rows: new RowBlocks(m.memory, m.threads, m.shard, m.rowBlocks), maxRows: m.maxShardRows, params,
    grads: f32(o.grads, P), shard: m.shard, threads: m.threads, snapshot: f32(o.snapshot, P), kernels: m.kernels,
  });
  const ctrl = new Int32Array(buf, o.ctrl, 16);
  const learningRate = learningRateCell(ctrl);
  if (o.deadUnits >= 0) replica.trackAlive(new DeadUnits(m.model, new Uint8Array(buf, o.deadUnits, DeadUnits.size(m.model))));
  const stats = new Float64Array(buf, o.stats + m.shard * LOSS_STATS.size * 8, LOSS_STATS.size);
  const n = LAYER_STATS.size * update.weights.length;
  const partial = new Float64Array(buf, o.partials + m.shard * n * 8, n);
  const t = m.train;
  const view = (s: SharedSplit): Split => ({
    n: s.n,
    x: new Float32Array(s.buffers.x ?? buf, s.x, s.n * m.plan.inputSize),
    labels: s.labels >= 0 ? new Int32Array(s.buffers.labels ?? buf, s.labels, s.n) : undefined,
    targets: s.targets >= 0 ? new Float32Array(s.buffers.targets ?? buf, s.targets, s.n * m.plan.outputSize) : undefined,
  });
  const split = view(t);
  const evalSplits = [m.validation ? view(m.validation) : null, m.test ? view(m.test) : null]; // by EVAL_SPLIT
  const evalOut = heap.alloc(m.maxShardRows * m.plan.outputSize);
  const idx = new Int32Array(buf, o.idx, m.maxShardRows * m.threads);
  const ctx: ForwardContext = { dropout: 'train', seed: 0, key: 0, rowOffset: 0 };
  let seq = Atomics.load(ctrl, CTRL.seq), generation = 0;
  parentPort!.postMessage({ type: 'attached', kernels: replica.kernels.name });

  for (;;) {
    waitWhileEqual(ctrl, CTRL.seq, seq);
    seq = Atomics.load(ctrl, CTRL.seq);
    if (ctrl[CTRL.cmd] === CMD.detach) { Atomics.add(ctrl, CTRL.done, 1); Atomics.notify(ctrl, CTRL.done); return; }
    if (ctrl[CTRL.cmd] === CMD.evaluate) {
      const [from, to] = evalRange(ctrl[CTRL.rows], m.shard, m.threads);
      stats.fill(0);
      evaluateRows(replica, evalSplits[ctrl[CTRL.split]]!, from, to, m.infer, evalOut, stats);
      Atomics.add(ctrl, CTRL.done, 1);
      Atomics.notify(ctrl, CTRL.done);
      continue;
    }
    const rows = ctrl[CTRL.rows], step = ctrl[CTRL.step];
    const first = m.shard * m.maxShardRows, mine = Math.max(0, Math.min(m.maxShardRows, rows - first));
    if (mine === 0) stats.fill(0);
    else {
      replica.trainShard(split, idx, 0, first, mine, rows, ctrl[CTRL.seed], step, ctx);
      stats.set(replica.stats);
    }
    barrier(ctrl, m.threads, ++generation);
    optimizer.learningRate = learningRate[0];
    gradientsAndUpdate(replica, blocks, update, rows, step, ctrl[CTRL.sample] === 1, partial);
    Atomics.add(ctrl, CTRL.done, 1);
    Atomics.notify(ctrl, CTRL.done);
  }
}
