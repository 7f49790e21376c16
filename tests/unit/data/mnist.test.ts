import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clearDatasetCache, loadDataset } from '../../../src/data/load.js';

// One full parse of the real files (60k + 10k images) serves every test in this file.
clearDatasetCache();
const full = loadDataset({ name: 'mnist' });

test('mnist has 60000 training and 10000 test images of 784 pixels and 10 classes', () => {
  assert.equal(full.name, 'mnist');
  assert.equal(full.task, 'classification');
  assert.equal(full.inputSize, 784);
  assert.equal(full.outputSize, 10);
  assert.equal(full.train.n, 60000);
  assert.equal(full.train.x.length, 60000 * 784);
  assert.equal(full.test!.n, 10000);
  assert.equal(full.test!.x.length, 10000 * 784);
  assert.equal(full.validation, undefined);
  assert.deepEqual([...full.train.labels!.subarray(0, 10)], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  assert.deepEqual([...full.test!.labels!.subarray(0, 10)], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
});

test('mnist pixels span [0, 1] and the first training image sums to 27525/255', () => {
  const x = full.train.x.subarray(0, 1000 * 784); // a scan of all 47M pixels would dominate the suite's time
  let min = Infinity, max = -Infinity, byteSum = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  for (let i = 0; i < 784; i++) byteSum += Math.round(x[i] * 255);
  assert.equal(min, 0);
  assert.equal(max, 1);
  assert.equal(byteSum, 27525);
});

test('later loads reuse the parsed arrays instead of reading the files again', () => {
  // identity checks through assert.ok: a failing assert.equal would try to print 188 MB
  const again = loadDataset({ name: 'mnist', validationSplit: 0.1 });
  assert.ok(again.train.x.buffer === full.train.x.buffer, 'train images are the cached array');
  assert.ok(again.train.labels!.buffer === full.train.labels!.buffer, 'train labels are the cached array');
  assert.ok(again.test!.x.buffer === full.test!.x.buffer, 'test images are the cached array');
  // after clearing the cache the files are parsed anew: fresh arrays, same contents
  clearDatasetCache();
  const reread = loadDataset({ name: 'mnist', limit: 10 });
  assert.ok(reread.train.x.buffer !== full.train.x.buffer, 'a cleared cache reads the files again');
  assert.deepEqual([...reread.train.labels!], [...full.train.labels!.subarray(0, 10)]);
});

test('mnist with validationSplit 0.1 holds out the last 6000 training images and keeps the test split', () => {
  const ds = loadDataset({ name: 'mnist', validationSplit: 0.1 });
  assert.equal(ds.train.n, 54000);
  assert.equal(ds.validation!.n, 6000);
  assert.deepEqual(ds.validation!.labels, full.train.labels!.subarray(54000));
  assert.equal(ds.validation!.x[0], full.train.x[54000 * 784]);
  assert.equal(ds.test!.n, 10000);
});

test('mnist limit keeps the first samples before the validation split', () => {
  const ds = loadDataset({ name: 'mnist', limit: 1000, validationSplit: 0.2 });
  assert.equal(ds.train.n, 800);
  assert.equal(ds.validation!.n, 200);
  assert.deepEqual(ds.validation!.labels, full.train.labels!.subarray(800, 1000));
  assert.equal(ds.test!.n, 10000);
});
