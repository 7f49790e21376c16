// A pruner's decision about one trial at one epoch: the numbers it compared and a
// sentence. Stored as a sweep_decisions row, answered by GET /v1/sweeps/:id/decisions.
export type PrunerVerdict = 'continue' | 'prune' | 'promote';

export interface PrunerDecision {
  decision: PrunerVerdict;
  epoch: number;
  /** ASHA's rung k (epoch = minEpochs · reductionFactor^k); null for the median rule */
  rung: number | null;
  /** the trial's value that was compared */
  value: number;
  /** what it was compared with; null when there was nothing to compare with */
  threshold: number | null;
  reason: string;
}

export interface PrunerContext {
  metric: string;
  mode: 'min' | 'max';
  minEpochs: number;
  reductionFactor: number;
  /** the trial's spec.training.epochs: nothing is left to stop at the last epoch */
  epochs: number;
}
