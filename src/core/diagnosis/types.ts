// The diagnosis's data: what it reads (a job's per-epoch metrics and facts of its spec)
// and what it answers (a verdict, the cause in the spec where there is one, findings
// with their numbers, suggestions). Metric names are DESIGN.md's: train_loss,
// train_accuracy, val_loss, val_accuracy, grad_norm/<i>, weight_norm/<i>,
// update_ratio/<i>, dead_units/<i> (<i> = index in spec.model.layers).
import type { LayerSpec } from '../types.js';

export interface EpochMetrics {
  /** 1-based */
  epoch: number;
  metrics: Record<string, number>;
}

/** Facts of the run the rules weigh the curves against; the spec facts are optional so a history alone can be diagnosed. */
export interface DiagnosisContext {
  task: 'classification' | 'regression';
  /** units of the last layer (classes for a classifier) */
  outputSize: number;
  hasDropout: boolean;
  /** activations of the model's layers, e.g. ['sigmoid', 'sigmoid', 'softmax'] (dropout and maxout by their type) */
  activations: string[];
  /** spec.model.layers: widths, dropout rates */
  layers?: LayerSpec[];
  init?: string;
  optimizer?: { type: string; learningRate: number };
  regularization?: { l1: number; l2: number };
  earlyStopping?: { monitor: string; restoreBest: boolean } | null;
  /** spec.training.epochs: how many epochs the spec asked for */
  epochs?: number;
  /** the loss of the very first optimizer step, before any update: what epoch 1 is compared with */
  initialLoss?: number;
}

/** What in the spec is to blame, where the evidence points at one thing. */
export const CAUSES = [
  'learning-rate-too-high', 'learning-rate-too-low', 'saturating-activations', 'narrow-layer', 'too-few-units', 'dropout', 'too-few-epochs',
] as const;
export type Cause = (typeof CAUSES)[number];

export type Verdict =
  | 'healthy' | 'underfitting' | 'overfitting' | 'vanishing-gradients' | 'not-learning' | 'train-longer' | 'too-early';

export const FINDING_KINDS = [
  'diverged', 'loss-blow-up', 'oscillating', 'dead-units', 'vanishing-gradients', 'not-learning', 'underfitting', 'still-improving', 'overfitting',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** How sure and how large an overfitting is: mild = a real rise (beyond the noise) but small. */
export type Severity = 'mild' | 'clear';

export interface Finding {
  kind: FindingKind;
  /** one sentence with its numbers; never starts with the verdict's word (the summary line already says it) */
  message: string;
  evidence: Record<string, number>;
  cause?: Cause;
  severity?: Severity;
}

export interface Diagnosis {
  verdict: Verdict;
  /** the cause in the spec the main finding names, if any */
  cause: Cause | null;
  /** overfitting only: mild or clear */
  severity: Severity | null;
  summary: string;
  findings: Finding[];
  suggestions: string[];
}
