// Where forward and backward run. LocalEngine runs the whole minibatch on the calling
// thread; ThreadEngine (pool.ts) splits it across worker_threads. Both leave the
// batch-mean gradient in `grads` and add the batch's loss sum and correct count to
// `stats`, so the trainer cannot tell them apart.
import type { Split } from '../data/types.js';
import type { Kernels } from './kernels/types.js';
import type { ForwardContext } from './layers/layer.js';
import type { Heap } from './memory.js';
import { Replica, type ParamPlan } from './model.js';
import type { LossName, ModelSpec } from './types.js';

export interface Engine {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  /** a replica on the calling thread (evaluation, prediction) */
  readonly replica: Replica;
  readonly threads: number;
  /** Gradient of the mean loss over rows order[start, start+rows) of split into grads. */
  computeGradients(split: Split, order: Int32Array | null, start: number, rows: number, seed: number, step: number,
    stats: Float64Array): void;
  close(): Promise<void>;
}

export interface EngineOptions {
  plan: ParamPlan;
  model: ModelSpec;
  loss: LossName;
  task: 'classification' | 'regression';
  batchSize: number;
  heap: Heap;
  kernels: Kernels;
}

export class LocalEngine implements Engine {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly replica: Replica;
  readonly threads = 1;
  private readonly ctx: ForwardContext = { dropout: 'train', seed: 0, key: 0, rowOffset: 0 };

  constructor(o: EngineOptions) {
    this.params = o.heap.alloc(o.plan.size);
    this.grads = o.heap.alloc(o.plan.size);
    this.replica = new Replica(o.plan, o.model, o.loss, o.task, this.params, this.grads, o.heap, o.batchSize, o.kernels);
  }

  computeGradients(split: Split, order: Int32Array | null, start: number, rows: number, seed: number, step: number,
    stats: Float64Array): void {
    const r = this.replica, ctx = this.ctx;
    ctx.dropout = 'train'; ctx.seed = seed; ctx.key = step; ctx.rowOffset = 0;
    r.load(split, order, start, rows);
    r.stats[0] = 0; r.stats[1] = 0;
    r.forward(rows, ctx);
    r.accumulateLoss(rows);
    r.backward(rows, rows, ctx);
    stats[0] += r.stats[0]; stats[1] += r.stats[1];
  }

  async close(): Promise<void> { /* nothing to release */ }
}
