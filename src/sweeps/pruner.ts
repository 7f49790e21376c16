// The pruner named in a sweep (pruner.type) as one pure function.
import { ashaDecision } from './asha.js';
import type { TrialCurve } from './curves.js';
import type { PrunerContext, PrunerDecision } from './decision.js';
import { medianDecision } from './median-rule.js';
import type { PrunerType } from './schema.js';

export function prunerDecision(
  type: PrunerType,
  ctx: PrunerContext,
  trial: TrialCurve,
  epoch: number,
  others: readonly TrialCurve[],
): PrunerDecision | null {
  switch (type) {
    case 'none': return null;
    case 'median': return medianDecision(ctx, trial, epoch, others);
    case 'asha': return ashaDecision(ctx, trial, epoch, others);
  }
}
