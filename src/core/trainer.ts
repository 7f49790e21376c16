// train(): the entry point of the training core. Builds the parameter plan, the
// optimizer (its state in the run's heap) and the Engine where steps run (one thread,
// or a worker_threads pool), then runs the loop (training-run.ts) and releases the
// engine however the run ends.
import { DeadUnits } from './dead-units.js';
import { localEngine, type EngineFactory } from './engine.js';
import { Heap } from './memory.js';
import { planParams } from './model.js';
import { createOptimizer } from './optimizers/index.js';
import type { TrainOptions, TrainResult } from './train-types.js';
import { TrainingRun } from './training-run.js';

export type { EngineFactory };

export async function train(opts: TrainOptions & { engine?: EngineFactory }): Promise<TrainResult> {
  const { spec, data } = opts;
  const plan = planParams(spec.model, data.inputSize);
  const factory = opts.engine ?? localEngine;
  const heap = factory.heap?.() ?? new Heap();
  const optimizerBuffers: Float32Array[] = [];
  const optimizer = createOptimizer(spec.optimizer, plan.size, (n) => {
    const b = heap.alloc(n);
    optimizerBuffers.push(b);
    return b;
  });
  const deadUnits = DeadUnits.alloc(spec.model, heap);
  const engine = await factory({ plan, spec, data, heap, optimizer, optimizerBuffers, deadUnits });
  try {
    return await new TrainingRun(opts, plan, heap, optimizer, engine).run();
  } finally {
    await engine.close();
  }
}
