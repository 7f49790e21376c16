// What one thread brings to a training step, wired the same way on every thread (the
// local engine, the pool's calling thread, each pool thread): a Replica that runs
// forward and the row-wise backward for its shard of the minibatch over the shared
// parameters, its blocks of every layer's weight rows, and the UpdateContext with
// which it computes those blocks' gradients over the whole batch and steps them
// (update.ts).
import type { Task } from './dataset.js';
import { createKernels, type KernelsChoice } from './kernels/index.js';
import type { Heap, RowBlocks } from './memory.js';
import { Replica, type ParamBlock, type ParamPlan } from './model.js';
import type { Optimizer } from './optimizers/index.js';
import type { LossName, ModelSpec, RegularizationSpec } from './types.js';
import { weightRanges, type UpdateContext } from './update.js';

export interface ShardOptions {
  plan: ParamPlan;
  model: ModelSpec;
  loss: LossName;
  task: Task;
  regularization: RegularizationSpec;
  /** this thread's Optimizer object over the (shared) optimizer state */
  optimizer: Optimizer;
  /** this thread's memory for kernel scratch (and activations, without `rows`) */
  heap: Heap;
  /** this thread's rows of the batch's activation buffers, when the batch is split over threads */
  rows?: RowBlocks;
  /** rows of the largest shard this thread gets */
  maxRows: number;
  params: Float32Array;
  /** the gradient, one buffer all threads write their blocks of it into */
  grads: Float32Array;
  /** this thread's index, of `threads` */
  shard: number;
  threads: number;
  /** the weights before the step, for update_ratio */
  snapshot: Float32Array;
  /** the kernels the run's first shard chose (kernelsChoice), so every thread runs the same arithmetic; absent: createKernels decides */
  kernels?: KernelsChoice;
}

export interface Shard {
  replica: Replica;
  update: UpdateContext;
  /** this thread's blocks of the weight rows (Replica.blocks) */
  blocks: ParamBlock[];
}

export function createShard(o: ShardOptions): Shard {
  const kernels = createKernels(o.heap, o.kernels);
  const replica = new Replica(o.plan, o.model, o.loss, o.task, o.params, o.grads, o.rows ?? o.heap, o.maxRows, kernels);
  o.optimizer.kernels = kernels.optimizer ?? null;
  const update: UpdateContext = {
    params: o.params, grads: o.grads, snapshot: o.snapshot, optimizer: o.optimizer,
    l1: o.regularization.l1, l2: o.regularization.l2, weights: weightRanges(o.plan), vector: kernels.vector,
  };
  return { replica, update, blocks: replica.blocks(o.shard, o.threads) };
}
