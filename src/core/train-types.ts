// The contract between the training core and whoever drives it (the worker process,
// the CLI, benchmarks). Implemented by src/core/trainer.ts.
import type { Dataset } from './dataset.js';
import type { EarlyStoppingDecision, MetricPoint, TrainSpec } from './types.js';
import type { Diagnosis } from './diagnosis.js';

export interface TrainOptions {
  /** normalized spec (every default filled in by src/spec) */
  spec: TrainSpec;
  data: Dataset;
  /** stored in checkpoint metadata; a resume checkpoint from another spec is refused */
  specHash?: string;
  /** a resume checkpoint written by this trainer (EpochEnd.checkpoint()) */
  resumeFrom?: Uint8Array;
  /** safetensors with layers.<i>.weight/bias/alpha (any Trainyard or PyTorch-layout file) */
  initialWeights?: Uint8Array;
  /** aborting stops training between two batches; train() then resolves with status 'cancelled' */
  signal?: AbortSignal;
  hooks?: TrainHooks;
}

export interface TrainHooks {
  /** awaited before the next epoch starts: persist here (one round trip per epoch) */
  onEpochEnd?(e: EpochEnd): Promise<void> | void;
  /** after every optimizer step; cheap to receive, throttle on your side. The object is reused: copy what you keep. */
  onProgress?(p: TrainProgress): void;
}

export interface EpochEnd {
  epoch: number; // 1-based
  step: number; // global optimizer steps so far
  /** every point of this epoch: per-epoch metrics and the epoch's batch_loss points */
  points: MetricPoint[];
  /** the per-epoch metrics by name (no batch_loss) */
  metrics: Record<string, number>;
  decision: EarlyStoppingDecision | null;
  /** this epoch is the best so far by the early-stopping monitor (val_loss, else train_loss, when no early stopping) */
  isBest: boolean;
  /** whether spec.checkpoints.everyEpochs asks for a checkpoint at this epoch (always true at the last epoch) */
  checkpointDue: boolean;
  /** encodes a resume checkpoint (safetensors: weights + optimizer state + RNG position + early-stopping state) */
  checkpoint(): Uint8Array;
  diagnosis: Diagnosis;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  step: number;
  batch: number; // 1-based within the epoch
  batchesPerEpoch: number;
  samplesPerSecond: number;
  etaSeconds: number;
}

export interface TrainResult {
  /** the job's words: 'succeeded' also when early stopping ended the run (then stoppedEarly) */
  status: 'succeeded' | 'cancelled';
  epochs: number; // epochs completed
  step: number;
  /** early stopping decided 'stop' (status is 'succeeded') */
  stoppedEarly: boolean;
  stopDecision: EarlyStoppingDecision | null;
  finalMetrics: Record<string, number>;
  best: { epoch: number; metrics: Record<string, number> } | null;
  /** test_loss / test_accuracy where the dataset has a test split, computed with the final weights */
  testMetrics: Record<string, number> | null;
  testPoints: MetricPoint[];
  diagnosis: Diagnosis;
  /** final weights as safetensors (after restoreBest), loadable by PyTorch */
  weights: Uint8Array;
  /** resume checkpoint at the exact point training stopped: a cancelled run resumes mid-epoch, at the next batch */
  checkpoint: Uint8Array;
}
