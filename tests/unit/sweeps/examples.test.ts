import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validateSweep } from '../../../src/sweeps/validate.js';

const example = (name: string): unknown =>
  JSON.parse(readFileSync(fileURLToPath(new URL(`../../../../examples/${name}`, import.meta.url)), 'utf8'));

test('examples/sweep-depth-activation-optimizer.json is a valid sweep: depth × activation × optimizer, 8 trials', () => {
  const r = validateSweep(example('sweep-depth-activation-optimizer.json'));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  assert.equal(r.sweep.trials.length, 8);
  const described = r.sweep.trials.map((t) => {
    const layers = t['/model/layers'] as { activation: string }[];
    return `${layers.length - 1}×${layers[0]!.activation} ${(t['/optimizer'] as { type: string }).type}`;
  });
  assert.deepEqual(described, [
    '2×sigmoid sgd', '2×sigmoid adam', '2×relu sgd', '2×relu adam',
    '6×sigmoid sgd', '6×sigmoid adam', '6×relu sgd', '6×relu adam',
  ]);
});
