// The job spec (DESIGN.md, "Job spec") as one TypeBox schema: the API's route schema,
// the OpenAPI document and the static `JobSpec` type all come from here. Rules that
// relate one field to another (last layer vs dataset, batch size vs samples...) live
// in validate.ts; this file only says what each field may hold on its own.

import Type, { type Static } from 'typebox';
import type { Activation, InitScheme, LossName, MonitorName } from '../core/types.js';
import type { DatasetSpec } from '../data/types.js';

/** Hard limits a single job must stay within (one worker process, one machine). */
export const LIMITS = {
  nameLength: 200,
  layers: 64,
  units: 65_536,
  epochs: 10_000,
  threads: 64,
  parameters: 50_000_000,
  mcSamples: 1_024,
  seed: 4_294_967_295,
} as const;

export const DATASET_NAMES = [
  'mnist', 'fashion-mnist',
  'synthetic/spirals', 'synthetic/blobs', 'synthetic/xor', 'synthetic/regression',
  'inline',
] as const;

export const ACTIVATIONS = ['sigmoid', 'tanh', 'relu', 'leaky-relu', 'prelu', 'elu', 'linear', 'softmax'] as const;
export const INIT_SCHEMES = ['auto', 'he', 'xavier', 'glorot', 'lecun'] as const;
export const LOSSES = ['cross-entropy', 'mse'] as const;
export const MONITORS = ['val_loss', 'val_accuracy', 'train_loss', 'train_accuracy'] as const;

/** The largest finite float32: training computes in float32, where anything beyond is Infinity. */
export const FLOAT32_MAX = 3.4028234663852886e38;
const Float32 = (description?: string) =>
  Type.Number({ minimum: -FLOAT32_MAX, maximum: FLOAT32_MAX, ...(description !== undefined && { description }) });

const Seed = (description: string) =>
  Type.Integer({ minimum: 0, maximum: LIMITS.seed, description });

// ---------------------------------------------------------------- dataset

export const DatasetSchema = Type.Object({
  name: Type.Enum([...DATASET_NAMES], {
    description: "Which data to train on: 'mnist', 'fashion-mnist', 'synthetic/<spirals|blobs|xor|regression>', or 'inline' (with features and labels).",
  }),
  validationSplit: Type.Optional(Type.Number({
    minimum: 0, exclusiveMaximum: 1,
    description: 'Fraction of the (limited) training set held out for validation, in [0, 1). Default 0.',
  })),
  limit: Type.Optional(Type.Integer({
    minimum: 1,
    description: 'Use only the first `limit` training samples, as stored.',
  })),
  n: Type.Optional(Type.Integer({
    minimum: 1, maximum: 1_000_000,
    description: 'synthetic: number of samples to generate. Default 1000.',
  })),
  noise: Type.Optional(Type.Number({
    minimum: 0,
    description: 'synthetic: noise level. Default 0.1.',
  })),
  classes: Type.Optional(Type.Integer({
    minimum: 2, maximum: 1_000,
    description: 'synthetic spirals/blobs: number of classes. Default 3 (xor always has 2).',
  })),
  seed: Type.Optional(Seed('synthetic: seed for generating the samples. Default 0.')),
  features: Type.Optional(Type.Array(Type.Array(Float32()), {
    description: 'inline: the inputs, one number array per sample, all the same length.',
  })),
  labels: Type.Optional(Type.Union([
    Type.Array(Type.Integer({ minimum: 0 }), { description: 'class indices (classification)' }),
    Type.Array(Type.Array(Float32()), { description: 'target arrays (regression)' }),
  ], {
    description: 'inline: one label per sample — a class index (classification) or a number array (regression).',
  })),
}, {
  additionalProperties: false,
  description: 'The data set and how it is split.',
});

// ---------------------------------------------------------------- model

export const DenseLayerSchema = Type.Object({
  type: Type.Literal('dense'),
  units: Type.Integer({ minimum: 1, maximum: LIMITS.units, description: 'Number of output units.' }),
  activation: Type.Optional(Type.Enum([...ACTIVATIONS], {
    description: "Activation after the affine map. Default 'linear'. 'softmax' only on the last layer.",
  })),
  alpha: Type.Optional(Type.Number({
    minimum: 0,
    description: 'leaky-relu slope (default 0.01), prelu initial slope (default 0.25) or elu alpha (default 1).',
  })),
}, { additionalProperties: false, description: 'Fully connected layer (nn.Linear + activation).' });

export const MaxoutLayerSchema = Type.Object({
  type: Type.Literal('maxout'),
  units: Type.Integer({ minimum: 1, maximum: LIMITS.units, description: 'Number of output units.' }),
  pieces: Type.Integer({ minimum: 2, maximum: 64, description: 'Linear pieces per unit; the output is their maximum.' }),
}, { additionalProperties: false, description: 'Maxout layer: units·pieces affine rows, max over each unit\'s pieces.' });

