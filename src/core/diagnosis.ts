// The "tips for training deep networks" as code: read a job's per-epoch metrics and
// say what is going on, in the order the tips prescribe — first look at the training
// error (a net that cannot fit its training set has a training problem, and dropout or
// regularization would only make it worse), then at the validation error (overfitting).
// Metric names are DESIGN.md's: train_loss, train_accuracy, val_loss, val_accuracy,
// grad_norm/<i>, weight_norm/<i>, update_ratio/<i> (<i> = index in spec.model.layers).

export interface EpochMetrics {
  /** 1-based */
  epoch: number;
  metrics: Record<string, number>;
}

export interface DiagnosisContext {
  task: 'classification' | 'regression';
  /** units of the last layer (classes for a classifier) */
  outputSize: number;
  hasDropout: boolean;
  /** activations of the model's layers, e.g. ['sigmoid', 'sigmoid', 'softmax'] */
  activations: string[];
}

export type Verdict =
  | 'healthy' | 'underfitting' | 'overfitting' | 'vanishing-gradients' | 'not-learning' | 'too-early';

export interface Finding {
  kind: 'diverged' | 'not-learning' | 'underfitting' | 'vanishing-gradients' | 'overfitting';
  message: string;
  evidence: Record<string, number>;
}

export interface Diagnosis {
  verdict: Verdict;
  summary: string;
  findings: Finding[];
  suggestions: string[];
}

/** One epoch has no trend: every rule below compares epochs. */
export const MIN_EPOCHS = 2;
/**
 * "Barely above chance": accuracy below chance + 10% of the way from chance to 100%
 * (0.19 for 10 classes, 0.55 for 2). A net that learned anything clears this quickly.
 */
export const CHANCE_MARGIN = 0.1;
/**
 * Accuracy at least halfway from chance to 100% counts as fitting the training set,
 * whatever the loss curve does (a net that converged within epoch 1 has a flat loss).
 */
export const GOOD_FIT = 0.5;
/**
 * The training loss must fall by at least 5% of its epoch-1 value to count as
 * learning. Epoch 1's train_loss is a running mean that includes the untrained
 * start, so even a quickly converging net shows a larger drop than this.
 */
export const MIN_LOSS_DROP = 0.05;
/** A cross-entropy within 10% of ln C is what uniform guessing over C classes scores. */
export const CHANCE_LOSS_TOLERANCE = 0.1;
/** Training loss 10% above its epoch-1 value, or not finite: the updates are too big. */
export const DIVERGENCE_FACTOR = 1.1;
/**
 * First-layer gradient norm below 1/100 of the last layer's: two orders of magnitude,
 * the signature of sigmoid/tanh saturation (σ' ≤ 1/4 per layer), not mere noise.
 */
export const VANISHING_RATIO = 1e-2;
/** val_loss must have stayed above its minimum for this many epochs: one bad epoch is noise. */
export const OVERFIT_RISING_EPOCHS = 2;
/** val_loss this far (relative) above train_loss, or val accuracy 2 points below train: a real gap. */
export const OVERFIT_LOSS_GAP = 0.1;
export const OVERFIT_ACCURACY_GAP = 0.02;

const SATURATING = new Set(['sigmoid', 'tanh']);

// Findings in order of importance; the verdict is the first one found.
const PRIORITY: Finding['kind'][] = ['diverged', 'vanishing-gradients', 'not-learning', 'underfitting', 'overfitting'];
const VERDICT: Record<Finding['kind'], Verdict> = {
  diverged: 'not-learning',
  'vanishing-gradients': 'vanishing-gradients',
  'not-learning': 'not-learning',
  underfitting: 'underfitting',
  overfitting: 'overfitting',
};
const TRAINING_PROBLEMS = new Set<Finding['kind']>(['diverged', 'vanishing-gradients', 'not-learning', 'underfitting']);

