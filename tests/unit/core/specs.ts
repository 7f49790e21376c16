// Specs for core tests, written the way a user writes them and completed by the one
// defaults filler (src/spec/defaults.ts): the core takes only fully normalized specs.
import { normalizeEarlyStopping, normalizeJobSpec, normalizeModel, toTrainSpec, type JobSpec } from '../../../src/spec/index.js';
import type { EarlyStoppingSpec, ModelSpec, TrainSpec } from '../../../src/core/types.js';

export type TrainSpecInput = Omit<JobSpec, 'name' | 'dataset'>;

/** The core's TrainSpec for a spec without name and dataset (the core never reads them). */
export function trainSpec(input: TrainSpecInput): TrainSpec {
  return toTrainSpec(normalizeJobSpec({ name: 'test', dataset: { name: 'inline' }, ...input }));
}

export function modelSpec(model: JobSpec['model']): ModelSpec {
  return normalizeModel(model);
}

export function earlyStoppingSpec(earlyStopping: NonNullable<JobSpec['earlyStopping']>): EarlyStoppingSpec {
  return normalizeEarlyStopping(earlyStopping);
}
