// Hand-worked examples of the two pruners' definitions:
// - median stopping rule (Vizier, §3.2.2): prune t at step s if its best value so far
//   is worse than the median over the other trials τ of ō_τ^{1:s}, the mean of τ's
//   values at steps 1..s;
// - ASHA (Li et al. 2020): rung k at minEpochs·η^k; a trial at a rung continues only if
//   it is among the top max(1, ⌊n/η⌋) of the n trials that reached it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { medianDecision } from '../../../src/sweeps/median-rule.js';
import { ashaDecision, rungOf } from '../../../src/sweeps/asha.js';
import type { TrialCurve } from '../../../src/sweeps/curves.js';
import type { PrunerContext } from '../../../src/sweeps/decision.js';

const curve = (jobId: string, values: number[]): TrialCurve => ({ jobId, values: new Map(values.map((v, i) => [i + 1, v])) });
const ctx = (over: Partial<PrunerContext> = {}): PrunerContext => ({
  metric: 'val_accuracy', mode: 'max', minEpochs: 1, reductionFactor: 3, epochs: 10, ...over,
});

// Running means at epoch 3: o1 (0.8+0.85+0.9)/3 = 0.85, o2 (0.7+0.9+0.95)/3 = 0.85,
// o3 (0.5+0.6+0.7)/3 = 0.6, o4 (0.9+0.92+0.94)/3 = 0.92, o5 (0.1+0.2+0.3)/3 = 0.2
// → median 0.85. o6 has not reached epoch 3 and does not count.
const others = [
  curve('o1', [0.8, 0.85, 0.9]), curve('o2', [0.7, 0.9, 0.95]), curve('o3', [0.5, 0.6, 0.7]),
  curve('o4', [0.9, 0.92, 0.94]), curve('o5', [0.1, 0.2, 0.3]), curve('o6', [0.99, 0.99]),
];

test('median rule: a trial whose best so far is below the median of the others\' running means is pruned', () => {
  const t = curve('t', [0.3, 0.412, 0.35]);
  const d = medianDecision(ctx(), t, 3, [...others, t]);
  assert.ok(d);
  assert.equal(d.decision, 'prune');
  assert.equal(d.value, 0.412, 'the best value so far (epoch 2), not the latest');
  assert.ok(Math.abs(d.threshold! - 0.85) < 1e-12, `threshold ${d.threshold}`);
  assert.equal(d.rung, null);
  assert.equal(d.epoch, 3);
  assert.equal(d.reason, "val_accuracy 0.412 (its best up to epoch 3) is below the median 0.85 of 5 other trials' mean val_accuracy over epochs 1–3");
});

test('median rule: a trial at or above the median continues; one with nothing to compare with continues without a threshold', () => {
  const t = curve('t', [0.6, 0.86, 0.8]);
  const d = medianDecision(ctx(), t, 3, [...others, t]);
  assert.equal(d?.decision, 'continue');
  assert.ok(Math.abs(d!.threshold! - 0.85) < 1e-12);
  const alone = medianDecision(ctx(), t, 3, [t]);
  assert.equal(alone?.decision, 'continue');
  assert.equal(alone?.threshold, null);
});

test('median rule: an even number of others takes the mean of the middle two; min mode prunes the higher loss', () => {
  // running means at epoch 2: 1.5, 2.5, 3.5, 4.5 → median 3
  const losses = [curve('a', [1, 2]), curve('b', [2, 3]), curve('c', [3, 4]), curve('d', [4, 5])];
  const worse = curve('t', [3.5, 3.2]);
  const d = medianDecision(ctx({ metric: 'val_loss', mode: 'min' }), worse, 2, losses);
  assert.equal(d?.decision, 'prune');
  assert.equal(d?.threshold, 3);
  assert.equal(d?.value, 3.2);
  assert.match(d!.reason, /is above the median 3 of 4 other trials/);
  const better = curve('t', [3.5, 2.9]);
  assert.equal(medianDecision(ctx({ metric: 'val_loss', mode: 'min' }), better, 2, losses)?.decision, 'continue');
});

