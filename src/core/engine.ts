// Where a training step runs. LocalEngine runs it on the calling thread; the engine of
// pool.ts splits the minibatch across worker_threads and the update across parameter
// ranges. Both leave the same parameters behind (up to summation order), add the
// batch's loss sum and correct count to `stats`, and report per-layer sums in
// `layerStats`, so the trainer cannot tell them apart.
import type { Dataset, Split } from './dataset.js';
import { createKernels } from './kernels/index.js';
import type { ForwardContext } from './layers/layer.js';
import type { Heap } from './memory.js';
import { Replica, type ParamPlan } from './model.js';
import type { Optimizer } from './optimizers/index.js';
import { updateRange, weightRanges, type UpdateContext } from './update.js';
import type { TrainSpec } from './types.js';

export interface Engine {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  /** a replica on the calling thread (evaluation, prediction) */
  readonly replica: Replica;
  readonly threads: number;
  /** per trainable layer l: [3l] Σg² (data gradient), [3l+1] Σ(Δw)², [3l+2] Σw² before the step (the last two when sampled) */
  readonly layerStats: Float64Array;
  /**
   * One optimizer step on rows order[start, start+rows) of split: gradient of the batch-mean
   * loss, L1/L2, optimizer update. `t` is the 1-based global step.
   */
  step(split: Split, order: Int32Array | null, start: number, rows: number, seed: number, t: number,
    sampleRatio: boolean, stats: Float64Array): void;
  close(): Promise<void>;
}

export interface EngineInit {
  plan: ParamPlan;
  spec: TrainSpec;
  data: Dataset;
  heap: Heap;
  optimizer: Optimizer;
  /** the optimizer's state buffers in allocation order (threads rebuild the optimizer over them) */
  optimizerBuffers: Float32Array[];
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
  readonly layerStats: Float64Array;
  private readonly ctx: ForwardContext = { dropout: 'train', seed: 0, key: 0, rowOffset: 0 };
  private readonly update: UpdateContext;

  constructor(o: EngineInit) {
    const { plan, heap, spec } = o;
    this.params = heap.alloc(plan.size);
    this.grads = heap.alloc(plan.size);
    const kernels = createKernels(heap);
    this.replica = new Replica(plan, spec.model, spec.loss, o.data.task, this.params, this.grads, heap,
      spec.training.batchSize, kernels);
    o.optimizer.kernels = kernels.optimizer ?? null;
    const weights = weightRanges(plan);
    this.layerStats = new Float64Array(3 * weights.length);
    this.update = {
      params: this.params, grads: this.grads, others: [], snapshot: heap.alloc(plan.size), optimizer: o.optimizer,
      l1: spec.regularization.l1, l2: spec.regularization.l2, weights, vector: kernels.vector,
    };
  }

  step(split: Split, order: Int32Array | null, start: number, rows: number, seed: number, t: number,
    sampleRatio: boolean, stats: Float64Array): void {
    const r = this.replica;
    r.trainShard(split, order, start, 0, rows, rows, seed, t, this.ctx);
    stats[0] += r.stats[0]; stats[1] += r.stats[1];
    updateRange(this.update, 0, this.params.length, t, sampleRatio, this.layerStats);
  }

  async close(): Promise<void> { /* nothing to release */ }
}