export function diagnose(history: EpochMetrics[], ctx: DiagnosisContext): Diagnosis {
  const last = history[history.length - 1];
  const lastLoss = last?.metrics.train_loss;
  if (last === undefined || history.length < MIN_EPOCHS) {
    if (lastLoss !== undefined && !Number.isFinite(lastLoss)) {
      return conclude([diverged(history[0]!.metrics.train_loss!, lastLoss, last!.epoch)], ctx, history.length);
    }
    return {
      verdict: 'too-early',
      summary: `${history.length} epoch${history.length === 1 ? '' : 's'} recorded; at least ${MIN_EPOCHS} are needed to see a trend`,
      findings: [],
      suggestions: [],
    };
  }

  const findings: Finding[] = [];
  const fit = trainingFit(history, ctx);
  if (fit) findings.push(fit);
  const vanishing = vanishingGradients(last, ctx);
  if (vanishing) findings.push(vanishing);
  const overfit = overfitting(history, ctx);
  if (overfit) findings.push(overfit);
  return conclude(findings, ctx, history.length);
}

// ---- training set: diverged, not learning, underfitting -------------------------

function trainingFit(history: EpochMetrics[], ctx: DiagnosisContext): Finding | null {
  const first = history[0]!.metrics, last = history[history.length - 1]!.metrics;
  const epoch = history[history.length - 1]!.epoch;
  const loss0 = first.train_loss, loss = last.train_loss;
  if (loss0 === undefined || loss === undefined) return null;
  if (!Number.isFinite(loss) || loss > loss0 * DIVERGENCE_FACTOR) return diverged(loss0, loss, epoch);

  const drop = (loss0 - loss) / Math.abs(loss0 || 1);
  const flat = drop < MIN_LOSS_DROP;
  const evidence: Record<string, number> = { first_train_loss: loss0, train_loss: loss, relative_drop: drop, epoch };

  if (ctx.task === 'classification') {
    const classes = Math.max(2, ctx.outputSize);
    const chance = 1 / classes;
    const acc = last.train_accuracy;
    const nearChance = acc !== undefined && acc < chance + CHANCE_MARGIN * (1 - chance);
    const goodFit = acc !== undefined && acc >= chance + GOOD_FIT * (1 - chance);
    const chanceLoss = Math.log(classes);
    const atChanceLoss = Math.abs(loss - chanceLoss) < CHANCE_LOSS_TOLERANCE * chanceLoss;
    if (acc !== undefined) Object.assign(evidence, { train_accuracy: acc, chance_accuracy: chance });

    if (flat && atChanceLoss && !goodFit) {
      evidence.chance_loss = chanceLoss;
      return {
        kind: 'not-learning',
        message: `the network is not learning: train_loss stays at ${fmt(loss)}, close to ln ${classes} = ${fmt(chanceLoss)}, ` +
          `the loss of guessing uniformly among ${classes} classes` + (acc !== undefined ? `, and train_accuracy ${pct(acc)} is chance level (${pct(chance)})` : ''),
        evidence,
      };
    }
    if (nearChance) {
      return {
        kind: 'underfitting',
        message: `the network does not fit its training set: train_accuracy ${pct(acc!)} after ${epoch} epochs is barely above ` +
          `chance (${pct(chance)})` + (flat ? `, and train_loss fell only ${pct(drop)} since epoch 1` : ''),
        evidence,
      };
    }
    if (flat && !goodFit) {
      return {
        kind: 'underfitting',
        message: `train_loss fell only ${pct(drop)} since epoch 1 (${fmt(loss0)} → ${fmt(loss)})` +
          (acc !== undefined ? ` and train_accuracy is ${pct(acc)}` : '') + `: the network is barely training`,
        evidence,
      };
    }
    return null;
  }

  if (flat) {
    return {
      kind: 'underfitting',
      message: `train_loss fell only ${pct(drop)} since epoch 1 (${fmt(loss0)} → ${fmt(loss)}): the network is barely training`,
      evidence,
    };
  }
  return null;
}

function diverged(loss0: number, loss: number, epoch: number): Finding {
  return {
    kind: 'diverged',
    message: Number.isFinite(loss)
      ? `train_loss rose from ${fmt(loss0)} at epoch 1 to ${fmt(loss)} at epoch ${epoch}: the training diverges`
      : `train_loss is ${loss} at epoch ${epoch}: the training diverged`,
    evidence: { first_train_loss: loss0, train_loss: loss, epoch },
  };
}

