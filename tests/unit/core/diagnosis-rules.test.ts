// One test (or a pair) per rule of the diagnosis, each on a history built here: a trend
// plus noise of a stated size, a blow-up, dead units. The numbers the rules must find
// (noise, rise, ratios) are computed in the test by formula, not by the rule's code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose, formatDiagnosis, type DiagnosisContext, type EpochMetrics } from '../../../src/core/diagnosis.js';
import { noise } from '../../../src/core/diagnosis/series.js';
import type { LayerSpec } from '../../../src/core/types.js';

const records = (rows: Array<Record<string, number>>): EpochMetrics[] => rows.map((metrics, i) => ({ epoch: i + 1, metrics }));

const dense = (units: number, activation: 'relu' | 'sigmoid' | 'tanh' | 'softmax'): LayerSpec => ({ type: 'dense', units, activation });

function ctx(layers: LayerSpec[], extra: Partial<DiagnosisContext> = {}): DiagnosisContext {
  const last = layers.at(-1) as { units: number };
  return {
    task: 'classification', outputSize: last.units,
    hasDropout: layers.some((l) => l.type === 'dropout'),
    activations: layers.map((l) => (l.type === 'dense' ? l.activation : l.type)),
    layers, init: 'auto', optimizer: { type: 'adam', learningRate: 0.001 }, regularization: { l1: 0, l2: 0 },
    earlyStopping: null, epochs: 20, ...extra,
  };
}

const mlp = ctx([dense(64, 'relu'), dense(10, 'softmax')]);
const spirals = ctx([dense(64, 'relu'), dense(64, 'relu'), dense(3, 'softmax')]);

/** Deterministic ±1 pattern with no trend (a fixed "random" sign sequence). */
const SIGNS = [1, -1, -1, 1, 1, -1, 1, -1, -1, 1, -1, 1, 1, -1, 1, 1, -1, -1, 1, -1, 1, -1, 1, 1, -1, -1, 1, -1, 1, -1];

/** A run that fits well: train_loss falls to `floor`, val_loss to `valFloor` by epoch 6, then `val(e)` decides. */
function run(epochs: number, val: (e: number) => number, extra: (e: number) => Record<string, number> = () => ({})): EpochMetrics[] {
  const rows: Array<Record<string, number>> = [];
  for (let e = 1; e <= epochs; e++) {
    const train = 0.05 + 0.5 * Math.exp(-(e - 1) / 2);
    rows.push({
      train_loss: train, train_accuracy: 0.99 - 0.2 * Math.exp(-(e - 1) / 2), val_loss: val(e), val_accuracy: 0.96,
      'update_ratio/0': 1e-3, 'update_ratio/2': 2e-3, ...extra(e),
    });
  }
  return records(rows);
}

const descent = (e: number) => 0.1 + 0.4 * Math.exp(-(e - 1) / 1.5);

test('noise() recovers the size of white noise around a trend (second differences cancel the line)', () => {
  // y = 1 − 0.02·e + 0.01·s_e with s_e = ±1: the second differences of s are 0, ±2, ±4,
  // so for this sign pattern the reference is computed by the same formula, independently:
  const ys = SIGNS.map((s, e) => 1 - 0.02 * e + 0.01 * s);
  const dd = ys.slice(2).map((y, i) => Math.abs(y - 2 * ys[i + 1]! + ys[i]!)).sort((a, b) => a - b);
  const mid = dd.length >> 1;
  const reference = (dd.length % 2 ? dd[mid]! : (dd[mid - 1]! + dd[mid]!) / 2) / (0.6745 * Math.sqrt(6));
  assert.ok(Math.abs(noise(ys) - reference) < 1e-12);
  // and it is of the size of the noise (0.01), not of the trend (0.02 per epoch)
  assert.ok(noise(ys) > 0.005 && noise(ys) < 0.03, String(noise(ys)));
});

test('val_loss up 0.0027 from its best with ±0.01 epoch-to-epoch noise is not overfitting (the spirals Maxout case)', () => {
  // best 0.1035 at epoch 7, 0.1062 six epochs later, ±0.01 noise throughout
  const h = run(13, (e) => (e < 7 ? descent(e) + 0.03 : 0.1035 + (e === 7 ? 0 : 0.0027 + 0.004 * (1 + SIGNS[e]!))));
  const d = diagnose(h, { ...spirals, earlyStopping: { monitor: 'val_loss', restoreBest: true } });
  assert.equal(d.verdict, 'healthy', d.summary);
  assert.ok(!d.findings.some((f) => f.kind === 'overfitting'));
});

