// The training core's view of a job spec. Field names follow DESIGN.md (binding).
// src/spec builds the TypeBox schema for the whole JobSpec on top of these shapes;
// the core itself never validates, it trusts a spec that src/spec accepted.

export type Activation =
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky-relu' | 'prelu' | 'elu' | 'linear' | 'softmax';

export interface DenseLayerSpec {
  type: 'dense';
  units: number;
  /** default 'linear' */
  activation?: Activation;
  /** leaky-relu slope (default 0.01), prelu initial slope (0.25), elu alpha (1) */
  alpha?: number;
}
export interface MaxoutLayerSpec { type: 'maxout'; units: number; pieces: number }
export interface DropoutLayerSpec { type: 'dropout'; rate: number }
export type LayerSpec = DenseLayerSpec | MaxoutLayerSpec | DropoutLayerSpec;

export type InitScheme = 'auto' | 'he' | 'xavier' | 'glorot' | 'lecun';

export interface ModelSpec {
  layers: LayerSpec[];
  /** default 'auto': he for relu-family, xavier for sigmoid/tanh/softmax/linear, lecun for elu? see init.ts */
  init?: InitScheme;
  /** default 'weight-scaling' */
  dropoutInference?: 'weight-scaling' | 'mc-ensemble';
  /** default 32 */
  mcSamples?: number;
}

export type LossName = 'cross-entropy' | 'mse';

export type OptimizerSpec =
  | { type: 'sgd'; learningRate: number }
  | { type: 'momentum'; learningRate: number; momentum?: number; nesterov?: boolean }
  | { type: 'adagrad'; learningRate: number; epsilon?: number }
  | { type: 'rmsprop'; learningRate: number; alpha?: number; epsilon?: number }
  | { type: 'adam'; learningRate: number; beta1?: number; beta2?: number; epsilon?: number };

export interface RegularizationSpec { l1?: number; l2?: number }

export interface TrainingSpec {
  epochs: number;
  batchSize: number;
  /** default true */
  shuffle?: boolean;
  /** default 0 */
  seed?: number;
  /** default 1 */
  threads?: number;
  /** record batch_loss every N optimizer steps (default 10) */
  batchLossEvery?: number;
}

export type MonitorName = 'val_loss' | 'val_accuracy' | 'train_loss' | 'train_accuracy';

export interface EarlyStoppingSpec {
  monitor?: MonitorName;      // default 'val_loss'
  mode?: 'min' | 'max' | 'auto'; // default 'auto' (max for *accuracy, min otherwise)
  patience?: number;          // default 3
  minDelta?: number;          // default 0
  restoreBest?: boolean;      // default true
}

export interface CheckpointSpec {
  everyEpochs?: number; // default 1
  keepLast?: number;    // default 3
  keepBest?: boolean;   // default true
}

/** Everything the core needs to train (the JobSpec minus dataset/name/initialWeights). */
export interface TrainSpec {
  model: ModelSpec;
  loss: LossName;
  optimizer: OptimizerSpec;
  regularization?: RegularizationSpec;
  training: TrainingSpec;
  earlyStopping?: EarlyStoppingSpec;
  checkpoints?: CheckpointSpec;
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
