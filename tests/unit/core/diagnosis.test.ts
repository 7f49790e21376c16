import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose, type DiagnosisContext, type EpochMetrics } from '../../../src/core/diagnosis.js';

const mnistRelu: DiagnosisContext = { task: 'classification', outputSize: 10, hasDropout: false, activations: ['relu', 'relu', 'softmax'] };
const mnistSigmoid: DiagnosisContext = {
  task: 'classification', outputSize: 10, hasDropout: false,
  activations: ['sigmoid', 'sigmoid', 'sigmoid', 'sigmoid', 'softmax'],
};

const records = (rows: Array<Record<string, number>>): EpochMetrics[] => rows.map((metrics, i) => ({ epoch: i + 1, metrics }));

// a healthy MNIST-like run: both losses fall and level off, accuracies rise, small gap
const healthy = records([
  { train_loss: 0.45, train_accuracy: 0.87, val_loss: 0.25, val_accuracy: 0.93 },
  { train_loss: 0.22, train_accuracy: 0.94, val_loss: 0.18, val_accuracy: 0.95 },
  { train_loss: 0.16, train_accuracy: 0.955, val_loss: 0.14, val_accuracy: 0.96 },
  { train_loss: 0.12, train_accuracy: 0.965, val_loss: 0.12, val_accuracy: 0.965 },
  { train_loss: 0.10, train_accuracy: 0.97, val_loss: 0.115, val_accuracy: 0.967 },
  { train_loss: 0.09, train_accuracy: 0.972, val_loss: 0.114, val_accuracy: 0.968 },
  { train_loss: 0.085, train_accuracy: 0.974, val_loss: 0.1135, val_accuracy: 0.968 },
]);

test('a single epoch is too early to say anything', () => {
  const d = diagnose(healthy.slice(0, 1), mnistRelu);
  assert.equal(d.verdict, 'too-early');
  assert.deepEqual(d.findings, []);
  assert.equal(diagnose([], mnistRelu).verdict, 'too-early');
});

test('a healthy curve is healthy, with no suggestions', () => {
  const d = diagnose(healthy, mnistRelu);
  assert.equal(d.verdict, 'healthy');
  assert.deepEqual(d.findings, []);
  assert.deepEqual(d.suggestions, []);
});

test('a loss flat at ln 10 with 11% accuracy is not-learning, and the advice is about training, not overfitting', () => {
  const ln10 = Math.log(10);
  const d = diagnose(records([
    { train_loss: ln10 + 0.01, train_accuracy: 0.10, val_loss: ln10, val_accuracy: 0.10 },
    { train_loss: ln10 + 0.002, train_accuracy: 0.11, val_loss: ln10, val_accuracy: 0.11 },
    { train_loss: ln10 - 0.001, train_accuracy: 0.11, val_loss: ln10, val_accuracy: 0.11 },
  ]), { ...mnistSigmoid, hasDropout: true });
  assert.equal(d.verdict, 'not-learning');
  const f = d.findings.find((x) => x.kind === 'not-learning')!;
  assert.ok(Math.abs(f.evidence.chance_loss! - ln10) < 1e-12);
  assert.equal(f.evidence.accuracy, 0.11);
  assert.match(d.suggestions[0]!, /training problem, not overfitting: regularization cannot help/);
  assert.ok(!d.suggestions.some((s) => /^Add (dropout|L2)/.test(s)));
});

test('accuracy barely above chance with a falling loss is underfitting', () => {
  const d = diagnose(records([
    { train_loss: 2.3, train_accuracy: 0.10 },
    { train_loss: 2.0, train_accuracy: 0.13 },
    { train_loss: 1.9, train_accuracy: 0.15 },
  ]), mnistRelu);
  assert.equal(d.verdict, 'underfitting');
  assert.match(d.findings[0]!.message, /accuracy 15\.0% after 3 epochs \(chance 10\.0%\)/);
  assert.ok(d.suggestions.includes('The loss is still falling: train for more epochs too'));
  assert.ok(!d.suggestions.some((s) => /sigmoid/.test(s)), 'no sigmoid to replace in a ReLU net');
});

test('a regression loss that hardly falls is underfitting', () => {
  const d = diagnose(records([{ train_loss: 1.0 }, { train_loss: 0.99 }, { train_loss: 0.98 }]),
    { task: 'regression', outputSize: 1, hasDropout: false, activations: ['relu', 'linear'] });
  assert.equal(d.verdict, 'underfitting');
  assert.ok(Math.abs(d.findings[0]!.evidence.relative_drop! - 0.02) < 1e-12);
});

test('a rising or NaN training loss is not-learning (diverged), with a lower learning rate suggested', () => {
  const rising = diagnose(records([{ train_loss: 0.8 }, { train_loss: 1.5 }]), mnistRelu);
  assert.equal(rising.verdict, 'not-learning');
  assert.equal(rising.findings[0]!.kind, 'diverged');
  assert.match(rising.suggestions[0]!, /Lower the learning rate/);
  assert.ok(!rising.suggestions.some((s) => /higher learning rate/.test(s)));
  const nan = diagnose(records([{ train_loss: NaN }]), mnistRelu);
  assert.equal(nan.verdict, 'not-learning');
});