test('val_loss rising 5% steadily beyond its noise is mild overfitting, with its size in the message', () => {
  // flat at 0.20 ± 0.001 until epoch 8, then +0.0025 per epoch: 0.22 at epoch 16 (+10% would be clear)
  const h = run(16, (e) => (e <= 8 ? Math.max(0.2, descent(e)) + 0.001 * SIGNS[e]! : 0.2 + 0.00125 * (e - 8) + 0.0003 * SIGNS[e]!));
  const d = diagnose(h, spirals);
  assert.equal(d.verdict, 'overfitting', d.summary);
  assert.equal(d.severity, 'mild');
  const f = d.findings[0]!;
  const best = Math.min(...h.map((r) => r.metrics.val_loss!));
  const rise = (h.at(-1)!.metrics.val_loss! - best) / best;
  assert.ok(Math.abs(f.evidence.relative_rise! - rise) < 1e-12);
  assert.ok(rise > 0.03 && rise < 0.15);
  assert.match(f.message, new RegExp(`rose ${(rise * 100).toFixed(1)}%`));
  assert.ok(f.evidence.rise_over_noise! >= 3);
});

test('val_loss up 40% from its best is clear overfitting; suggestions skip what the spec already does', () => {
  const h = run(14, (e) => (e <= 5 ? descent(e) : 0.1 + 0.01 * (e - 5) + 0.001 * SIGNS[e]!));
  const plain = diagnose(h, spirals);
  assert.equal(plain.verdict, 'overfitting');
  assert.equal(plain.severity, 'clear');
  assert.ok(plain.suggestions.some((s) => /^Use early stopping on val_loss with restoreBest/.test(s)));
  assert.ok(plain.suggestions.some((s) => /^Add L2/.test(s)));
  assert.ok(plain.suggestions.some((s) => /^Add dropout/.test(s)));

  const layers = [dense(64, 'relu'), { type: 'dropout', rate: 0.3 } as LayerSpec, dense(64, 'relu'), dense(3, 'softmax')];
  const careful = diagnose(h, ctx(layers, {
    earlyStopping: { monitor: 'val_loss', restoreBest: true }, regularization: { l1: 0, l2: 0.0001 },
  }));
  assert.equal(careful.verdict, 'overfitting');
  assert.ok(!careful.suggestions.some((s) => /early stopping|restoreBest/i.test(s)), careful.suggestions.join(' | '));
  assert.ok(careful.suggestions.includes('Raise l2 from 0.0001 to 0.001'));
  assert.ok(careful.suggestions.some((s) => /^Raise the dropout rate \(now at most 0\.3\)/.test(s)));
  assert.ok(!careful.suggestions.some((s) => /^Add (dropout|L2)/.test(s)));

  const noRestore = diagnose(h, { ...spirals, earlyStopping: { monitor: 'val_loss', restoreBest: false } });
  assert.ok(noRestore.suggestions.some((s) => /^Set earlyStopping.restoreBest to true/.test(s)));
});

test('an epoch-1 loss 1e12× the first step\'s is a learning rate that is too high, named with its value', () => {
  // the SGD lr 40: 3.5e12 in epoch 1, then ~11, accuracy at chance
  const h = records([
    { train_loss: 3.5e12, train_accuracy: 0.10, val_loss: 11.2, val_accuracy: 0.10 },
    { train_loss: 11.4, train_accuracy: 0.10, val_loss: 11.0, val_accuracy: 0.10 },
    { train_loss: 11.1, train_accuracy: 0.11, val_loss: 11.3, val_accuracy: 0.10 },
  ]);
  const c = { ...mlp, optimizer: { type: 'sgd', learningRate: 40 }, initialLoss: 2.31 };
  const d = diagnose(h, c);
  assert.equal(d.verdict, 'not-learning');
  assert.equal(d.cause, 'learning-rate-too-high');
  assert.equal(d.findings[0]!.kind, 'loss-blow-up');
  assert.ok(Math.abs(d.findings[0]!.evidence.blow_up_ratio! - 3.5e12 / 2.31) < 1);
  assert.match(d.summary, /learningRate 40 with sgd/);
  assert.equal(d.suggestions[0], 'Lower the learning rate from 40 to 4 (10×): the steps overshoot');
  assert.ok(!d.suggestions.some((s) => /higher learning rate|Raise the learning rate/.test(s)));
  // without the first step's loss, ln 10 is the reference
  assert.equal(diagnose(h, { ...c, initialLoss: undefined }).cause, 'learning-rate-too-high');
  // a 3× first epoch is no blow-up
  const mild = diagnose(records([{ train_loss: 6.9, train_accuracy: 0.3 }, { train_loss: 1.2, train_accuracy: 0.97 }, { train_loss: 0.9, train_accuracy: 0.975 }]), c);
  assert.ok(!mild.findings.some((f) => f.kind === 'loss-blow-up'));
});

