// The training core's view of a job spec: TrainSpec is the spec with EVERY default
// filled in (src/spec/defaults.ts produces it; DESIGN.md states the defaults), so
// no field is optional and the core never guesses one. Field names follow DESIGN.md
// (binding). The core itself never validates: it trusts a spec that src/spec accepted.

export type Activation =
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky-relu' | 'prelu' | 'elu' | 'linear' | 'softmax';

/** The activations with a slope or scale α: leaky-relu's slope, prelu's initial slope, elu's α. */
export type AlphaActivation = 'leaky-relu' | 'prelu' | 'elu';

/** A dense layer carries `alpha` exactly when its activation has one. */
export type DenseLayerSpec =
  | { type: 'dense'; units: number; activation: AlphaActivation; alpha: number }
  | { type: 'dense'; units: number; activation: Exclude<Activation, AlphaActivation> };
export interface MaxoutLayerSpec { type: 'maxout'; units: number; pieces: number }
export interface DropoutLayerSpec { type: 'dropout'; rate: number }
export type LayerSpec = DenseLayerSpec | MaxoutLayerSpec | DropoutLayerSpec;

export type InitScheme = 'auto' | 'he' | 'xavier' | 'glorot' | 'lecun';

export interface ModelSpec {
  layers: LayerSpec[];
  /** 'auto': he for the relu family and maxout, xavier otherwise (init.ts) */
  init: InitScheme;
  dropoutInference: 'weight-scaling' | 'mc-ensemble';
  /** thinned networks averaged by 'mc-ensemble' */
  mcSamples: number;
}

export type LossName = 'cross-entropy' | 'mse';

/** PyTorch's StepLR, ExponentialLR, CosineAnnealingLR, stepped once per epoch (schedule.ts). */
export type ScheduleSpec =
  | { type: 'step'; stepSize: number; gamma: number }
  | { type: 'exponential'; gamma: number }
  | { type: 'cosine'; tMax: number; etaMin: number };

/**
 * `schedule` absent: a constant learning rate. (Optional rather than null so that specs
 * stored before schedules existed keep their normalized form and their hash.)
 */
export type OptimizerSpec = (
  | { type: 'sgd'; learningRate: number }
  | { type: 'momentum'; learningRate: number; momentum: number; nesterov: boolean }
  | { type: 'adagrad'; learningRate: number; epsilon: number }
  | { type: 'rmsprop'; learningRate: number; alpha: number; epsilon: number }
  | { type: 'adam'; learningRate: number; beta1: number; beta2: number; epsilon: number }
) & { schedule?: ScheduleSpec };

/** `maxNorm` absent: no constraint (optional for the same reason as `schedule`). */
export interface RegularizationSpec { l1: number; l2: number; maxNorm?: number }

export interface TrainingSpec {
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  seed: number;
  threads: number;
  /** record batch_loss (and sample update_ratio) every N optimizer steps */
  batchLossEvery: number;
}

export type MonitorName = 'val_loss' | 'val_accuracy' | 'train_loss' | 'train_accuracy';

/** Keras's EarlyStopping(monitor, mode, patience, min_delta, restore_best_weights), mode resolved. */
export interface EarlyStoppingSpec {
  monitor: MonitorName;
  mode: 'min' | 'max';
  patience: number;
  minDelta: number;
  restoreBest: boolean;
}

export interface CheckpointSpec {
  everyEpochs: number;
  keepLast: number;
  keepBest: boolean;
}

/** Everything the core needs to train (the normalized JobSpec minus dataset/name/initialWeights). */
export interface TrainSpec {
  model: ModelSpec;
  loss: LossName;
  optimizer: OptimizerSpec;
  regularization: RegularizationSpec;
  training: TrainingSpec;
  /** null: never stop early */
  earlyStopping: EarlyStoppingSpec | null;
  checkpoints: CheckpointSpec;
}

/** One metric value; `step` is the global optimizer step, `epoch` is 1-based. */
export interface MetricPoint {
  name: string;
  step: number;
  epoch: number;
  value: number;
}

export interface EarlyStoppingDecision {
  epoch: number;
  monitor: MonitorName;
  value: number;
  best: number;
  bestEpoch: number;
  wait: number;
  decision: 'improved' | 'continue' | 'stop';
  reason: string;
}
