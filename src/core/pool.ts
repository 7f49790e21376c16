// Data parallelism over worker_threads. The calling thread plus (threads − 1) pool
// threads each take a contiguous shard of every minibatch, run forward and backward on
// their own Replica over the *shared* parameters, and write their own gradient buffer;
// the caller then sums the buffers in a fixed order (deterministic for a given thread
// count). Everything lives in one shared WebAssembly.Memory, so nothing is copied per
// step: a step is signalled with Atomics on a small control array.
//
// Threads are started once per process and reused across jobs (ThreadPool); a job
// attaches them with `threadEngine(pool)`.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { Split } from '../data/types.js';
import type { Engine } from './engine.js';
import type { ForwardContext } from './layers/layer.js';
import { createKernels } from './kernels/index.js';
import type { Heap } from './memory.js';
import { Replica, type ParamPlan } from './model.js';
import type { EngineFactory } from './trainer.js';
import type { LossName, ModelSpec } from './types.js';

// control array layout (Int32)
export const CTRL = { seq: 0, done: 1, cmd: 2, start: 3, rows: 4, step: 5, seed: 6, batch: 7 } as const;
export const CMD = { grad: 1, detach: 2 } as const;

/** What a pool thread needs to rebuild its replica over the shared memory. */
export interface AttachMessage {
  type: 'attach';
  memory: WebAssembly.Memory;
  region: [number, number];
  plan: ParamPlan;
  model: ModelSpec;
  loss: LossName;
  task: 'classification' | 'regression';
  shardRows: number;
  shard: number;
  paramsOffset: number;
  ctrlOffset: number;
  statsOffset: number;
  idxOffset: number;
  train: { n: number; xOffset: number; labelsOffset: number; targetsOffset: number };
}

export class ThreadPool {
  private workers: Worker[] = [];
  private busy = false;
  readonly maxThreads: number;

  /** size = number of extra threads; the caller's thread is always shard 0 */
  constructor(size = Math.max(0, availableParallelism() - 1)) {
    this.maxThreads = size + 1;
  }

  /** @internal starts threads on first use */
  acquire(n: number): Worker[] {
    if (this.busy) throw new Error('ThreadPool is in use by another run; give each concurrent job its own pool');
    while (this.workers.length < n) {
      const w = new Worker(new URL('./pool-worker.js', import.meta.url));
      w.unref();
      this.workers.push(w);
    }
    this.busy = true;
    return this.workers.slice(0, n);
  }

  /** @internal */
  release(): void { this.busy = false; }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
  }
}

function shareSplit(heap: Heap, s: Split): { split: Split; offsets: AttachMessage['train'] } {
  const x = heap.alloc(s.x.length); x.set(s.x);
  let labels: Int32Array | undefined, targets: Float32Array | undefined;
  if (s.labels) { const f = heap.alloc(s.n); labels = new Int32Array(f.buffer, f.byteOffset, s.n); labels.set(s.labels); }
  if (s.targets) { targets = heap.alloc(s.targets.length); targets.set(s.targets); }
  return {
    split: { n: s.n, x, labels, targets },
    offsets: { n: s.n, xOffset: x.byteOffset, labelsOffset: labels?.byteOffset ?? -1, targetsOffset: targets?.byteOffset ?? -1 },
  };
}