test('update_ratio 3e-2 with a poor fit is a learning rate that is too high (oscillation); 2e-3 is not', () => {
  const rows = (ratio: number) => records([2.1, 1.5, 1.2, 1.05, 0.93, 0.83, 0.81, 1.01].map((loss, i) => ({
    train_loss: loss, train_accuracy: 0.33 + 0.05 * i - (i === 7 ? 0.06 : 0), val_loss: [1.65, 1.2, 0.94, 0.83, 0.83, 1.2, 1.57, 0.98][i]!, val_accuracy: 0.6,
    'update_ratio/0': ratio, 'update_ratio/1': ratio * 0.8, 'grad_norm/0': 0.8, 'grad_norm/1': 0.5,
  })));
  const c = { ...mlp, optimizer: { type: 'sgd', learningRate: 1 } };
  const d = diagnose(rows(3e-2), c);
  assert.equal(d.verdict, 'underfitting');
  assert.equal(d.cause, 'learning-rate-too-high');
  assert.equal(d.findings[0]!.kind, 'oscillating');
  assert.equal(d.findings[0]!.evidence.median_update_ratio, (3e-2 + 2.4e-2) / 2);
  assert.ok(d.suggestions.includes('Lower the learning rate from 1 to 0.1 (10×): the steps overshoot'));
  const calm = diagnose(rows(2e-3), c);
  assert.ok(!calm.findings.some((f) => f.kind === 'oscillating'));
  assert.notEqual(calm.cause, 'learning-rate-too-high');
});

test('dead_units/0 = 0.8 with a poor fit names dead ReLUs and the learning rate; gradients that collapse say the same without the metric', () => {
  const c = { ...mlp, optimizer: { type: 'sgd', learningRate: 2 } };
  const withMetric = diagnose(records([
    { train_loss: 6.8, train_accuracy: 0.10, 'dead_units/0': 0.5, 'grad_norm/0': 0.3, 'grad_norm/1': 0.3, 'update_ratio/0': 1e-3, 'update_ratio/1': 1e-3 },
    { train_loss: 2.31, train_accuracy: 0.11, 'dead_units/0': 0.8, 'grad_norm/0': 0.2, 'grad_norm/1': 0.2, 'update_ratio/0': 1e-3, 'update_ratio/1': 1e-3 },
  ]), c);
  assert.equal(withMetric.findings[0]!.kind, 'dead-units');
  assert.equal(withMetric.findings[0]!.evidence['dead_units/0'], 0.8);
  assert.match(withMetric.findings[0]!.message, /80\.0% of layer 0/);
  assert.equal(withMetric.cause, 'learning-rate-too-high');
  assert.ok(withMetric.suggestions.some((s) => /Leaky ReLU, PReLU or ELU/.test(s)));

  const collapsed = diagnose(records([
    { train_loss: 6.8, train_accuracy: 0.10, 'grad_norm/0': 2.8, 'grad_norm/1': 3.0, 'update_ratio/0': 2e-3, 'update_ratio/1': 1e-5 },
    { train_loss: 2.32, train_accuracy: 0.11, 'grad_norm/0': 5e-3, 'grad_norm/1': 1e-3, 'update_ratio/0': 0, 'update_ratio/1': 0 },
    { train_loss: 2.31, train_accuracy: 0.11, 'grad_norm/0': 6e-4, 'grad_norm/1': 1e-4, 'update_ratio/0': 0, 'update_ratio/1': 0 },
  ]), c);
  assert.equal(collapsed.verdict, 'not-learning');
  assert.equal(collapsed.cause, 'learning-rate-too-high', 'zero updates from dead units are not a learning rate that is too low');
  assert.ok(!collapsed.suggestions.some((s) => /Raise the learning rate/.test(s)));
});

