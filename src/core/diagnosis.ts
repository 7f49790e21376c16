// The "tips for training deep networks" as code: read a job's per-epoch metrics and
// say what is going on, in the order the tips prescribe — first look at the training
// error (a net that cannot fit its training set has a training problem, and dropout or
// regularization would only make it worse), then at the validation error (overfitting).
// Each rule weighs a trend against the epoch-to-epoch noise of the same series and
// names the cause in the spec where there is one (diagnosis/rules/*.ts); the verdict
// is the most important finding, and the suggestions never repeat what the spec does.
import { suggestionsFor } from './diagnosis/advice.js';
import { blowUp, deadUnits, diverged, oscillating } from './diagnosis/rules/learning-rate.js';
import { CHANCE_MARGIN, measureFit, stillImproving, trainingFit, type Fit } from './diagnosis/rules/fit.js';
import { overfitting } from './diagnosis/rules/overfitting.js';
import { vanishingGradients } from './diagnosis/rules/vanishing-gradients.js';
import type { Diagnosis, DiagnosisContext, EpochMetrics, Finding, FindingKind, Verdict } from './diagnosis/types.js';

export { CAUSES, FINDING_KINDS } from './diagnosis/types.js';
export type { Cause, Diagnosis, DiagnosisContext, EpochMetrics, Finding, FindingKind, Severity, Verdict } from './diagnosis/types.js';
export { formatDiagnosis } from './diagnosis/format.js';

/** One epoch has no trend: every rule below compares epochs. */
export const MIN_EPOCHS = 2;

// Findings in order of importance; the verdict is the first one found.
const PRIORITY: FindingKind[] = [
  'diverged', 'loss-blow-up', 'dead-units', 'oscillating', 'vanishing-gradients', 'not-learning', 'underfitting',
  'still-improving', 'overfitting',
];
const TRAINING_PROBLEMS = new Set<FindingKind>(PRIORITY.slice(0, PRIORITY.indexOf('still-improving')));

export function diagnose(history: EpochMetrics[], ctx: DiagnosisContext): Diagnosis {
  const last = history.at(-1);
  if (last === undefined || history.length < MIN_EPOCHS) {
    const d = last ? diverged(history, ctx) : null;
    if (d) return conclude([d], ctx, history, null);
    return {
      verdict: 'too-early', cause: null, severity: null,
      summary: `${history.length} epoch${history.length === 1 ? '' : 's'} recorded; at least ${MIN_EPOCHS} are needed to see a trend`,
      findings: [], suggestions: [],
    };
  }
  const fit = measureFit(history, ctx);
  const found = [
    diverged(history, ctx),
    blowUp(history, ctx, fit.poor),
    deadUnits(history, ctx, fit.poor),
    oscillating(history, ctx, fit.poor),
    vanishingGradients(last, ctx),
    trainingFit(history, ctx, fit),
    stillImproving(history, ctx, fit),
    overfitting(history, ctx),
  ];
  return conclude(found.filter((f): f is Finding => f !== null), ctx, history, fit);
}

/** A learning-rate finding is not-learning when the net ends near chance, underfitting when it learned something. */
function verdictOf(f: Finding, ctx: DiagnosisContext, fit: Fit | null): Verdict {
  switch (f.kind) {
    case 'diverged': case 'not-learning': return 'not-learning';
    case 'loss-blow-up': case 'dead-units': case 'oscillating': {
      const nearChance = fit?.accuracy == null || fit.accuracy < fit.chance + CHANCE_MARGIN * (1 - fit.chance);
      return ctx.task === 'classification' && nearChance ? 'not-learning' : 'underfitting';
    }
    case 'vanishing-gradients': return 'vanishing-gradients';
    case 'underfitting': return 'underfitting';
    case 'still-improving': return 'train-longer';
    case 'overfitting': return 'overfitting';
  }
}

function conclude(findings: Finding[], ctx: DiagnosisContext, history: EpochMetrics[], fit: Fit | null): Diagnosis {
  findings.sort((a, b) => PRIORITY.indexOf(a.kind) - PRIORITY.indexOf(b.kind));
  const main = findings[0];
  if (main === undefined) {
    return {
      verdict: 'healthy', cause: null, severity: null,
      summary: `after ${history.length} epochs the training loss has levelled off at a good fit, and nothing points to ` +
        `a training problem or to val_loss rising beyond its noise`,
      findings, suggestions: [],
    };
  }
  const trainingProblem = TRAINING_PROBLEMS.has(main.kind);
  const suggestions: string[] = [];
  for (const f of findings) {
    // first fix the training error: overfitting remedies (dropout, regularization) would make it worse
    if (trainingProblem && f.kind === 'overfitting') continue;
    // one training problem's advice at a time: the main one
    if (trainingProblem && f !== main && TRAINING_PROBLEMS.has(f.kind) && f.cause !== main.cause && f.kind !== 'vanishing-gradients') continue;
    for (const s of suggestionsFor(f, ctx)) if (!suggestions.includes(s)) suggestions.push(s);
  }
  const summary = trainingProblem && findings.some((f) => f.kind === 'overfitting')
    ? `${main.message}. val_loss also rises, but first look at the training error: fix it before fighting overfitting`
    : main.message;
  return {
    verdict: verdictOf(main, ctx, fit), cause: main.cause ?? null, severity: main.severity ?? null,
    summary, findings, suggestions,
  };
}
