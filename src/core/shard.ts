// What one thread brings to a training step, wired the same way on every thread (the
// local engine, the pool's calling thread, each pool thread): a Replica that runs
// forward and backward for its shard of the minibatch over the shared parameters
// into its own gradient buffer, and the UpdateContext with which it then reduces,
// regularizes and steps its slice of the flat parameter buffer.
import type { Task } from './dataset.js';
import { createKernels, type KernelsChoice } from './kernels/index.js';
import type { Heap } from './memory.js';
import { Replica, type ParamPlan } from './model.js';
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
  /** this thread's memory for activations and kernel scratch */
  heap: Heap;
  /** rows of the largest shard this thread gets */
  maxRows: number;
  params: Float32Array;
  /** every thread's gradient buffer, thread 0's first: the update reduces them into it */
  grads: Float32Array[];
  /** this thread's index into grads */
  shard: number;
  /** the weights before the step, for update_ratio */
  snapshot: Float32Array;
  /** the kernels the run's first shard chose (kernelsChoice), so every thread runs the same arithmetic; absent: createKernels decides */
  kernels?: KernelsChoice;
}

export interface Shard {
  replica: Replica;
  update: UpdateContext;
}

export function createShard(o: ShardOptions): Shard {
  const kernels = createKernels(o.heap, o.kernels);
  const replica = new Replica(o.plan, o.model, o.loss, o.task, o.params, o.grads[o.shard], o.heap, o.maxRows, kernels);
  o.optimizer.kernels = kernels.optimizer ?? null;
  const update: UpdateContext = {
    params: o.params, grads: o.grads[0], others: o.grads.slice(1), snapshot: o.snapshot, optimizer: o.optimizer,
    l1: o.regularization.l1, l2: o.regularization.l2, weights: weightRanges(o.plan), vector: kernels.vector,
  };
  return { replica, update };
}
