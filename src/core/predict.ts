// Inference with trained weights: the network of a spec, loaded from a safetensors
// file, run on caller-given rows (dropout by the spec's inference rule).
import { loadWeightsInto } from './checkpoint.js';
import { inferLoaded } from './evaluate.js';
import { createKernels } from './kernels/index.js';
import type { ForwardContext } from './layers/layer.js';
import { Heap } from './memory.js';
import { Replica, planParams } from './model.js';
import type { Task } from './dataset.js';
import type { TrainSpec } from './types.js';

/** The parts of a (normalized) spec that inference reads; the seed keys mc-ensemble's masks. */
export interface PredictorSpec extends Pick<TrainSpec, 'model' | 'loss'> { training: Pick<TrainSpec['training'], 'seed'> }

export interface Prediction { outputs: number[][]; predictions?: number[] }

const CHUNK = 256;

export class Predictor {
  private readonly replica: Replica;
  private readonly out: Float32Array;
  private readonly ctx: ForwardContext;

  constructor(private readonly spec: PredictorSpec, readonly inputSize: number, readonly task: Task,
    weights: Uint8Array) {
    const plan = planParams(spec.model, inputSize);
    const heap = new Heap();
    const params = heap.alloc(plan.size), grads = heap.alloc(plan.size);
    loadWeightsInto(plan, params, weights);
    // the training kernels (wasm SIMD where available): the Predictor owns a shared heap
    // already, so they cost one module instance; a 10,000-row /predict ran ~7× slower on plain JS
    this.replica = new Replica(plan, spec.model, spec.loss, task, params, grads, heap, CHUNK, createKernels(heap));
    this.out = new Float32Array(CHUNK * plan.outputSize);
    this.ctx = { dropout: 'infer', seed: spec.training.seed, key: 0, rowOffset: 0 };
  }

  get outputSize(): number { return this.replica.plan.outputSize; }

  predict(inputs: number[][]): Prediction {
    const d = this.inputSize, C = this.outputSize;
    const outputs: number[][] = [];
    const infer = { mode: this.spec.model.dropoutInference, mcSamples: this.spec.model.mcSamples, seed: this.ctx.seed };
    for (let start = 0; start < inputs.length; start += CHUNK) {
      const rows = Math.min(CHUNK, inputs.length - start);
      for (let r = 0; r < rows; r++) {
        const row = inputs[start + r];
        if (row.length !== d) throw new RangeError(`input ${start + r} has ${row.length} values; the model takes ${d}`);
        for (let j = 0; j < d; j++) this.replica.X[r * d + j] = row[j];
      }
      inferLoaded(this.replica, rows, infer, this.ctx, this.out, start);
      for (let r = 0; r < rows; r++) outputs.push(Array.from(this.out.subarray(r * C, r * C + C)));
    }
    if (this.task !== 'classification') return { outputs };
    return { outputs, predictions: outputs.map((o) => o.indexOf(Math.max(...o))) };
  }
}