test('update_ratio 8e-6 at chance loss is a learning rate that is too low', () => {
  const ln10 = Math.log(10);
  const d = diagnose(records([ln10 + 0.03, ln10 + 0.02, ln10 + 0.015, ln10 + 0.01].map((loss) => ({
    train_loss: loss, train_accuracy: 0.15, val_loss: loss, val_accuracy: 0.15,
    'grad_norm/0': 0.9, 'grad_norm/1': 0.6, 'update_ratio/0': 8e-6, 'update_ratio/1': 5e-6,
  }))), { ...mlp, optimizer: { type: 'sgd', learningRate: 0.00005 } });
  assert.equal(d.verdict, 'not-learning');
  assert.equal(d.cause, 'learning-rate-too-low');
  assert.equal(d.findings[0]!.evidence.max_update_ratio, 8e-6);
  assert.ok(d.suggestions.some((s) => s.startsWith('Raise the learning rate from 0.00005 to 0.0005')));
  assert.ok(d.suggestions.some((s) => /^Use Adam/.test(s)));
});

test('a 2-unit bottleneck at 26.5% accuracy, loss falling ~1% per epoch, is underfitting caused by the narrow layer (not healthy)', () => {
  // the case: 8 epochs, ending at 26.5% training accuracy
  const losses = [2.05, 1.98, 1.96, 1.94, 1.92, 1.90, 1.88, 1.86];
  const h = records(losses.map((l, i) => ({
    train_loss: l, train_accuracy: 0.2 + 0.009 * i, val_loss: l + 0.01, val_accuracy: 0.2 + 0.009 * i,
    'update_ratio/0': 1e-3, 'update_ratio/1': 1e-3, 'update_ratio/2': 1e-3,
  })));
  const d = diagnose(h, ctx([dense(64, 'relu'), dense(2, 'relu'), dense(10, 'softmax')], { epochs: 8 }));
  assert.equal(d.verdict, 'underfitting');
  assert.equal(d.cause, 'narrow-layer');
  assert.match(d.summary, /layer 1 \(2 units\) is narrower than the 10 classes/);
  assert.ok(d.suggestions.some((s) => /^Widen layer 1 from 2 units/.test(s)));
});

test('a plateau at 70% on 3 classes with 4 hidden units is too few units; with dropout the dropout is blamed first', () => {
  const h = records(Array.from({ length: 12 }, (_, i) => ({
    train_loss: 0.75 + 0.2 * Math.exp(-i) + 0.002 * SIGNS[i]!, train_accuracy: 0.7, val_loss: 0.76 + 0.2 * Math.exp(-i), val_accuracy: 0.7,
    'update_ratio/0': 2e-3, 'update_ratio/1': 2e-3,
  })));
  const small = diagnose(h, ctx([dense(4, 'relu'), dense(3, 'softmax')]));
  assert.equal(small.verdict, 'underfitting');
  assert.equal(small.cause, 'too-few-units');
  assert.ok(small.suggestions.some((s) => /^Use more units per hidden layer: the widest has 4/.test(s)));
  assert.ok(small.suggestions.some((s) => /do not add dropout or regularization/.test(s)));

  const dropped = diagnose(h, ctx([dense(4, 'relu'), { type: 'dropout', rate: 0.5 }, dense(3, 'softmax')]));
  assert.equal(dropped.cause, 'dropout');
  assert.ok(dropped.suggestions.some((s) => /^Remove the dropout \(layer 1, rate 0\.5\)/.test(s)));
  assert.ok(!dropped.suggestions.some((s) => /Add dropout|Raise the dropout/.test(s)));
  // a wide net fitting 97% is no underfitting at all
  const fine = records(h.map((r) => ({ ...r.metrics, train_accuracy: 0.97, val_accuracy: 0.97 })));
  assert.equal(diagnose(fine, ctx([dense(4, 'relu'), dense(3, 'softmax')])).verdict, 'healthy');
});

