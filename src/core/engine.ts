// Where a training step runs. LocalEngine runs it on the calling thread; the engine of
// pool.ts splits the minibatch's rows across worker_threads, then the weight gradients
// and the update across blocks of every layer's units. Both leave the same parameters
// behind (bit for bit, but PReLU slopes: up to summation order), add the batch's loss
// sum and correct count to `stats`, and report per-layer sums in `layerStats`, so the
// trainer cannot tell them apart.
import type { Dataset, Split } from './dataset.js';
import type { DeadUnits } from './dead-units.js';
import { evaluateSplit, inferenceOptions, type EvalResult, type InferenceOptions } from './evaluate.js';
import type { ForwardContext } from './layers/layer.js';
import type { Heap } from './memory.js';
import type { ParamBlock, ParamPlan, Replica } from './model.js';
import type { Optimizer } from './optimizers/index.js';
import { createShard } from './shard.js';
import { LAYER_STATS, LOSS_STATS } from './step-stats.js';
import type { TrainSpec } from './types.js';
import { gradientsAndUpdate, type UpdateContext } from './update.js';

export interface Engine {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  /** a replica on the calling thread (evaluation, prediction) */
  readonly replica: Replica;
  readonly threads: number;
  /** the kernels each thread runs (Kernels.name), the calling thread's first: one value, repeated */
  readonly kernels: readonly string[];
  /** the last step's per-layer sums, LAYER_STATS per trainable layer (updateSq and weightSq when sampled) */
  readonly layerStats: Float64Array;
  /** the dead_units flags every thread's training forward passes set; null without ReLU layers */
  readonly deadUnits: DeadUnits | null;
  /**
   * One optimizer step on rows order[start, start+rows) of split: gradient of the batch-mean
   * loss, L1/L2, optimizer update. `t` is the 1-based global step. Adds the batch's loss
   * sum and correct count to `stats` (LOSS_STATS).
   */
  step(split: Split, order: Int32Array | null, start: number, rows: number, seed: number, t: number,
    sampleRatio: boolean, stats: Float64Array): void;
  /**
   * Loss and accuracy of the current weights on the run's validation or test split,
   * under the spec's inference rule; a thread engine splits the rows over its threads.
   */
  evaluate(which: EvalSplit): EvalResult;
  close(): Promise<void>;
}

export type EvalSplit = 'validation' | 'test';

export interface EngineInit {
  plan: ParamPlan;
  spec: TrainSpec;
  data: Dataset;
  heap: Heap;
  optimizer: Optimizer;
  /** the optimizer's state buffers in allocation order (threads rebuild the optimizer over them) */
  optimizerBuffers: Float32Array[];
  /** dead_units flags in `heap` (DeadUnits.alloc), for every thread's replica */
  deadUnits: DeadUnits | null;
}

export interface EngineFactory {
  (o: EngineInit): Engine | Promise<Engine>;
  /** where the run's tensors live, when the engine brings its own memory (a thread pool reuses one) */
  heap?: () => Heap;
}

/** Runs everything on the calling thread. */
export const localEngine: EngineFactory = (o) => new LocalEngine(o);

export class LocalEngine implements Engine {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly replica: Replica;
  readonly threads = 1;
  readonly kernels: readonly string[];
  readonly layerStats: Float64Array;
  readonly deadUnits: DeadUnits | null;
  private readonly ctx: ForwardContext = { dropout: 'train', seed: 0, key: 0, rowOffset: 0 };
  private readonly update: UpdateContext;
  private readonly blocks: ParamBlock[];
  private readonly data: Dataset;
  private readonly infer: InferenceOptions;
  private readonly evalOut: Float32Array;

  constructor(o: EngineInit) {
    const { plan, heap, spec } = o;
    this.data = o.data;
    this.infer = inferenceOptions(spec);
    this.params = heap.alloc(plan.size);
    this.grads = heap.alloc(plan.size);
    const shard = createShard({
      plan, model: spec.model, loss: spec.loss, task: o.data.task, regularization: spec.regularization, optimizer: o.optimizer,
      heap, maxRows: spec.training.batchSize, params: this.params, grads: this.grads, shard: 0, threads: 1, snapshot: heap.alloc(plan.size),
    });
    this.blocks = shard.blocks;
    this.replica = shard.replica;
    this.kernels = [shard.replica.kernels.name];
    this.replica.trackAlive(o.deadUnits);
    this.deadUnits = o.deadUnits;
    this.update = shard.update;
    this.layerStats = new Float64Array(LAYER_STATS.size * this.update.weights.length);
    this.evalOut = heap.alloc(this.replica.maxRows * plan.outputSize);
  }

  evaluate(which: EvalSplit): EvalResult {
    const split = this.data[which];
    if (!split) throw new Error(`the run has no ${which} split`);
    return evaluateSplit(this.replica, split, this.infer, this.evalOut);
  }

  step(split: Split, order: Int32Array | null, start: number, rows: number, seed: number, t: number,
    sampleRatio: boolean, stats: Float64Array): void {
    const r = this.replica;
    r.trainShard(split, order, start, 0, rows, rows, seed, t, this.ctx);
    addLossStats(stats, r.stats, 0);
    gradientsAndUpdate(r, this.blocks, this.update, rows, t, sampleRatio, this.layerStats);
  }

  async close(): Promise<void> { /* nothing to release */ }
}

/** stats += the LOSS_STATS block of `from` that starts at `offset`. */
export function addLossStats(stats: Float64Array, from: Float64Array, offset: number): void {
  for (let i = 0; i < LOSS_STATS.size; i++) stats[i] += from[offset + i];
}
