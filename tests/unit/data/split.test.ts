import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatasetError } from '../../../src/data/errors.js';
import { applySplits } from '../../../src/data/split.js';
import type { Dataset } from '../../../src/core/dataset.js';

// 10 samples of 2 features where x = [i, -i] and label = i, so every row names itself.
function numbered(n = 10): Dataset {
  const x = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) { x[2 * i] = i; x[2 * i + 1] = -i; labels[i] = i; }
  return { name: 'numbered', task: 'classification', inputSize: 2, outputSize: n, train: { n, x, labels } };
}

test('validationSplit holds out the last round(n·split) samples, like Keras', () => {
  const ds = applySplits(numbered(), { validationSplit: 0.25 }); // round(2.5) = 3
  assert.equal(ds.train.n, 7);
  assert.equal(ds.validation!.n, 3);
  assert.deepEqual([...ds.train.labels!], [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...ds.validation!.labels!], [7, 8, 9]);
  assert.deepEqual([...ds.validation!.x], [7, -7, 8, -8, 9, -9]);
});

test('limit takes the first samples as stored, then validation is the tail of those', () => {
  const ds = applySplits(numbered(), { limit: 6, validationSplit: 0.5 });
  assert.deepEqual([...ds.train.labels!], [0, 1, 2]);
  assert.deepEqual([...ds.validation!.labels!], [3, 4, 5]);
  assert.equal(applySplits(numbered(), { limit: 50 }).train.n, 10);
  assert.equal(applySplits(numbered(), {}).validation, undefined);
});

test('splits are views of the source arrays, not copies', () => {
  const src = numbered();
  const ds = applySplits(src, { validationSplit: 0.2 });
  assert.equal(ds.train.x.buffer, src.train.x.buffer);
  assert.equal(ds.validation!.x.buffer, src.train.x.buffer);
  assert.equal(ds.validation!.x.byteOffset, 8 * 2 * 4);
});

test('regression targets are split with their row width', () => {
  const targets = new Float32Array([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]);
  const ds: Dataset = { name: 'r', task: 'regression', inputSize: 1, outputSize: 2, train: { n: 4, x: new Float32Array([0, 1, 2, 3]), targets } };
  const out = applySplits(ds, { validationSplit: 0.25 });
  assert.deepEqual([...out.train.targets!], [0, 0.5, 1, 1.5, 2, 2.5]);
  assert.deepEqual([...out.validation!.targets!], [3, 3.5]);
});

test('splits that leave nothing to train or validate on are refused', () => {
  const invalid = (re: RegExp) => (e: unknown) => e instanceof DatasetError && e.code === 'DATASET_INVALID' && re.test(e.message);
  assert.throws(() => applySplits(numbered(), { validationSplit: 1 }), invalid(/validationSplit must be in \[0, 1\)/));
  assert.throws(() => applySplits(numbered(), { validationSplit: -0.1 }), invalid(/must be in \[0, 1\)/));
  assert.throws(() => applySplits(numbered(), { validationSplit: 0.01 }), invalid(/holds out no sample/));
  assert.throws(() => applySplits(numbered(), { validationSplit: 0.97 }), invalid(/leaves no training sample/));
  assert.throws(() => applySplits(numbered(), { limit: 0 }), invalid(/limit must be a positive integer/));
  assert.throws(() => applySplits(numbered(), { limit: 2.5 }), invalid(/limit must be a positive integer/));
});