test('median rule: no decision before minEpochs nor at the last epoch', () => {
  const t = curve('t', [0.1, 0.1, 0.1]);
  assert.equal(medianDecision(ctx({ minEpochs: 4 }), t, 3, others), null);
  assert.notEqual(medianDecision(ctx({ minEpochs: 3 }), t, 3, others), null, 'epoch ≥ minEpochs decides');
  assert.equal(medianDecision(ctx({ epochs: 3 }), t, 3, others), null);
});

test('ASHA rungs are at minEpochs · η^k', () => {
  assert.deepEqual([1, 2, 3, 4, 8, 9, 27].map((e) => rungOf(e, 1, 3)), [0, null, 1, null, null, 2, 3]);
  assert.deepEqual([1, 2, 3, 4, 6, 8, 16].map((e) => rungOf(e, 2, 2)), [null, 0, null, 1, null, 2, 3]);
});

test('ASHA: of 6 trials at a rung only the top ⌊6/3⌋ = 2 continue', () => {
  // values at epoch 1 of five others: 0.9, 0.5, 0.7, 0.6, 0.8
  const rivals = [0.9, 0.5, 0.7, 0.6, 0.8].map((v, i) => curve(`o${i}`, [v]));
  // 0.65 ranks 4th of 0.9, 0.8, 0.7, 0.65, 0.6, 0.5: below the 2nd best 0.8
  const low = ashaDecision(ctx(), curve('t', [0.65]), 1, rivals);
  assert.equal(low?.decision, 'prune');
  assert.equal(low?.threshold, 0.8);
  assert.equal(low?.rung, 0);
  assert.equal(low?.reason, 'val_accuracy 0.65 at rung 0 (epoch 1) is below 0.8: the top 2 (1/3) of 6 trials that reached it continue, the 2nd best being 0.8');
  // 0.85 ranks 2nd: promoted
  const high = ashaDecision(ctx(), curve('t', [0.85]), 1, rivals);
  assert.equal(high?.decision, 'promote');
  assert.equal(high?.threshold, 0.85);
  // a tie with the cut continues
  assert.equal(ashaDecision(ctx(), curve('t', [0.8]), 1, rivals)?.decision, 'promote');
});

test('ASHA: fewer than η trials at a rung: only the best continues (max(1, ⌊n/η⌋)); the first one always does', () => {
  assert.equal(ashaDecision(ctx(), curve('t', [0.5]), 1, [])?.decision, 'promote');
  assert.equal(ashaDecision(ctx(), curve('t', [0.5]), 1, [curve('o', [0.9])])?.decision, 'prune');
  assert.equal(ashaDecision(ctx(), curve('t', [0.95]), 1, [curve('o', [0.9])])?.decision, 'promote');
});

test('ASHA compares the values at the rung epoch, only with trials that reached it; min mode; no decision between rungs or at the last epoch', () => {
  // at rung 1 (epoch 3): t has 0.30 loss; a 0.20, b 0.25, c 0.40 → n = 4, keep 1, threshold 0.20
  const rivals = [curve('a', [0.9, 0.5, 0.2]), curve('b', [0.3, 0.3, 0.25]), curve('c', [0.8, 0.6, 0.4]), curve('d', [0.1])];
  const t = curve('t', [0.05, 0.2, 0.3]);
  const d = ashaDecision(ctx({ metric: 'val_loss', mode: 'min' }), t, 3, rivals);
  assert.equal(d?.decision, 'prune');
  assert.equal(d?.value, 0.3);
  assert.equal(d?.threshold, 0.2);
  assert.equal(d?.rung, 1);
  assert.equal(ashaDecision(ctx({ metric: 'val_loss', mode: 'min' }), t, 2, rivals), null, 'epoch 2 is no rung');
  assert.equal(ashaDecision(ctx({ metric: 'val_loss', mode: 'min', epochs: 3 }), t, 3, rivals), null, 'the last epoch');
  assert.equal(ashaDecision(ctx({ minEpochs: 2, reductionFactor: 2 }), curve('t', [0.1]), 1, []), null, 'before minEpochs');
});