test('val_loss still falling 20% per epoch at the last epoch is "train longer", not healthy', () => {
  const h = records([1.9, 1.5, 1.2, 0.95].map((v, i) => ({
    train_loss: v + 0.1, train_accuracy: 0.5 + 0.1 * i, val_loss: v, val_accuracy: 0.5 + 0.1 * i, 'update_ratio/0': 1e-3, 'update_ratio/1': 1e-3,
  })));
  const d = diagnose(h, { ...mlp, epochs: 4, optimizer: { type: 'sgd', learningRate: 0.01 } });
  assert.equal(d.verdict, 'train-longer');
  assert.equal(d.cause, 'too-few-epochs');
  assert.ok(d.suggestions[0]!.startsWith('Train longer: raise training.epochs from 4'));
  assert.ok(d.suggestions.some((s) => /turn on early stopping/.test(s)));
  const withEs = diagnose(h, { ...mlp, epochs: 4, earlyStopping: { monitor: 'val_loss', restoreBest: true } });
  assert.ok(!withEs.suggestions.some((s) => /early stopping/.test(s)), 'early stopping is on already');
  // the same curve levelled off is healthy
  const flat = records([1.9, 0.3, 0.2, 0.19, 0.19, 0.188].map((v) => ({ train_loss: v, train_accuracy: 0.97, val_loss: v + 0.01, val_accuracy: 0.96 })));
  assert.equal(diagnose(flat, mlp).verdict, 'healthy');
});

test('tanh at depth with grad_norm/0 1000× below the last layer is vanishing gradients, counting the tanh layers', () => {
  const layers = [...Array.from({ length: 6 }, () => dense(32, 'tanh')), dense(10, 'softmax')];
  const g = { 'grad_norm/0': 1e-5, 'grad_norm/3': 1e-3, 'grad_norm/6': 1e-2 };
  const d = diagnose(records([{ train_loss: 2.3, train_accuracy: 0.11, ...g }, { train_loss: 2.28, train_accuracy: 0.12, ...g }]),
    ctx(layers, { optimizer: { type: 'sgd', learningRate: 0.01 } }));
  assert.equal(d.verdict, 'vanishing-gradients');
  assert.equal(d.cause, 'saturating-activations');
  assert.match(d.summary, /3\.0 orders of magnitude/);
  assert.match(d.summary, /through 6 tanh hidden layers/);
  assert.ok(d.suggestions[0]!.startsWith('Replace the 6 tanh hidden layers with ReLU'));
});

test('a training loss that climbs 50% beyond its noise is diverging, with the learning rate named', () => {
  const h = records([0.9, 0.6, 0.7, 0.8, 0.9].map((l) => ({ train_loss: l, train_accuracy: 0.5 })));
  const d = diagnose(h, { ...mlp, optimizer: { type: 'momentum', learningRate: 0.5 } });
  assert.equal(d.findings[0]!.kind, 'diverged');
  assert.equal(d.cause, 'learning-rate-too-high');
  assert.match(d.summary, /from 0\.6000 at epoch 2 to 0\.9000 at epoch 5/);
});

test('the printed diagnosis says each finding once and never repeats the verdict\'s word', () => {
  const h = run(14, (e) => (e <= 5 ? descent(e) : 0.1 + 0.01 * (e - 5) + 0.001 * SIGNS[e]!));
  const lines = formatDiagnosis(diagnose(h, spirals));
  assert.match(lines[0]!, /^diagnosis: overfitting \(clear\) — /);
  assert.equal(lines[0]!.match(/overfitting/g)!.length, 1, lines[0]);
  const d = diagnose(records([
    { train_loss: 3.5e12, train_accuracy: 0.10 }, { train_loss: 11.4, train_accuracy: 0.10, 'update_ratio/0': 0.05 }, { train_loss: 11.1, train_accuracy: 0.11, 'update_ratio/0': 0.05 },
  ]), { ...mlp, optimizer: { type: 'sgd', learningRate: 40 } });
  const printed = formatDiagnosis(d);
  for (const f of d.findings) {
    assert.equal(printed.filter((l) => l.includes(f.message)).length, 1, `printed once: ${f.message}`);
  }
  for (const x of [d, diagnose(h, spirals)]) {
    const word = x.verdict.split('-')[0]!;
    assert.ok(!x.summary.toLowerCase().startsWith(word), `summary repeats "${word}": ${x.summary}`);
  }
});
