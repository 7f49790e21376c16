// A pool thread: attaches to a run's shared memory, then serves gradient requests
// signalled through the control array until told to detach (see pool.ts).
import { parentPort } from 'node:worker_threads';
import type { Split } from '../data/types.js';
import { createKernels } from './kernels/index.js';
import type { ForwardContext } from './layers/layer.js';
import { Heap } from './memory.js';
import { Replica } from './model.js';
import { CMD, CTRL, type AttachMessage } from './pool.js';

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
  const buf = m.memory.buffer;
  const params = new Float32Array(buf, m.paramsOffset, m.plan.size);
  const grads = heap.alloc(m.plan.size);
  const replica = new Replica(m.plan, m.model, m.loss, m.task, params, grads, heap, m.shardRows, createKernels(heap));
  const ctrl = new Int32Array(buf, m.ctrlOffset, 16);
  const stats = new Float64Array(buf, m.statsOffset, (m.shard + 1) * 2);
  const t = m.train;
  const split: Split = {
    n: t.n,
    x: new Float32Array(buf, t.xOffset, t.n * m.plan.inputSize),
    labels: t.labelsOffset >= 0 ? new Int32Array(buf, t.labelsOffset, t.n) : undefined,
    targets: t.targetsOffset >= 0 ? new Float32Array(buf, t.targetsOffset, t.n * m.plan.outputSize) : undefined,
  };
  const idx = new Int32Array(buf, m.idxOffset, m.shardRows * (m.shard + 1));
  const ctx: ForwardContext = { dropout: 'train', seed: 0, key: 0, rowOffset: 0 };
  let seq = Atomics.load(ctrl, CTRL.seq);
  parentPort!.postMessage({ type: 'attached', gradsOffset: grads.byteOffset });

  for (;;) {
    Atomics.wait(ctrl, CTRL.seq, seq);
    seq = Atomics.load(ctrl, CTRL.seq);
    if (ctrl[CTRL.cmd] === CMD.detach) { Atomics.add(ctrl, CTRL.done, 1); Atomics.notify(ctrl, CTRL.done); return; }
    const rows = ctrl[CTRL.rows], shardRows = ctrl[CTRL.batch];
    const from = m.shard * shardRows, mine = Math.max(0, Math.min(shardRows, rows - from));
    stats[2 * m.shard] = 0; stats[2 * m.shard + 1] = 0;
    if (mine === 0) {
      grads.fill(0);
    } else {
      ctx.seed = ctrl[CTRL.seed]; ctx.key = ctrl[CTRL.step]; ctx.rowOffset = from;
      replica.load(split, idx, from, mine);
      replica.stats[0] = 0; replica.stats[1] = 0;
      replica.forward(mine, ctx);
      replica.accumulateLoss(mine);
      replica.backward(mine, rows, ctx);
      stats[2 * m.shard] = replica.stats[0]; stats[2 * m.shard + 1] = replica.stats[1];
    }
    Atomics.add(ctrl, CTRL.done, 1);
    Atomics.notify(ctrl, CTRL.done);
  }
}
