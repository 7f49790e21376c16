import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatasetError } from '../../../src/data/errors.js';
import { DATASET_NAMES, loadDataset } from '../../../src/data/load.js';

test('synthetic datasets take n, noise, classes and seed from the spec and apply the split', () => {
  const ds = loadDataset({ name: 'synthetic/spirals', n: 200, classes: 4, seed: 3, validationSplit: 0.25 });
  assert.equal(ds.name, 'synthetic/spirals');
  assert.equal(ds.outputSize, 4);
  assert.equal(ds.train.n, 150);
  assert.equal(ds.validation!.n, 50);
  assert.equal(ds.test, undefined);
  const again = loadDataset({ name: 'synthetic/spirals', n: 200, classes: 4, seed: 3, validationSplit: 0.25 });
  assert.deepEqual(again.validation, ds.validation);
});

test('inline datasets load from features and labels, with limit and split', () => {
  const features = [[0], [1], [2], [3], [4]];
  const ds = loadDataset({ name: 'inline', features, labels: [0, 1, 0, 1, 1], limit: 4, validationSplit: 0.5 });
  assert.equal(ds.task, 'classification');
  assert.equal(ds.outputSize, 2);
  assert.deepEqual([...ds.train.x], [0, 1]);
  assert.deepEqual([...ds.validation!.x], [2, 3]);
  assert.deepEqual([...ds.validation!.labels!], [0, 1]);
});

test('an unknown dataset name is DATASET_UNKNOWN and lists the known names', () => {
  assert.throws(
    () => loadDataset({ name: 'cifar10' }),
    (e: unknown) => e instanceof DatasetError && e.code === 'DATASET_UNKNOWN' && /"cifar10".*mnist, fashion-mnist, synthetic\/spirals/.test(e.message),
  );
  assert.ok(DATASET_NAMES.includes('synthetic/xor'));
});