test('train accuracy 99% with val_loss rising from its minimum is overfitting', () => {
  const d = diagnose(records([
    { train_loss: 0.30, train_accuracy: 0.91, val_loss: 0.20, val_accuracy: 0.94 },
    { train_loss: 0.12, train_accuracy: 0.96, val_loss: 0.12, val_accuracy: 0.965 },
    { train_loss: 0.06, train_accuracy: 0.98, val_loss: 0.10, val_accuracy: 0.97 },
    { train_loss: 0.03, train_accuracy: 0.99, val_loss: 0.11, val_accuracy: 0.969 },
    { train_loss: 0.015, train_accuracy: 0.995, val_loss: 0.13, val_accuracy: 0.968 },
    { train_loss: 0.008, train_accuracy: 0.998, val_loss: 0.15, val_accuracy: 0.967 },
  ]), mnistRelu);
  assert.equal(d.verdict, 'overfitting');
  const f = d.findings[0]!;
  assert.equal(f.kind, 'overfitting');
  assert.equal(f.evidence.best_val_epoch, 3);
  assert.equal(f.evidence.epochs_since_best, 3);
  assert.match(f.message, /val_loss was lowest at epoch 3 \(0\.1000\) and rose 50\.0% in 3 epochs to 0\.1500/);
  assert.match(d.suggestions[0]!, /early stopping.*epoch 3/);
  for (const re of [/L2/, /Add dropout/, /more training data/]) assert.ok(d.suggestions.some((s) => re.test(s)), String(re));
});

test('one epoch of rising val_loss is not yet overfitting', () => {
  const d = diagnose(records([
    { train_loss: 0.30, train_accuracy: 0.91, val_loss: 0.20, val_accuracy: 0.94 },
    { train_loss: 0.12, train_accuracy: 0.96, val_loss: 0.12, val_accuracy: 0.965 },
    { train_loss: 0.06, train_accuracy: 0.98, val_loss: 0.10, val_accuracy: 0.97 },
    { train_loss: 0.03, train_accuracy: 0.99, val_loss: 0.11, val_accuracy: 0.969 },
  ]), mnistRelu);
  assert.equal(d.verdict, 'healthy');
});

test('grad_norm/0 = 1e-6 against grad_norm/4 = 1e-2 with sigmoid is vanishing gradients', () => {
  const grads = { 'grad_norm/0': 1e-6, 'grad_norm/1': 1e-5, 'grad_norm/2': 1e-4, 'grad_norm/3': 1e-3, 'grad_norm/4': 1e-2 };
  const history = records([
    { train_loss: 2.2, train_accuracy: 0.3, ...grads },
    { train_loss: 1.6, train_accuracy: 0.45, ...grads, 'update_ratio/0': 1e-7, 'update_ratio/4': 1e-3 },
  ]);
  const d = diagnose(history, mnistSigmoid);
  assert.equal(d.verdict, 'vanishing-gradients');
  const f = d.findings.find((x) => x.kind === 'vanishing-gradients')!;
  assert.equal(f.evidence['grad_norm/0'], 1e-6);
  assert.equal(f.evidence['grad_norm/4'], 1e-2);
  assert.ok(Math.abs(f.evidence.ratio! - 1e-4) < 1e-12);
  assert.equal(f.evidence['update_ratio/0'], 1e-7);
  assert.match(f.message, /4\.0 orders of magnitude/);
  for (const re of [/ReLU.*Maxout/, /Adam/]) assert.ok(d.suggestions.some((s) => re.test(s)), String(re));

  // the same gradient norms in a ReLU net are not blamed on saturation
  assert.ok(!diagnose(history, mnistRelu).findings.some((f) => f.kind === 'vanishing-gradients'));
  // and comparable norms in a sigmoid net are fine
  const even = records([
    { train_loss: 2.2, train_accuracy: 0.3, 'grad_norm/0': 0.05, 'grad_norm/4': 0.1 },
    { train_loss: 1.6, train_accuracy: 0.45, 'grad_norm/0': 0.04, 'grad_norm/4': 0.1 },
  ]);
  assert.ok(!diagnose(even, mnistSigmoid).findings.some((f) => f.kind === 'vanishing-gradients'));
});

test('underfitting comes before overfitting: first look at the training error', () => {
  const d = diagnose(records([
    { train_loss: 2.30, train_accuracy: 0.10, val_loss: 2.25, val_accuracy: 0.11 },
    { train_loss: 2.10, train_accuracy: 0.12, val_loss: 2.20, val_accuracy: 0.11 },
    { train_loss: 1.95, train_accuracy: 0.13, val_loss: 2.40, val_accuracy: 0.10 },
    { train_loss: 1.90, train_accuracy: 0.14, val_loss: 2.60, val_accuracy: 0.10 },
  ]), { ...mnistRelu, hasDropout: true });
  assert.equal(d.verdict, 'underfitting');
  assert.deepEqual(d.findings.map((f) => f.kind), ['underfitting', 'overfitting']);
  assert.match(d.summary, /first look at the training error/);
  assert.ok(!d.suggestions.some((s) => /Raise the dropout rate|Add L2/.test(s)), 'no overfitting remedies while the training error is high');
});

test('vanishing gradients explain a sigmoid net that does not learn, without repeating advice', () => {
  const ln10 = Math.log(10);
  const grads = { 'grad_norm/0': 1e-7, 'grad_norm/2': 1e-2 };
  const d = diagnose(records([
    { train_loss: ln10 + 0.01, train_accuracy: 0.10, ...grads },
    { train_loss: ln10, train_accuracy: 0.11, ...grads },
  ]), mnistSigmoid);
  assert.equal(d.verdict, 'vanishing-gradients');
  assert.deepEqual(d.findings.map((f) => f.kind), ['vanishing-gradients', 'not-learning']);
  assert.equal(new Set(d.suggestions).size, d.suggestions.length);
  assert.equal(d.suggestions.filter((s) => /sigmoid hidden layers with ReLU/.test(s)).length, 1);
});