export const DropoutLayerSchema = Type.Object({
  type: Type.Literal('dropout'),
  rate: Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'Probability of dropping each input unit while training, in [0, 1).' }),
}, { additionalProperties: false, description: 'Inverted dropout on the previous layer\'s output.' });

export const LayerSchema = Type.Union([DenseLayerSchema, MaxoutLayerSchema, DropoutLayerSchema], {
  description: "One layer, chosen by `type`: 'dense', 'maxout' or 'dropout'.",
});

export const ModelSchema = Type.Object({
  layers: Type.Array(LayerSchema, {
    minItems: 1, maxItems: LIMITS.layers,
    description: 'The layers from input to output; the last one must be dense.',
  }),
  init: Type.Optional(Type.Enum([...INIT_SCHEMES], {
    description: "Weight initialisation. Default 'auto' (chosen per layer from its activation).",
  })),
  dropoutInference: Type.Optional(Type.Enum(['weight-scaling', 'mc-ensemble'], {
    description: "How dropout models predict: 'weight-scaling' (default) or 'mc-ensemble' (average of mcSamples thinned networks).",
  })),
  mcSamples: Type.Optional(Type.Integer({
    minimum: 1, maximum: LIMITS.mcSamples,
    description: 'Thinned networks averaged in mc-ensemble inference. Default 32.',
  })),
}, { additionalProperties: false, description: 'The network.' });

// ---------------------------------------------------------------- optimizer

const LearningRate = Type.Number({ exclusiveMinimum: 0, description: 'Step size (lr).' });

export const ScheduleSchema = Type.Union([
  Type.Object({
    type: Type.Literal('step'),
    stepSize: Type.Integer({ minimum: 1, description: 'Multiply the rate by gamma every stepSize epochs.' }),
    gamma: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Decay factor. Default 0.1.' })),
  }, { additionalProperties: false, description: 'torch.optim.lr_scheduler.StepLR.' }),
  Type.Object({
    type: Type.Literal('exponential'),
    gamma: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Multiply the rate by gamma every epoch.' }),
  }, { additionalProperties: false, description: 'torch.optim.lr_scheduler.ExponentialLR.' }),
  Type.Object({
    type: Type.Literal('cosine'),
    tMax: Type.Integer({ minimum: 1, description: 'Epochs from the base rate down to etaMin (half a cosine period).' }),
    etaMin: Type.Optional(Type.Number({ minimum: 0, description: 'The lowest rate. Default 0.' })),
  }, { additionalProperties: false, description: 'torch.optim.lr_scheduler.CosineAnnealingLR.' }),
], { description: "Learning-rate schedule, stepped once per epoch like PyTorch's schedulers: 'step', 'exponential' or 'cosine'. Absent: constant." });
const Schedule = Type.Optional(ScheduleSchema);
const Epsilon = (def: string) =>
  Type.Optional(Type.Number({ minimum: 0, description: `Term added to the denominator for numerical stability. Default ${def}.` }));

export const SgdSchema = Type.Object({
  type: Type.Literal('sgd'),
  learningRate: LearningRate,
  schedule: Schedule,
}, { additionalProperties: false, description: 'Vanilla gradient descent (torch.optim.SGD without momentum).' });

export const MomentumSchema = Type.Object({
  type: Type.Literal('momentum'),
  learningRate: LearningRate,
  schedule: Schedule,
  momentum: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'Momentum factor. Default 0.9.' })),
  nesterov: Type.Optional(Type.Boolean({ description: 'Nesterov momentum. Default false.' })),
}, { additionalProperties: false, description: 'SGD with momentum (torch.optim.SGD).' });

export const AdagradSchema = Type.Object({
  type: Type.Literal('adagrad'),
  learningRate: LearningRate,
  schedule: Schedule,
  epsilon: Epsilon('1e-10'),
}, { additionalProperties: false, description: 'Adagrad (torch.optim.Adagrad).' });

export const RmspropSchema = Type.Object({
  type: Type.Literal('rmsprop'),
  learningRate: LearningRate,
  schedule: Schedule,
  alpha: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'Smoothing constant of the running average of squared gradients. Default 0.99.' })),
  epsilon: Epsilon('1e-8'),
}, { additionalProperties: false, description: 'RMSProp (torch.optim.RMSprop).' });

export const AdamSchema = Type.Object({
  type: Type.Literal('adam'),
  learningRate: LearningRate,
  schedule: Schedule,
  beta1: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'Decay of the first-moment estimate. Default 0.9.' })),
  beta2: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'Decay of the second-moment estimate. Default 0.999.' })),
  epsilon: Epsilon('1e-8'),
}, { additionalProperties: false, description: 'Adam (torch.optim.Adam).' });

export const OptimizerSchema = Type.Union([SgdSchema, MomentumSchema, AdagradSchema, RmspropSchema, AdamSchema], {
  description: "The update rule, chosen by `type`: 'sgd', 'momentum', 'adagrad', 'rmsprop' or 'adam'.",
});

