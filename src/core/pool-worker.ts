// A pool thread: attaches to a run's shared memory, then serves steps signalled
// through the control array until told to detach (see pool.ts).
import { parentPort } from 'node:worker_threads';
import type { Split } from './dataset.js';
import { createKernels } from './kernels/index.js';
import type { ForwardContext } from './layers/layer.js';
import { Heap } from './memory.js';
import { Replica } from './model.js';
import { createOptimizer } from './optimizers/index.js';
import { CMD, CTRL, barrier, waitWhileEqual, type AttachMessage } from './pool.js';
import { shardRange, updateRange, weightRanges } from './update.js';

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
  const allGrads = o.grads.map((g) => f32(g, P));
  const grads = allGrads[m.shard];
  const kernels = createKernels(heap);
  const replica = new Replica(m.plan, m.model, m.loss, m.task, params, grads, heap, m.maxShardRows, kernels);
  let nextState = 0;
  const optimizer = createOptimizer(m.optimizer, P, (n) => f32(m.optimizerOffsets[nextState++], n));
  optimizer.kernels = kernels.optimizer ?? null;
  const weights = weightRanges(m.plan);
  const update = {
    params, grads: allGrads[0], others: allGrads.slice(1), snapshot: f32(o.snapshot, P), optimizer, weights,
    l1: m.regularization.l1, l2: m.regularization.l2, vector: kernels.vector,
  };
  const [from, to] = shardRange(P, m.shard, m.threads);
  const ctrl = new Int32Array(buf, o.ctrl, 16);
  const stats = new Float64Array(buf, o.stats, m.threads * 2);
  const L3 = 3 * weights.length;
  const partial = new Float64Array(buf, o.partials + m.shard * L3 * 8, L3);
  const t = m.train;
  const split: Split = {
    n: t.n,
    x: f32(t.x, t.n * m.plan.inputSize),
    labels: t.labels >= 0 ? new Int32Array(buf, t.labels, t.n) : undefined,
    targets: t.targets >= 0 ? f32(t.targets, t.n * m.plan.outputSize) : undefined,
  };
  const idx = new Int32Array(buf, o.idx, m.maxShardRows * m.threads);
  const ctx: ForwardContext = { dropout: 'train', seed: 0, key: 0, rowOffset: 0 };
  let seq = Atomics.load(ctrl, CTRL.seq), generation = 0;
  parentPort!.postMessage({ type: 'attached' });

  for (;;) {
    waitWhileEqual(ctrl, CTRL.seq, seq);
    seq = Atomics.load(ctrl, CTRL.seq);
    if (ctrl[CTRL.cmd] === CMD.detach) { Atomics.add(ctrl, CTRL.done, 1); Atomics.notify(ctrl, CTRL.done); return; }
    const rows = ctrl[CTRL.rows], shardRows = ctrl[CTRL.shardRows], step = ctrl[CTRL.step];
    const first = m.shard * shardRows, mine = Math.max(0, Math.min(shardRows, rows - first));
    stats[2 * m.shard] = 0; stats[2 * m.shard + 1] = 0;
    if (mine === 0) {
      grads.fill(0);
    } else {
      replica.trainShard(split, idx, 0, first, mine, rows, ctrl[CTRL.seed], step, ctx);
      stats[2 * m.shard] = replica.stats[0]; stats[2 * m.shard + 1] = replica.stats[1];
    }
    barrier(ctrl, m.threads, ++generation);
    updateRange(update, from, to, step, ctrl[CTRL.sample] === 1, partial);
    Atomics.add(ctrl, CTRL.done, 1);
    Atomics.notify(ctrl, CTRL.done);
  }
}
