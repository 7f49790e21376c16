import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatasetError } from '../../../src/data/errors.js';
import { loadInline } from '../../../src/data/inline.js';

test('class-index labels give a classifier with outputSize = max label + 1', () => {
  const ds = loadInline([[0, 1], [1, 0], [1, 1]], [0, 2, 1]);
  assert.equal(ds.task, 'classification');
  assert.equal(ds.inputSize, 2);
  assert.equal(ds.outputSize, 3);
  assert.deepEqual(ds.train.x, new Float32Array([0, 1, 1, 0, 1, 1]));
  assert.deepEqual(ds.train.labels, new Int32Array([0, 2, 1]));
  assert.equal(ds.train.n, 3);
});

test('number-array labels give a regression set with flat row-major targets', () => {
  const ds = loadInline([[1], [2]], [[0.5, -1], [2, 3]]);
  assert.equal(ds.task, 'regression');
  assert.equal(ds.outputSize, 2);
  assert.deepEqual(ds.train.targets, new Float32Array([0.5, -1, 2, 3]));
  assert.equal(ds.train.labels, undefined);
});

test('inconsistent inline data is refused with the offending index', () => {
  const invalid = (re: RegExp) => (e: unknown) => e instanceof DatasetError && e.code === 'DATASET_INVALID' && re.test(e.message);
  assert.throws(() => loadInline([], []), invalid(/features must be a non-empty array/));
  assert.throws(() => loadInline([[1], [2]], [0]), invalid(/2 samples in features but 1 labels/));
  assert.throws(() => loadInline([[1, 2], [3]], [0, 1]), invalid(/features\[1\] has 1 values, features\[0\] has 2/));
  assert.throws(() => loadInline([[1], [Number.NaN]], [0, 1]), invalid(/features\[1\]\[0\] is not a finite number/));
  assert.throws(() => loadInline([[1], [2]], [0, 1.5]), invalid(/labels\[1\] must be a class index/));
  assert.throws(() => loadInline([[1], [2]], [0, -1]), invalid(/labels\[1\] must be a class index/));
  assert.throws(() => loadInline([[1], [2]], [[0], 1]), invalid(/labels\[1\] must be an array/));
  assert.throws(() => loadInline([[1], [2]], [[0], [1, 2]]), invalid(/labels\[1\] has 2 values/));
  assert.throws(() => loadInline([[1]], undefined), invalid(/labels must be an array/));
});
