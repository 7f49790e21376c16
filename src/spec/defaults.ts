// Every default of the job spec, stated once. A NormalizedJobSpec has all of them
// filled in, so the core, the hash and the stored job never guess. Optimizer defaults
// are PyTorch's (torch.optim), activation slopes are the usual ones.

import type { MonitorName, TrainSpec } from '../core/types.js';
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
export const ACTIVATION_ALPHA = { 'leaky-relu': 0.01, 'prelu': 0.25, 'elu': 1 } as const;

export const MODEL_DEFAULTS = { init: 'auto', dropoutInference: 'weight-scaling', mcSamples: 32 } as const;
export const DENSE_DEFAULTS = { activation: 'linear' } as const;
export const DATASET_DEFAULTS = { validationSplit: 0 } as const;
export const REGULARIZATION_DEFAULTS = { l1: 0, l2: 0 } as const;
export const TRAINING_DEFAULTS = { shuffle: true, seed: 0, threads: 1, batchLossEvery: 10 } as const;
export const EARLY_STOPPING_DEFAULTS = { monitor: 'val_loss', mode: 'auto', patience: 3, minDelta: 0, restoreBest: true } as const;
export const CHECKPOINT_DEFAULTS = { everyEpochs: 1, keepLast: 3, keepBest: true } as const;

type DenseLayer = Extract<JobSpec['model']['layers'][number], { type: 'dense' }>;
type Distribute<U> = U extends unknown ? Required<U> : never;

export type NormalizedLayer =
  | (Required<Omit<DenseLayer, 'alpha'>> & { alpha?: number })
  | Exclude<JobSpec['model']['layers'][number], { type: 'dense' }>;

export type NormalizedOptimizer = Distribute<JobSpec['optimizer']>;

export interface NormalizedEarlyStopping {
  monitor: MonitorName;
  /** 'auto' is resolved: max for *_accuracy, min for *_loss */
  mode: 'min' | 'max';
  patience: number;
  minDelta: number;
  restoreBest: boolean;
}

/** A JobSpec with every default present. `earlyStopping` absent means: never stop early. */
export interface NormalizedJobSpec {
  name: string;
  /** validationSplit always set; synthetic sets also get n, noise, seed (and classes for spirals/blobs) */
  dataset: JobSpec['dataset'] & { validationSplit: number };
  model: {
    layers: NormalizedLayer[];
    init: NonNullable<JobSpec['model']['init']>;
    dropoutInference: NonNullable<JobSpec['model']['dropoutInference']>;
    mcSamples: number;
  };
  loss: JobSpec['loss'];
  optimizer: NormalizedOptimizer;
  regularization: Required<NonNullable<JobSpec['regularization']>>;
  training: Required<JobSpec['training']>;
  earlyStopping?: NormalizedEarlyStopping;
  checkpoints: Required<NonNullable<JobSpec['checkpoints']>>;
  initialWeights?: NonNullable<JobSpec['initialWeights']>;
}

// Compile-time: a normalized spec is still a JobSpec (it validates again unchanged)
// and is what the core trains on.
type Assert<T extends true> = T;
type Fits<A, B> = [A] extends [B] ? true : false;
export type _NormalizedFits = [
  Assert<Fits<NormalizedJobSpec, JobSpec>>,
  Assert<Fits<NormalizedJobSpec, TrainSpec>>,
  Assert<Fits<NormalizedJobSpec['dataset'], DatasetSpec>>,
];

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
    model: {
      layers: spec.model.layers.map(normalizeLayer),
      init: spec.model.init ?? MODEL_DEFAULTS.init,
      dropoutInference: spec.model.dropoutInference ?? MODEL_DEFAULTS.dropoutInference,
      mcSamples: spec.model.mcSamples ?? MODEL_DEFAULTS.mcSamples,
    },
    loss: spec.loss,
    optimizer: normalizeOptimizer(spec.optimizer),
    regularization: withDefaults(spec.regularization ?? {}, REGULARIZATION_DEFAULTS),
    training: withDefaults(spec.training, TRAINING_DEFAULTS),
    checkpoints: withDefaults(spec.checkpoints ?? {}, CHECKPOINT_DEFAULTS),
  };
  if (spec.earlyStopping) {
    const es = withDefaults(spec.earlyStopping, EARLY_STOPPING_DEFAULTS);
    normalized.earlyStopping = { ...es, mode: resolveMode(es.monitor, es.mode) };
  }
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

function normalizeLayer(layer: JobSpec['model']['layers'][number]): NormalizedLayer {
  if (layer.type !== 'dense') return { ...layer };
  const activation = layer.activation ?? DENSE_DEFAULTS.activation;
  const out: NormalizedLayer = { type: 'dense', units: layer.units, activation };
  if (Object.hasOwn(ACTIVATION_ALPHA, activation)) {
    out.alpha = layer.alpha ?? ACTIVATION_ALPHA[activation as keyof typeof ACTIVATION_ALPHA];
  }
  return out;
}

function normalizeOptimizer(optimizer: JobSpec['optimizer']): NormalizedOptimizer {
  switch (optimizer.type) {
    case 'sgd': return { ...optimizer };
    case 'momentum': return withDefaults(optimizer, OPTIMIZER_DEFAULTS.momentum);
    case 'adagrad': return withDefaults(optimizer, OPTIMIZER_DEFAULTS.adagrad);
    case 'rmsprop': return withDefaults(optimizer, OPTIMIZER_DEFAULTS.rmsprop);
    case 'adam': return withDefaults(optimizer, OPTIMIZER_DEFAULTS.adam);
  }
}

/** The given fields in their order, then each missing default. */
function withDefaults<T extends object, D extends object>(value: T, defaults: D): T & { [K in keyof D]-?: Exclude<K extends keyof T ? T[K] : never, undefined> | D[K] } {
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, fallback] of Object.entries(defaults)) {
    if (out[key] === undefined) out[key] = fallback;
  }
  return out as never;
}
