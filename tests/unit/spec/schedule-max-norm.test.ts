import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateJobSpec, specHash } from '../../../src/spec/index.js';

function spec(optimizer: object, regularization?: object): any {
  return {
    name: 'schedule', dataset: { name: 'synthetic/xor' },
    model: { layers: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'dense', units: 2, activation: 'softmax' }] },
    loss: 'cross-entropy', optimizer, ...(regularization ? { regularization } : {}),
    training: { epochs: 3, batchSize: 8 },
  };
}

test('schedules take PyTorch\'s defaults (StepLR gamma 0.1, CosineAnnealingLR etaMin 0) and keep them in the normalized spec', () => {
  const step = validateJobSpec(spec({ type: 'adam', learningRate: 0.01, schedule: { type: 'step', stepSize: 5 } }));
  assert.ok(step.ok);
  assert.deepEqual(step.spec.optimizer.schedule, { type: 'step', stepSize: 5, gamma: 0.1 });
  assert.equal((step.spec.optimizer as { beta1?: number }).beta1, 0.9);
  const cosine = validateJobSpec(spec({ type: 'sgd', learningRate: 0.1, schedule: { type: 'cosine', tMax: 10 } }));
  assert.ok(cosine.ok);
  assert.deepEqual(cosine.spec.optimizer.schedule, { type: 'cosine', tMax: 10, etaMin: 0 });
  // the normalized spec validates again unchanged
  const again = validateJobSpec(cosine.spec);
  assert.ok(again.ok);
  assert.deepEqual(again.spec, cosine.spec);
});

test('a spec without schedule or maxNorm normalizes (and hashes) as before: no new keys appear', () => {
  const r = validateJobSpec(spec({ type: 'sgd', learningRate: 0.1 }));
  assert.ok(r.ok);
  assert.deepEqual(Object.keys(r.spec.optimizer), ['type', 'learningRate']);
  assert.deepEqual(Object.keys(r.spec.regularization), ['l1', 'l2']);
  const withMaxNorm = validateJobSpec(spec({ type: 'sgd', learningRate: 0.1 }, { maxNorm: 3 }));
  assert.ok(withMaxNorm.ok);
  assert.equal(withMaxNorm.spec.regularization.maxNorm, 3);
  assert.notEqual(specHash(withMaxNorm.spec), specHash(r.spec));
});

test('invalid schedules and max-norms are refused with pointers', () => {
  for (const [optimizer, regularization, pointer] of [
    [{ type: 'sgd', learningRate: 0.1, schedule: { type: 'step', stepSize: 0 } }, undefined, '/optimizer/schedule/stepSize'],
    [{ type: 'sgd', learningRate: 0.1, schedule: { type: 'exponential' } }, undefined, '/optimizer/schedule/gamma'],
    [{ type: 'adam', learningRate: 0.1, schedule: { type: 'cosine', tMax: 5, etaMin: -1 } }, undefined, '/optimizer/schedule/etaMin'],
    [{ type: 'sgd', learningRate: 0.1, schedule: { type: 'linear' } }, undefined, '/optimizer/schedule/type'],
    [{ type: 'sgd', learningRate: 0.1 }, { maxNorm: 0 }, '/regularization/maxNorm'],
  ] as const) {
    const r = validateJobSpec(spec(optimizer, regularization));
    assert.equal(r.ok, false, JSON.stringify(optimizer));
    if (!r.ok) assert.ok(r.problems.some((p) => p.pointer.startsWith(pointer)), `${pointer}: ${JSON.stringify(r.problems)}`);
  }
});
