// train(): the entry point of the training core. Builds the parameter plan, the
// optimizer (its state in the run's heap) and the Engine where steps run (one thread,
// or a worker_threads pool), then runs the loop (training-run.ts) and releases the
// engine however the run ends.
import type { Dataset } from './dataset.js';
import { DeadUnits } from './dead-units.js';
import { localEngine, type Engine, type EngineFactory } from './engine.js';
import { Heap } from './memory.js';
import { planParams, type ParamPlan } from './model.js';
import { createOptimizer, type Optimizer } from './optimizers/index.js';
import type { TrainOptions, TrainResult } from './train-types.js';
import { TrainingRun } from './training-run.js';
import type { TrainSpec } from './types.js';

export type { EngineFactory };

export async function train(opts: TrainOptions & { engine?: EngineFactory }): Promise<TrainResult> {
  const { plan, heap, optimizer, engine } = await buildEngine(opts.spec, opts.data, opts.engine ?? localEngine);
  try {
    return await new TrainingRun(opts, plan, heap, optimizer, engine).run();
  } finally {
    await engine.close();
  }
}

export interface BuiltEngine { plan: ParamPlan; heap: Heap; optimizer: Optimizer; engine: Engine }

/**
 * The parameter plan, the optimizer (its state in the run's heap) and the engine of a
 * run, as train() builds them; the parameters are left uninitialized (the run does
 * that). The caller closes the engine.
 */
export async function buildEngine(spec: TrainSpec, data: Dataset, factory: EngineFactory): Promise<BuiltEngine> {
  const plan = planParams(spec.model, data.inputSize);
  const heap = factory.heap?.() ?? new Heap();
  const optimizerBuffers: Float32Array[] = [];
  const optimizer = createOptimizer(spec.optimizer, plan.size, (n) => {
    const b = heap.alloc(n);
    optimizerBuffers.push(b);
    return b;
  });
  const deadUnits = DeadUnits.alloc(spec.model, heap);
  const engine = await factory({ plan, spec, data, heap, optimizer, optimizerBuffers, deadUnits });
  return { plan, heap, optimizer, engine };
}
