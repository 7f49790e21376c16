// Every default of the job spec, stated once. A NormalizedJobSpec has all of them
// filled in, so the core, the hash and the stored job never guess; toTrainSpec hands
// the core its TrainSpec (src/core/types.ts), in which no field is optional.
// Optimizer defaults are PyTorch's (torch.optim), activation slopes the usual ones.

import type {
  AlphaActivation, EarlyStoppingSpec, LayerSpec, ModelSpec, MonitorName, OptimizerSpec, ScheduleSpec, TrainSpec,
} from '../core/types.js';
import type { DatasetSpec } from '../data/types.js';
import { SYNTHETIC_DEFAULTS } from '../data/catalog.js';
import type { JobSpec } from './schema.js';

export const OPTIMIZER_DEFAULTS = {
  sgd: {},
  momentum: { momentum: 0.9, nesterov: false },
  adagrad: { epsilon: 1e-10 },
  rmsprop: { alpha: 0.99, epsilon: 1e-8 },
  adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
} as const;

/** alpha of the activations that have one; the others take no alpha. */
export const ACTIVATION_ALPHA: Record<AlphaActivation, number> = { 'leaky-relu': 0.01, 'prelu': 0.25, 'elu': 1 };

export const MODEL_DEFAULTS = { init: 'auto', dropoutInference: 'weight-scaling', mcSamples: 32 } as const;
export const DENSE_DEFAULTS = { activation: 'linear' } as const;
export const DATASET_DEFAULTS = { validationSplit: 0 } as const;
export const REGULARIZATION_DEFAULTS = { l1: 0, l2: 0 } as const;
// training.threads has no default in the spec: absent, it means "the worker's TRAINER_THREADS"
// (toTrainSpec's defaultThreads). Results agree to 1e-5 at any thread count (DESIGN.md,
// Determinism), so the count is no part of the spec's identity and stays out of its hash.
export const TRAINING_DEFAULTS = { shuffle: true, seed: 0, batchLossEvery: 10 } as const;
export const EARLY_STOPPING_DEFAULTS = { monitor: 'val_loss', mode: 'auto', patience: 3, minDelta: 0, restoreBest: true } as const;
export const CHECKPOINT_DEFAULTS = { everyEpochs: 1, keepLast: 3, keepBest: true } as const;

/**
 * A JobSpec with every default present: the core's TrainSpec plus name, dataset and
 * initialWeights. It is stored and hashed, and must validate again unchanged, so
 * `earlyStopping` stays absent (never stop early) instead of null.
 */
export interface NormalizedJobSpec extends Omit<TrainSpec, 'earlyStopping' | 'training'> {
  name: string;
  /** threads only where the spec gave it */
  training: Omit<TrainSpec['training'], 'threads'> & { threads?: number };
  /** validationSplit always set; synthetic sets also get n, noise, seed (and classes for spirals/blobs) */
  dataset: JobSpec['dataset'] & { validationSplit: number };
  earlyStopping?: EarlyStoppingSpec;
  initialWeights?: NonNullable<JobSpec['initialWeights']>;
}

// Compile-time: a normalized spec is still a JobSpec (it validates again unchanged).
type Assert<T extends true> = T;
type Fits<A, B> = [A] extends [B] ? true : false;
export type _NormalizedFits = [
  Assert<Fits<NormalizedJobSpec, JobSpec>>,
  Assert<Fits<NormalizedJobSpec['dataset'], DatasetSpec>>,
];

/**
 * The core's view of a normalized spec: the training parts, earlyStopping null when
 * absent, and training.threads = the spec's, else `defaultThreads` (a worker passes its
 * TRAINER_THREADS).
 */
export function toTrainSpec(spec: NormalizedJobSpec, defaultThreads = 1): TrainSpec {
  return {
    model: spec.model, loss: spec.loss, optimizer: spec.optimizer, regularization: spec.regularization,
    training: { ...spec.training, threads: spec.training.threads ?? defaultThreads },
    earlyStopping: spec.earlyStopping ?? null, checkpoints: spec.checkpoints,
  };
}

/** max for accuracy (higher is better), min for loss. */
export function resolveMode(monitor: MonitorName, mode: 'min' | 'max' | 'auto'): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return monitor.endsWith('accuracy') ? 'max' : 'min';
}

/** Fills every default; the input is not modified (arrays of inline data are shared). */
export function normalizeJobSpec(spec: JobSpec): NormalizedJobSpec {
  const normalized: NormalizedJobSpec = {
    name: spec.name,
    dataset: normalizeDataset(spec.dataset),
    model: normalizeModel(spec.model),
    loss: spec.loss,
    optimizer: normalizeOptimizer(spec.optimizer),
    regularization: withDefaults(spec.regularization ?? {}, REGULARIZATION_DEFAULTS),
    training: withDefaults(spec.training, TRAINING_DEFAULTS),
    checkpoints: withDefaults(spec.checkpoints ?? {}, CHECKPOINT_DEFAULTS),
  };
  if (spec.earlyStopping) normalized.earlyStopping = normalizeEarlyStopping(spec.earlyStopping);
  if (spec.initialWeights) normalized.initialWeights = { checkpointId: spec.initialWeights.checkpointId };
  return normalized;
}