// ---- vanishing gradients --------------------------------------------------------

function vanishingGradients(record: EpochMetrics, ctx: DiagnosisContext): Finding | null {
  const saturating = ctx.activations.filter((a) => SATURATING.has(a));
  if (saturating.length === 0) return null;
  const layers = Object.keys(record.metrics)
    .filter((k) => k.startsWith('grad_norm/'))
    .map((k) => Number(k.slice('grad_norm/'.length)))
    .filter((i) => Number.isInteger(i))
    .sort((a, b) => a - b);
  if (layers.length < 2) return null;
  const firstLayer = layers[0]!, lastLayer = layers[layers.length - 1]!;
  const gFirst = record.metrics[`grad_norm/${firstLayer}`]!, gLast = record.metrics[`grad_norm/${lastLayer}`]!;
  if (!(gLast > 0) || !Number.isFinite(gFirst)) return null;
  const ratio = gFirst / gLast;
  if (ratio >= VANISHING_RATIO) return null;

  const evidence: Record<string, number> = {
    [`grad_norm/${firstLayer}`]: gFirst, [`grad_norm/${lastLayer}`]: gLast, ratio, epoch: record.epoch,
  };
  for (const i of [firstLayer, lastLayer]) {
    const u = record.metrics[`update_ratio/${i}`];
    if (u !== undefined) evidence[`update_ratio/${i}`] = u;
  }
  const kinds = [...new Set(saturating)].join('/');
  return {
    kind: 'vanishing-gradients',
    message: `vanishing gradients: the first layer's gradient norm (grad_norm/${firstLayer} = ${fmt(gFirst)}) is ` +
      (ratio > 0 ? `${Math.log10(1 / ratio).toFixed(1)} orders of magnitude below` : 'zero, far below') +
      ` the last layer's (grad_norm/${lastLayer} = ${fmt(gLast)}), ` +
      `so layers near the input barely move while the last ones converge; ${kinds} saturates and shrinks the gradient at every layer`,
    evidence,
  };
}

// ---- validation set: overfitting ------------------------------------------------

function overfitting(history: EpochMetrics[], ctx: DiagnosisContext): Finding | null {
  const withVal = history.filter((r) => Number.isFinite(r.metrics.val_loss) && Number.isFinite(r.metrics.train_loss));
  if (withVal.length < OVERFIT_RISING_EPOCHS + 1) return null;
  let best = 0;
  for (let i = 1; i < withVal.length; i++) if (withVal[i]!.metrics.val_loss! < withVal[best]!.metrics.val_loss!) best = i;
  const since = withVal.length - 1 - best;
  if (since < OVERFIT_RISING_EPOCHS) return null;

  const atBest = withVal[best]!, now = withVal[withVal.length - 1]!;
  const minVal = atBest.metrics.val_loss!, val = now.metrics.val_loss!;
  const trainAtBest = atBest.metrics.train_loss!, train = now.metrics.train_loss!;
  if (!(val > minVal) || !(train < trainAtBest)) return null; // val must be worse while train still improves

  const trainAcc = now.metrics.train_accuracy, valAcc = now.metrics.val_accuracy;
  const lossGap = val > train * (1 + OVERFIT_LOSS_GAP);
  const accGap = ctx.task === 'classification' && trainAcc !== undefined && valAcc !== undefined &&
    trainAcc - valAcc > OVERFIT_ACCURACY_GAP;
  if (!lossGap && !accGap) return null;

  const evidence: Record<string, number> = {
    best_val_loss: minVal, best_val_epoch: atBest.epoch, val_loss: val, train_loss: train,
    train_loss_at_best: trainAtBest, epochs_since_best: since, epoch: now.epoch,
  };
  if (trainAcc !== undefined) evidence.train_accuracy = trainAcc;
  if (valAcc !== undefined) evidence.val_accuracy = valAcc;
  const accText = trainAcc !== undefined && valAcc !== undefined
    ? ` (train_accuracy ${pct(trainAcc)}, val_accuracy ${pct(valAcc)})` : '';
  return {
    kind: 'overfitting',
    message: `overfitting: val_loss was lowest at epoch ${atBest.epoch} (${fmt(minVal)}) and has risen for ${since} epochs ` +
      `to ${fmt(val)}, while train_loss kept falling from ${fmt(trainAtBest)} to ${fmt(train)}${accText}`,
    evidence,
  };
}

