import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EarlyStopping } from '../../../src/core/early-stopping.js';
import { earlyStoppingSpec } from './specs.js';
import type { EarlyStoppingDecision } from '../../../src/core/types.js';

const valLoss = (spec: Parameters<typeof earlyStoppingSpec>[0] = {}) => new EarlyStopping(earlyStoppingSpec({ monitor: 'val_loss', patience: 3, ...spec }));

function feed(es: EarlyStopping, values: number[], firstEpoch = 1, name = 'val_loss'): EarlyStoppingDecision[] {
  return values.map((v, i) => es.update(firstEpoch + i, { train_loss: 0.1, [name]: v }));
}

test('each lower val_loss is an improvement that resets wait', () => {
  const es = valLoss();
  const d = feed(es, [0.5, 0.4, 0.45, 0.3]);
  assert.deepEqual(d.map((x) => x.decision), ['improved', 'improved', 'continue', 'improved']);
  assert.deepEqual(d.map((x) => x.wait), [0, 0, 1, 0]);
  assert.equal(es.best, 0.3);
  assert.equal(es.bestEpoch, 4);
  assert.equal(d[3]!.reason, 'val_loss 0.3000 improved on the best 0.4000 (epoch 2)');
});

test('a plateau stops after exactly `patience` epochs without improvement', () => {
  const es = valLoss({ minDelta: 0.0001 });
  const d = feed(es, [0.3120, 0.3012, 0.3050, 0.3040, 0.3030, 0.2]);
  assert.deepEqual(d.slice(0, 5).map((x) => x.decision), ['improved', 'improved', 'continue', 'continue', 'stop']);
  assert.equal(d[1]!.reason, 'val_loss 0.3012 improved on the best 0.3120 (epoch 1) by more than minDelta 0.0001');
  assert.equal(d[3]!.reason, 'val_loss 0.3040 did not improve on the best 0.3012 (epoch 2) by more than minDelta 0.0001 for 2 of 3 epochs');
  assert.equal(d[4]!.reason, 'val_loss has not improved for 3 epochs (patience 3); stopping; best was 0.3012 at epoch 2');
  assert.deepEqual({ ...d[4]!, reason: '' }, {
    epoch: 5, monitor: 'val_loss', value: 0.3030, best: 0.3012, bestEpoch: 2, wait: 3, decision: 'stop', reason: '',
  });
  assert.equal(es.stoppedEpoch, 5);
});

test('patience 0 stops on the first epoch without improvement', () => {
  const d = feed(valLoss({ patience: 0 }), [0.5, 0.6]);
  assert.deepEqual(d.map((x) => x.decision), ['improved', 'stop']);
});

test('an improvement smaller than minDelta does not count', () => {
  const es = valLoss({ minDelta: 0.01 });
  const d = feed(es, [0.5, 0.495, 0.491, 0.489]);
  // 0.495 and 0.491 are within 0.01 of 0.5; 0.489 beats 0.5 − 0.01
  assert.deepEqual(d.map((x) => x.decision), ['improved', 'continue', 'continue', 'improved']);
  assert.deepEqual(d.map((x) => x.wait), [0, 1, 2, 0]);
  assert.equal(es.bestEpoch, 4);
  assert.equal(es.best, 0.489);
});

test('max mode for accuracy: higher is better', () => {
  const es = new EarlyStopping(earlyStoppingSpec({ monitor: 'val_accuracy', patience: 2 }));
  const d = feed(es, [0.80, 0.85, 0.84, 0.86, 0.86, 0.85], 1, 'val_accuracy');
  assert.deepEqual(d.map((x) => x.decision), ['improved', 'improved', 'continue', 'improved', 'continue', 'stop']);
  assert.equal(es.bestEpoch, 4);
  assert.equal(d[5]!.reason, 'val_accuracy has not improved for 2 epochs (patience 2); stopping; best was 0.8600 at epoch 4');
});

test('NaN never improves and counts toward patience', () => {
  const es = valLoss({ patience: 2 });
  const d = feed(es, [0.4, NaN, NaN]);
  assert.deepEqual(d.map((x) => x.decision), ['improved', 'continue', 'stop']);
  assert.equal(es.best, 0.4);
  assert.match(d[1]!.reason, /^val_loss is NaN, which counts as no improvement on the best 0\.4000 \(epoch 1\) for 1 of 2 epochs$/);
  assert.match(d[2]!.reason, /latest value is NaN/);
});

test('a missing monitored metric throws a clear error', () => {
  const es = valLoss();
  assert.throws(() => es.update(1, { train_loss: 0.5, train_accuracy: 0.8 }),
    /monitors val_loss, but epoch 1 reported train_accuracy, train_loss \(is there a validation split\?\)/);
});

test('fromJSON(toJSON()) continues identically, also through JSON text', () => {
  const values = [0.5, 0.4, 0.42, 0.41, 0.39, 0.395, 0.396, 0.397];
  const straight = valLoss({ minDelta: 0.001 });
  const all = feed(straight, values);

  for (const cut of [0, 1, 3, 6]) {
    const first = valLoss({ minDelta: 0.001 });
    feed(first, values.slice(0, cut));
    const state = JSON.parse(JSON.stringify(first));
    const resumed = EarlyStopping.fromJSON(earlyStoppingSpec({ monitor: 'val_loss', patience: 3, minDelta: 0.001 }), state);
    const rest = feed(resumed, values.slice(cut), cut + 1);
    assert.deepEqual(rest, all.slice(cut), `resumed after epoch ${cut}`);
    assert.deepEqual(resumed.toJSON(), straight.toJSON());
  }
  assert.equal(all[7]!.decision, 'stop');
});

test('fromJSON refuses a state recorded for another monitor', () => {
  const es = valLoss();
  feed(es, [0.5]);
  assert.throws(() => EarlyStopping.fromJSON(earlyStoppingSpec({ monitor: 'val_accuracy' }), es.toJSON()), /recorded for val_loss/);
});

test('before any value the state has no best', () => {
  const state = valLoss().toJSON();
  assert.deepEqual(state, { monitor: 'val_loss', mode: 'min', best: null, bestEpoch: 0, wait: 0, stoppedEpoch: 0 });
});
