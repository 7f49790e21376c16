import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatasetError } from '../../../src/data/errors.js';
import { generateSynthetic, SYNTHETIC_KINDS } from '../../../src/data/synthetic.js';

test('every synthetic set is identical for the same seed and differs for another seed', () => {
  for (const kind of SYNTHETIC_KINDS) {
    const a = generateSynthetic(kind, { n: 300, seed: 7 });
    const b = generateSynthetic(kind, { n: 300, seed: 7 });
    const c = generateSynthetic(kind, { n: 300, seed: 8 });
    assert.deepEqual(a, b, kind);
    assert.notDeepEqual(a.train.x, c.train.x, kind);
  }
});

test('classification sets are exactly balanced, interleaved, and two-dimensional', () => {
  for (const [kind, classes] of [['spirals', 3], ['spirals', 5], ['blobs', 4], ['xor', 2]] as const) {
    const ds = generateSynthetic(kind, { n: 1001, classes: kind === 'xor' ? undefined : classes });
    assert.equal(ds.name, `synthetic/${kind}`);
    assert.equal(ds.task, 'classification');
    assert.equal(ds.inputSize, 2);
    assert.equal(ds.outputSize, classes);
    assert.equal(ds.train.n, 1001);
    assert.equal(ds.train.x.length, 2002);
    const counts = new Array(classes).fill(0);
    for (const c of ds.train.labels!) counts[c]++;
    for (let c = 0; c < classes; c++) {
      assert.equal(counts[c], Math.floor(1001 / classes) + (c < 1001 % classes ? 1 : 0), `${kind} class ${c}`);
    }
    // Shuffled rows: the last 10% (a validation split) must contain every class.
    const tail = new Set(ds.train.labels!.subarray(900));
    assert.equal(tail.size, classes, `${kind} tail classes`);
  }
});

test('defaults: 1000 samples, 3 classes (xor 2), seed 0', () => {
  assert.deepEqual(generateSynthetic('spirals'), generateSynthetic('spirals', { n: 1000, noise: 0.1, classes: 3, seed: 0 }));
  assert.equal(generateSynthetic('blobs').outputSize, 3);
  assert.equal(generateSynthetic('xor').outputSize, 2);
});

test('with zero noise the geometry is exact: spirals within the unit disc, blobs on the unit circle, xor labels by sign', () => {
  const s = generateSynthetic('spirals', { noise: 0 }).train;
  for (let i = 0; i < s.n; i++) assert.ok(Math.hypot(s.x[2 * i], s.x[2 * i + 1]) <= 1 + 1e-6);
  const b = generateSynthetic('blobs', { noise: 0, classes: 4 }).train;
  for (let i = 0; i < b.n; i++) {
    const a = (2 * Math.PI * b.labels![i]) / 4;
    assert.ok(Math.abs(b.x[2 * i] - Math.cos(a)) < 1e-6 && Math.abs(b.x[2 * i + 1] - Math.sin(a)) < 1e-6);
  }
  const x = generateSynthetic('xor', { noise: 0 }).train;
  for (let i = 0; i < x.n; i++) {
    const differ = x.x[2 * i] > 0 !== x.x[2 * i + 1] > 0;
    assert.equal(x.labels![i], differ ? 1 : 0);
  }
});

test('noise is the standard deviation around the noiseless points', () => {
  const clean = generateSynthetic('blobs', { n: 4000, noise: 0 }).train.x;
  const noisy = generateSynthetic('blobs', { n: 4000, noise: 0.3 }).train.x;
  let ss = 0;
  for (let i = 0; i < clean.length; i++) ss += (noisy[i] - clean[i]) ** 2;
  assert.ok(Math.abs(Math.sqrt(ss / clean.length) - 0.3) < 0.02);
});

test('synthetic/regression is y = sin(x) plus noise, one input and one output', () => {
  const ds = generateSynthetic('regression', { n: 500, noise: 0 });
  assert.equal(ds.task, 'regression');
  assert.equal(ds.inputSize, 1);
  assert.equal(ds.outputSize, 1);
  assert.equal(ds.train.labels, undefined);
  for (let i = 0; i < 500; i++) {
    assert.ok(ds.train.x[i] >= -Math.PI && ds.train.x[i] < Math.PI);
    assert.ok(Math.abs(ds.train.targets![i] - Math.sin(ds.train.x[i])) < 1e-6);
  }
});

test('invalid parameters and unknown kinds are refused', () => {
  const invalid = (re: RegExp) => (e: unknown) => e instanceof DatasetError && e.code === 'DATASET_INVALID' && re.test(e.message);
  assert.throws(() => generateSynthetic('xor', { classes: 3 }), invalid(/always has 2 classes/));
  assert.throws(() => generateSynthetic('spirals', { classes: 1 }), invalid(/classes must be an integer ≥ 2/));
  assert.throws(() => generateSynthetic('blobs', { n: 0 }), invalid(/n must be a positive integer/));
  assert.throws(() => generateSynthetic('blobs', { n: 2, classes: 3 }), invalid(/fewer than one sample per class/));
  assert.throws(() => generateSynthetic('blobs', { noise: -1 }), invalid(/noise must be ≥ 0/));
  assert.throws(() => generateSynthetic('regression', { classes: 2 }), invalid(/takes no classes/));
  assert.throws(
    () => generateSynthetic('moons'),
    (e: unknown) => e instanceof DatasetError && e.code === 'DATASET_UNKNOWN' && /synthetic\/moons.*synthetic\/spirals/.test(e.message),
  );
});