// ---------------------------------------------------------------- the rest

export const RegularizationSchema = Type.Object({
  l1: Type.Optional(Type.Number({ minimum: 0, description: 'L1 strength λ: adds λ·sign(w) to each weight gradient. Default 0.' })),
  l2: Type.Optional(Type.Number({ minimum: 0, description: 'L2 strength λ (weight decay): adds λ·w to each weight gradient. Default 0.' })),
  maxNorm: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: "Max-norm constraint c: after every update each unit's incoming weight vector (a row of W; for maxout each piece's row) is scaled down to L2 norm ≤ c (Keras MaxNorm). Absent: none." })),
}, { additionalProperties: false, description: 'Penalties on weights (not biases or PReLU slopes).' });

export const TrainingSchema = Type.Object({
  epochs: Type.Integer({ minimum: 1, maximum: LIMITS.epochs, description: 'Passes over the training set.' }),
  batchSize: Type.Integer({ minimum: 1, description: 'Samples per optimizer step.' }),
  shuffle: Type.Optional(Type.Boolean({ description: 'Reshuffle the training set every epoch. Default true.' })),
  seed: Type.Optional(Seed('Seed for initialisation, shuffling and dropout masks. Default 0.')),
  threads: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.threads, description: 'Worker threads sharing each minibatch. Default: the worker\'s TRAINER_THREADS (results agree to 1e-5 at any count); the job\'s progress and result say which count ran.' })),
  batchLossEvery: Type.Optional(Type.Integer({ minimum: 1, description: 'Record batch_loss every N optimizer steps. Default 10.' })),
}, { additionalProperties: false, description: 'The training loop.' });

export const EarlyStoppingSchema = Type.Object({
  monitor: Type.Optional(Type.Enum([...MONITORS], { description: "Metric to watch. Default 'val_loss'." })),
  mode: Type.Optional(Type.Enum(['min', 'max', 'auto'], {
    description: "Whether the monitored metric should go down ('min') or up ('max'). Default 'auto': max for accuracy, min for loss.",
  })),
  patience: Type.Optional(Type.Integer({ minimum: 0, description: 'Epochs without improvement before stopping. Default 3.' })),
  minDelta: Type.Optional(Type.Number({ minimum: 0, description: 'Smallest change that counts as an improvement. Default 0.' })),
  restoreBest: Type.Optional(Type.Boolean({ description: 'Restore the best epoch\'s weights when stopping. Default true.' })),
}, { additionalProperties: false, description: 'Stop when the monitored metric stops improving (Keras EarlyStopping). Absent: never stop early.' });

export const CheckpointsSchema = Type.Object({
  everyEpochs: Type.Optional(Type.Integer({ minimum: 1, description: 'Save a checkpoint every N epochs. Default 1.' })),
  keepLast: Type.Optional(Type.Integer({ minimum: 1, description: 'How many of the latest checkpoints to keep. Default 3.' })),
  keepBest: Type.Optional(Type.Boolean({ description: 'Also keep the best checkpoint by the monitored metric. Default true.' })),
}, { additionalProperties: false, description: 'Checkpoint schedule and retention.' });

export const InitialWeightsSchema = Type.Object({
  checkpointId: Type.String({ format: 'uuid', description: 'Id of an uploaded or earlier checkpoint to start from.' }),
}, { additionalProperties: false, description: 'Start from existing weights (warm start, fine-tuning).' });

export const JobSpecSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: LIMITS.nameLength, description: 'A name for the job, 1 to 200 characters.' }),
  dataset: DatasetSchema,
  model: ModelSchema,
  loss: Type.Enum([...LOSSES], { description: "'cross-entropy' (needs a softmax output) or 'mse'." }),
  optimizer: OptimizerSchema,
  regularization: Type.Optional(RegularizationSchema),
  training: TrainingSchema,
  earlyStopping: Type.Optional(EarlyStoppingSchema),
  checkpoints: Type.Optional(CheckpointsSchema),
  initialWeights: Type.Optional(InitialWeightsSchema),
}, {
  title: 'JobSpec',
  additionalProperties: false,
  description: 'A training job for a dense neural network.',
});

export type JobSpec = Static<typeof JobSpecSchema>;

// Compile-time: the schema's type fits the core's and the data layer's types. (The
// core's spec types have every default filled in: defaults.ts checks that they fit.)
type Assert<T extends true> = T;
type Fits<A, B> = [A] extends [B] ? true : false;
export type _SchemaFitsCore = [
  Assert<Fits<JobSpec['dataset'], DatasetSpec>>,
  Assert<Fits<JobSpec['loss'], LossName>>,
  Assert<Fits<(typeof ACTIVATIONS)[number], Activation>>,
  Assert<Fits<Activation, (typeof ACTIVATIONS)[number]>>,
  Assert<Fits<(typeof INIT_SCHEMES)[number], InitScheme>>,
  Assert<Fits<(typeof MONITORS)[number], MonitorName>>,
];