function normalizeDataset(dataset: JobSpec['dataset']): NormalizedJobSpec['dataset'] {
  const out: NormalizedJobSpec['dataset'] = { ...dataset, validationSplit: dataset.validationSplit ?? DATASET_DEFAULTS.validationSplit };
  if (dataset.name.startsWith('synthetic/')) {
    out.n = dataset.n ?? SYNTHETIC_DEFAULTS.n;
    out.noise = dataset.noise ?? SYNTHETIC_DEFAULTS.noise;
    out.seed = dataset.seed ?? SYNTHETIC_DEFAULTS.seed;
    if (dataset.name === 'synthetic/spirals' || dataset.name === 'synthetic/blobs') {
      out.classes = dataset.classes ?? SYNTHETIC_DEFAULTS.classes;
    }
  }
  return out;
}

export function normalizeModel(model: JobSpec['model']): ModelSpec {
  return {
    layers: model.layers.map(normalizeLayer),
    init: model.init ?? MODEL_DEFAULTS.init,
    dropoutInference: model.dropoutInference ?? MODEL_DEFAULTS.dropoutInference,
    mcSamples: model.mcSamples ?? MODEL_DEFAULTS.mcSamples,
  };
}

/** Keras's defaults, and 'auto' resolved to min or max. */
export function normalizeEarlyStopping(earlyStopping: NonNullable<JobSpec['earlyStopping']>): EarlyStoppingSpec {
  const es = withDefaults(earlyStopping, EARLY_STOPPING_DEFAULTS);
  return { ...es, mode: resolveMode(es.monitor, es.mode) };
}

/** Whether an activation has an alpha (leaky-relu, prelu, elu). */
export function hasAlpha(activation: string): activation is AlphaActivation {
  return Object.hasOwn(ACTIVATION_ALPHA, activation);
}

function normalizeLayer(layer: JobSpec['model']['layers'][number]): LayerSpec {
  if (layer.type !== 'dense') return { ...layer };
  const activation = layer.activation ?? DENSE_DEFAULTS.activation;
  if (hasAlpha(activation)) return { type: 'dense', units: layer.units, activation, alpha: layer.alpha ?? ACTIVATION_ALPHA[activation] };
  return { type: 'dense', units: layer.units, activation };
}

export function normalizeOptimizer(optimizer: JobSpec['optimizer']): OptimizerSpec {
  const normalized = normalizeUpdateRule(optimizer);
  if (optimizer.schedule) normalized.schedule = normalizeSchedule(optimizer.schedule);
  return normalized;
}

/** PyTorch's defaults: StepLR gamma 0.1, CosineAnnealingLR eta_min 0 (ExponentialLR has none). */
export const SCHEDULE_DEFAULTS = { step: { gamma: 0.1 }, cosine: { etaMin: 0 } } as const;

export function normalizeSchedule(schedule: NonNullable<JobSpec['optimizer']['schedule']>): ScheduleSpec {
  switch (schedule.type) {
    case 'step': return withDefaults(schedule, SCHEDULE_DEFAULTS.step);
    case 'exponential': return { ...schedule };
    case 'cosine': return withDefaults(schedule, SCHEDULE_DEFAULTS.cosine);
  }
}

function normalizeUpdateRule(optimizer: JobSpec['optimizer']): OptimizerSpec {
  switch (optimizer.type) {
    case 'sgd': return withoutSchedule(optimizer);
    case 'momentum': return withDefaults(withoutSchedule(optimizer), OPTIMIZER_DEFAULTS.momentum);
    case 'adagrad': return withDefaults(withoutSchedule(optimizer), OPTIMIZER_DEFAULTS.adagrad);
    case 'rmsprop': return withDefaults(withoutSchedule(optimizer), OPTIMIZER_DEFAULTS.rmsprop);
    case 'adam': return withDefaults(withoutSchedule(optimizer), OPTIMIZER_DEFAULTS.adam);
  }
}

/** The update rule's own fields (normalizeOptimizer puts the normalized schedule back). */
function withoutSchedule<T extends { schedule?: unknown }>(optimizer: T): Omit<T, 'schedule'> {
  const { schedule: _schedule, ...rule } = optimizer;
  return rule;
}

/** The given fields in their order, then each missing default. */
function withDefaults<T extends object, D extends object>(value: T, defaults: D): T & { [K in keyof D]-?: Exclude<K extends keyof T ? T[K] : never, undefined> | D[K] } {
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, fallback] of Object.entries(defaults)) {
    if (out[key] === undefined) out[key] = fallback;
  }
  return out as never;
}
