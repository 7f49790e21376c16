// Suggestions for each finding, in the spec's own terms: what to change and to what,
// and never what the spec already does (early stopping with restoreBest on, dropout
// present, L2 set) — then the advice is to change that setting instead.
import { dropoutLayers, hiddenLayers, narrowLayers, saturatingLayers } from './facts.js';
import { IMPROVING_RATE } from './rules/fit.js';
import type { DiagnosisContext, Finding } from './types.js';

const ADAPTIVE = new Set(['adam', 'rmsprop', 'adagrad']);

const tenth = (x: number) => Number((x / 10).toPrecision(3));
const tenfold = (x: number) => Number((x * 10).toPrecision(3));

function lowerLearningRate(ctx: DiagnosisContext): string[] {
  const o = ctx.optimizer;
  return [
    o ? `Lower the learning rate from ${o.learningRate} to ${tenth(o.learningRate)} (10×): the steps overshoot`
      : 'Lower the learning rate (e.g. by 10×): the steps overshoot',
    ...(o && ADAPTIVE.has(o.type) ? [] : ['Or use Adam (learningRate 0.001), which bounds each step by about the learning rate']),
  ];
}

function reluInstead(ctx: DiagnosisContext): string {
  const s = saturatingLayers(ctx);
  const kinds = [...new Set(s)].join('/') || 'sigmoid/tanh';
  return `Replace the ${s.length > 0 ? `${s.length} ` : ''}${kinds} hidden layers with ReLU (or Leaky ReLU, PReLU, ELU, Maxout), whose gradient does not shrink layer by layer`;
}

function adamIfPlain(ctx: DiagnosisContext, why: string): string[] {
  return ctx.optimizer && ADAPTIVE.has(ctx.optimizer.type) ? [] : [`Use Adam (or RMSProp)${why}`];
}

export function suggestionsFor(f: Finding, ctx: DiagnosisContext): string[] {
  switch (f.kind) {
    case 'diverged':
      return [...lowerLearningRate(ctx), 'Check that the inputs are normalized (e.g. scaled to [0, 1] or standardized)'];
    case 'loss-blow-up':
    case 'oscillating':
      return lowerLearningRate(ctx);
    case 'dead-units':
      return [
        ...lowerLearningRate(ctx),
        'Use Leaky ReLU, PReLU or ELU: their small slope below 0 keeps a gradient, so a unit cannot die',
      ];
    case 'vanishing-gradients':
      return [
        reluInstead(ctx),
        ...(ctx.init && ctx.init !== 'auto' && ctx.init !== 'he' ? ['Use He initialization ("init": "he") with ReLU-family activations'] : []),
        ...adamIfPlain(ctx, ', which scales each parameter\'s step by its own gradient history, so layers with tiny gradients still move'),
        'Or use fewer layers: a shallower network passes the gradient through fewer saturating layers',
      ];
    case 'not-learning':
    case 'underfitting':
      return trainingAdvice(f, ctx);
    case 'still-improving': {
      const e = ctx.epochs;
      return [
        e !== undefined ? `Train longer: raise training.epochs from ${e} (e.g. to ${e * 3})` : 'Train longer: the curve has not levelled off',
        ...(ctx.earlyStopping ? [] : ['With more epochs, turn on early stopping on val_loss with restoreBest, so the run stops where val_loss stops improving']),
      ];
    }
    case 'overfitting':
      return overfittingAdvice(f, ctx);
  }
}

function trainingAdvice(f: Finding, ctx: DiagnosisContext): string[] {
  const out: string[] = [];
  const dropout = dropoutLayers(ctx);
  out.push(dropout.length > 0 || ctx.hasDropout
    ? 'This is a training problem, not overfitting: regularization cannot help; first get the training error down'
    : 'This is a training problem, not overfitting: do not add dropout or regularization; first get the training error down');
  const o = ctx.optimizer;
  switch (f.cause) {
    case 'learning-rate-too-low':
      out.push(o ? `Raise the learning rate from ${o.learningRate} to ${tenfold(o.learningRate)} or more, until update_ratio is near 1e-3`
        : 'Raise the learning rate (e.g. 10×), until update_ratio is near 1e-3');
      out.push(...adamIfPlain(ctx, ', which adapts each step to its gradient'));
      break;
    case 'dropout':
      out.push(`Remove the dropout (${dropout.map((d) => `layer ${d.index}, rate ${d.rate}`).join('; ')}) until the network fits its training set; bring it back only if it then overfits`);
      break;
    case 'narrow-layer':
      for (const l of narrowLayers(ctx)) out.push(`Widen layer ${l.index} from ${l.units} units to well above the ${ctx.outputSize} classes (e.g. ${Math.max(32, 4 * ctx.outputSize)})`);
      break;
    case 'too-few-units': {
      const h = hiddenLayers(ctx);
      const w = h.length ? Math.max(...h.map((l) => l.units)) : 0;
      out.push(h.length ? `Use more units per hidden layer: the widest has ${w}; try ${Math.max(32, 8 * w)}` : 'Add a hidden layer (e.g. 64 ReLU units)');
      break;
    }
    case 'saturating-activations':
      out.push(reluInstead(ctx));
      break;
    default:
      out.push('Use a larger model (more units or another layer)');
      out.push(...adamIfPlain(ctx, ''));
      break;
  }
  if (f.evidence.recent_rate !== undefined && f.evidence.recent_rate >= IMPROVING_RATE) out.push('The loss is still falling: train for more epochs too');
  return out;
}

function overfittingAdvice(f: Finding, ctx: DiagnosisContext): string[] {
  const out: string[] = [];
  const es = ctx.earlyStopping, best = f.evidence.best_val_epoch;
  if (!es) out.push(`Use early stopping on val_loss with restoreBest, which keeps the weights of epoch ${best}`);
  else if (!es.restoreBest) out.push(`Set earlyStopping.restoreBest to true, so the final weights are epoch ${best}'s`);
  const l2 = ctx.regularization?.l2 ?? 0;
  out.push(l2 > 0 ? `Raise l2 from ${l2} to ${tenfold(l2)}` : 'Add L2 (weight decay, e.g. "l2": 0.0001) or L1 regularization');
  const dropout = dropoutLayers(ctx);
  out.push(dropout.length > 0 || ctx.hasDropout
    ? `Raise the dropout rate${dropout.length ? ` (now at most ${Math.max(...dropout.map((d) => d.rate))})` : ''}`
    : 'Add dropout (e.g. rate 0.2–0.5) after the hidden layers');
  out.push('Get more training data (or augment it)');
  return out;
}
