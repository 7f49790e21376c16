import { test } from 'node:test';
import assert from 'node:assert/strict';
import { datasetProblems, describeDataset, splitCounts } from '../../../src/data/catalog.js';

test('mnist and fashion-mnist: 784 inputs, 10 classes, 60000 train, 10000 test', () => {
  for (const name of ['mnist', 'fashion-mnist']) {
    assert.deepEqual(describeDataset({ name }), { task: 'classification', inputSize: 784, outputSize: 10, trainSize: 60000, testSize: 10000 });
  }
});

test('synthetic sets: 2 inputs; classes default 3, xor 2, regression 1 output; n default 1000', () => {
  assert.deepEqual(describeDataset({ name: 'synthetic/spirals' }), { task: 'classification', inputSize: 2, outputSize: 3, trainSize: 1000, testSize: 0 });
  assert.deepEqual(describeDataset({ name: 'synthetic/blobs', classes: 5, n: 200 }), { task: 'classification', inputSize: 2, outputSize: 5, trainSize: 200, testSize: 0 });
  assert.deepEqual(describeDataset({ name: 'synthetic/xor' }), { task: 'classification', inputSize: 2, outputSize: 2, trainSize: 1000, testSize: 0 });
  assert.deepEqual(describeDataset({ name: 'synthetic/regression' }), { task: 'regression', inputSize: 1, outputSize: 1, trainSize: 1000, testSize: 0 });
});

test('inline: sizes come from the arrays', () => {
  assert.deepEqual(describeDataset({ name: 'inline', features: [[1, 2, 3], [4, 5, 6]], labels: [0, 3] }),
    { task: 'classification', inputSize: 3, outputSize: 4, trainSize: 2, testSize: 0 });
  assert.deepEqual(describeDataset({ name: 'inline', features: [[1], [2]], labels: [[1, 2], [3, 4]] }),
    { task: 'regression', inputSize: 1, outputSize: 2, trainSize: 2, testSize: 0 });
});

test('unknown names are an error at /dataset/name', () => {
  const kind = describeDataset({ name: 'synthetic/moons' });
  assert.ok('error' in kind);
  assert.equal(kind.error.pointer, '/dataset/name');
  assert.match(kind.error.message, /unknown synthetic data set 'moons'; use one of spirals, blobs, xor, regression/);
  const other = describeDataset({ name: 'cifar10' });
  assert.ok('error' in other);
  assert.match(other.error.message, /unknown data set 'cifar10'/);
});

test('a non-integer scalar label is not a class index', () => {
  const result = describeDataset({ name: 'inline', features: [[1], [2]], labels: [0, 0.5] });
  assert.ok('error' in result);
  assert.equal(result.error.pointer, '/dataset/labels/1');
  assert.match(result.error.message, /not a class index.*\[0\.5\]/);
});

test('a single class is not enough for a classifier', () => {
  const problems = datasetProblems({ name: 'inline', features: [[1], [2]], labels: [0, 0] });
  assert.deepEqual(problems.map((p) => p.pointer), ['/dataset/labels']);
});

test('datasetProblems lists every inline problem', () => {
  const problems = datasetProblems({ name: 'inline', features: [[1, 2], [3], [4, 5, 6]], labels: [[1], [2, 3]] });
  assert.deepEqual(problems.map((p) => p.pointer), ['/dataset/features/1', '/dataset/features/2', '/dataset/labels', '/dataset/labels/1']);
});

test('a split that leaves no validation or no training samples is a problem', () => {
  assert.match(datasetProblems({ name: 'synthetic/xor', n: 4, validationSplit: 0.1 })[0].message, /leaves no validation samples/);
  assert.match(datasetProblems({ name: 'synthetic/xor', n: 4, validationSplit: 0.9 })[0].message, /leaves no training samples/);
  assert.deepEqual(datasetProblems({ name: 'synthetic/xor', n: 10, validationSplit: 0.1 }), []);
});

test('splitCounts: validation takes round(n·split) of the limited set, as applySplits does', () => {
  assert.deepEqual(splitCounts(60000, undefined, 0.1), { train: 54000, validation: 6000 });
  assert.deepEqual(splitCounts(60000, 1000, 0.25), { train: 750, validation: 250 });
  assert.deepEqual(splitCounts(100, undefined, 0.57), { train: 43, validation: 57 });
  assert.deepEqual(splitCounts(3, undefined, 0.1), { train: 3, validation: 0 });
  assert.deepEqual(splitCounts(10, undefined, 0.15), { train: 8, validation: 2 });
  assert.deepEqual(splitCounts(100, 500), { train: 100, validation: 0 });
});

test('synthetic spirals and blobs need at least one sample per class', () => {
  const problems = datasetProblems({ name: 'synthetic/blobs', n: 3, classes: 4 });
  assert.deepEqual(problems.map((p) => p.pointer), ['/dataset/n']);
  assert.match(problems[0].message, /n = 3 is fewer than one sample per class/);
});