// ---- verdict, summary, suggestions ----------------------------------------------

function conclude(findings: Finding[], ctx: DiagnosisContext, epochs: number): Diagnosis {
  findings.sort((a, b) => PRIORITY.indexOf(a.kind) - PRIORITY.indexOf(b.kind));
  const main = findings[0];
  if (main === undefined) {
    return {
      verdict: 'healthy',
      summary: `after ${epochs} epochs the training loss is falling and nothing points to underfitting, ` +
        `vanishing gradients or overfitting`,
      findings,
      suggestions: [],
    };
  }
  const trainingProblem = TRAINING_PROBLEMS.has(main.kind);
  const suggestions: string[] = [];
  for (const f of findings) {
    // first fix the training error: overfitting remedies (dropout, regularization) would make it worse
    if (trainingProblem && f.kind === 'overfitting') continue;
    for (const s of suggestionsFor(f, ctx, main.kind)) if (!suggestions.includes(s)) suggestions.push(s);
  }
  const summary = trainingProblem && findings.some((f) => f.kind === 'overfitting')
    ? `${main.message}. The validation curve also looks like overfitting, but first look at the training error: ` +
      `fix the training problem before fighting overfitting`
    : main.message;
  return { verdict: VERDICT[main.kind], summary, findings, suggestions };
}

const USE_RELU = 'Use ReLU or a variant (Leaky ReLU, PReLU, ELU) or Maxout in the hidden layers instead of sigmoid/tanh';
const NOT_OVERFITTING =
  'This is a training problem, not overfitting: do not add dropout or regularization; first get the training error down';

function suggestionsFor(f: Finding, ctx: DiagnosisContext, main: Finding['kind']): string[] {
  const saturating = ctx.activations.some((a) => SATURATING.has(a));
  const dropout = ctx.hasDropout
    ? ['Remove or lower dropout while the training error is high: dropout makes training harder and only helps against overfitting']
    : [];
  switch (f.kind) {
    case 'diverged':
      return [
        'Lower the learning rate (e.g. by 10×): the updates overshoot',
        'Check that the inputs are normalized (e.g. scaled to [0, 1] or standardized)',
        'Use an adaptive optimizer such as Adam, which bounds each step by about the learning rate',
      ];
    case 'vanishing-gradients':
      return [
        USE_RELU,
        'Use He initialization ("init": "he") with ReLU-family activations',
        'Use Adam (or RMSProp), which scales each parameter\'s step by its own gradient history, so layers with tiny gradients still move',
        ...(main === 'vanishing-gradients' ? dropout : []),
      ];
    case 'not-learning':
    case 'underfitting':
      return [
        NOT_OVERFITTING,
        ...(saturating ? [USE_RELU] : []),
        'Use an adaptive optimizer such as Adam',
        'Try a higher learning rate',
        'Try fewer layers (a shallower network is easier to train); if the network is already small, more units per layer',
        ...dropout,
        ...(f.evidence.relative_drop !== undefined && f.evidence.relative_drop >= MIN_LOSS_DROP
          ? ['train_loss is still falling: train for more epochs'] : []),
      ];
    case 'overfitting':
      return [
        `Use early stopping on val_loss with restoreBest, which keeps the weights of epoch ${f.evidence.best_val_epoch}`,
        'Add L2 (weight decay, e.g. "l2": 0.0001) or L1 regularization',
        ctx.hasDropout ? 'Raise the dropout rate' : 'Add dropout (e.g. rate 0.2–0.5) after the hidden layers',
        'Get more training data (or augment it)',
      ];
  }
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function fmt(x: number): string {
  if (!Number.isFinite(x) || x === 0) return String(x);
  const a = Math.abs(x);
  return a >= 0.01 && a < 1e5 ? x.toFixed(4) : x.toPrecision(3);
}