/** An EngineFactory that splits each minibatch over min(spec threads, pool size) threads. */
export function threadEngine(pool: ThreadPool): EngineFactory {
  return async ({ plan, spec, data, heap }) => {
    const threads = Math.max(1, Math.min(spec.training.threads ?? 1, pool.maxThreads, spec.training.batchSize));
    const batch = spec.training.batchSize;
    const shardRows = Math.ceil(batch / threads);
    const params = heap.alloc(plan.size);
    const grads = heap.alloc(plan.size);
    const replica = new Replica(plan, spec.model, spec.loss, data.task, params, grads, heap, shardRows, createKernels(heap));
    if (threads === 1) return new ThreadEngine(params, grads, replica, data.train, [], null, null, null, pool, plan.size);
    const ctrlF = heap.alloc(16);
    const ctrl = new Int32Array(ctrlF.buffer, ctrlF.byteOffset, 16);
    const statsF = heap.alloc(threads * 4);
    const stats = new Float64Array(statsF.buffer, statsF.byteOffset, threads * 2);
    const idxF = heap.alloc(batch);
    const idx = new Int32Array(idxF.buffer, idxF.byteOffset, batch);
    const shared = shareSplit(heap, data.train);
    const workers = pool.acquire(threads - 1);
    // each thread's replica, gradients and kernel scratch: activations of shardRows rows plus slack
    const widest = Math.max(plan.inputSize, ...plan.widths) * 4;
    const regionBytes = plan.size * 4 * 2 + shardRows * widest * 6 * spec.model.layers.length + 8 * 1024 * 1024;
    try {
      const gradOffsets = await Promise.all(workers.map((w, k) => new Promise<number>((resolve, reject) => {
        const region = heap.reserve(regionBytes);
        const msg: AttachMessage = {
          type: 'attach', memory: heap.memory, region, plan, model: spec.model, loss: spec.loss, task: data.task,
          shardRows, shard: k + 1, paramsOffset: params.byteOffset, ctrlOffset: ctrl.byteOffset, statsOffset: stats.byteOffset,
          idxOffset: idx.byteOffset, train: shared.offsets,
        };
        const onMsg = (m: { type: string; gradsOffset?: number; error?: string }) => {
          w.off('error', onErr);
          if (m.type === 'attached') resolve(m.gradsOffset!); else reject(new Error(m.error));
        };
        const onErr = (e: Error) => { w.off('message', onMsg); reject(e); };
        w.once('message', onMsg);
        w.once('error', onErr);
        w.postMessage(msg);
      })));
      const threadGrads = gradOffsets.map((o) => heap.view(o, plan.size));
      return new ThreadEngine(params, grads, replica, shared.split, threadGrads, ctrl, stats, idx, pool, plan.size);
    } catch (err) {
      pool.release();
      throw err;
    }
  };
}

class ThreadEngine implements Engine {
  readonly threads: number;
  private readonly ctx: ForwardContext = { dropout: 'train', seed: 0, key: 0, rowOffset: 0 };
  private done = 0;

  constructor(readonly params: Float32Array, readonly grads: Float32Array, readonly replica: Replica,
    private readonly train: Split, private readonly threadGrads: Float32Array[], private readonly ctrl: Int32Array | null,
    private readonly stats: Float64Array | null, private readonly idx: Int32Array | null, private readonly pool: ThreadPool,
    private readonly size: number) {
    this.threads = threadGrads.length + 1;
  }

  computeGradients(split: Split, order: Int32Array | null, start: number, rows: number, seed: number, step: number,
    stats: Float64Array): void {
    const T = this.threads;
    const shardRows = Math.ceil(rows / T);
    const r = this.replica, ctx = this.ctx;
    if (T > 1) {
      const ctrl = this.ctrl!, idx = this.idx!;
      for (let i = 0; i < rows; i++) idx[i] = order ? order[start + i] : start + i;
      ctrl[CTRL.cmd] = CMD.grad; ctrl[CTRL.rows] = rows; ctrl[CTRL.step] = step; ctrl[CTRL.seed] = seed; ctrl[CTRL.batch] = shardRows;
      Atomics.add(ctrl, CTRL.seq, 1);
      Atomics.notify(ctrl, CTRL.seq);
    }
    // shard 0 on this thread
    const rows0 = Math.min(shardRows, rows);
    ctx.dropout = 'train'; ctx.seed = seed; ctx.key = step; ctx.rowOffset = 0;
    r.load(T > 1 ? this.train : split, order, start, rows0);
    r.stats[0] = 0; r.stats[1] = 0;
    r.forward(rows0, ctx);
    r.accumulateLoss(rows0);
    r.backward(rows0, rows, ctx);
    stats[0] += r.stats[0]; stats[1] += r.stats[1];
    if (T === 1) return;
    const ctrl = this.ctrl!;
    const target = (this.done += T - 1);
    for (;;) {
      const v = Atomics.load(ctrl, CTRL.done);
      if (v >= target) break;
      Atomics.wait(ctrl, CTRL.done, v);
    }
    // fixed reduction order: shard 0 + shard 1 + … (a thread with no rows wrote zeros)
    const g = this.grads, n = this.size;
    for (let k = 0; k < this.threadGrads.length; k++) {
      const gk = this.threadGrads[k];
      for (let i = 0; i < n; i++) g[i] += gk[i];
      stats[0] += this.stats![2 * (k + 1)]; stats[1] += this.stats![2 * (k + 1) + 1];
    }
  }

  async close(): Promise<void> {
    if (this.threads > 1) {
      const ctrl = this.ctrl!;
      ctrl[CTRL.cmd] = CMD.detach;
      Atomics.add(ctrl, CTRL.seq, 1);
      Atomics.notify(ctrl, CTRL.seq);
      const target = this.done + this.threads - 1;
      while (Atomics.load(ctrl, CTRL.done) < target) await new Promise((r) => setTimeout(r, 1));
    }
    this.pool.release();
  }
}
