import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DatasetError } from '../../../src/data/errors.js';
import { IDX_FILES, parseIdxImages, parseIdxLabels, parseIdxSplit } from '../../../src/data/idx.js';
import { mnistDataDir } from '../../../src/data/mnist.js';
import { idxImages, idxLabels } from './idx-fixtures.js';

const corrupt = (message: RegExp) => (err: unknown) =>
  err instanceof DatasetError && err.code === 'DATASET_CORRUPT' && message.test(err.message);

test('MNIST train labels: 60000, the first is 5, and the known class counts', () => {
  const labels = parseIdxLabels(readFileSync(path.join(mnistDataDir(), IDX_FILES.trainLabels)));
  assert.equal(labels.length, 60000);
  assert.deepEqual([...labels.subarray(0, 10)], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  const counts = new Array(10).fill(0);
  for (const c of labels) counts[c]++;
  assert.deepEqual(counts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
});

test('images convert every byte value to exactly fround(b / 255)', () => {
  const { x } = parseIdxImages(idxImages(1, 16, 16, (i) => i));
  for (let b = 0; b < 256; b++) assert.equal(x[b], Math.fround(b / 255));
});

test('limit reads only the first samples, and never more than the file has', () => {
  const file = idxImages(5, 2, 2, (i) => i);
  const two = parseIdxImages(file, { limit: 2 });
  assert.equal(two.n, 2);
  assert.deepEqual([...two.x].map((v) => Math.round(v * 255)), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(parseIdxImages(file, { limit: 99 }).n, 5);
  assert.deepEqual([...parseIdxLabels(idxLabels([3, 1, 4, 1]), { limit: 3 })], [3, 1, 4]);
});

test('corrupt IDX files are rejected with DATASET_CORRUPT and the reason', () => {
  const good = idxImages(3, 2, 2, () => 7);
  assert.throws(() => parseIdxImages(good.subarray(0, 10), { source: 'imgs' }), corrupt(/^imgs is not a valid IDX file: 10 bytes is shorter than the 16-byte header/));
  assert.throws(() => parseIdxImages(good.subarray(0, good.length - 1)), corrupt(/dims \[3, 2, 2\] need 28 bytes, file has 27/));
  const longer = new Uint8Array(good.length + 1);
  longer.set(good);
  assert.throws(() => parseIdxImages(longer), corrupt(/need 28 bytes, file has 29/));
  assert.throws(() => parseIdxImages(idxLabels([1, 2, 3, 4, 5, 6, 7, 8, 9, 0])), corrupt(/magic number 2049, expected 2051 \(images\)/));
  assert.throws(() => parseIdxLabels(good), corrupt(/magic number 2051, expected 2049 \(labels\)/));
  assert.throws(() => parseIdxLabels(new Uint8Array(3)), corrupt(/shorter than the 8-byte header/));
});

test('an images/labels pair must agree on the count and stay below the class count', () => {
  const images = idxImages(3, 2, 2, () => 0);
  assert.throws(
    () => parseIdxSplit(images, idxLabels([0, 1]), { classes: 10, imagesSource: 'a', labelsSource: 'b' }),
    corrupt(/a has 3 samples but b has 2/),
  );
  assert.throws(() => parseIdxSplit(images, idxLabels([0, 1, 10]), { classes: 10 }), corrupt(/sample 2 has label 10, expected 0\.\.9/));
  const ok = parseIdxSplit(images, idxLabels([0, 9, 4]), { classes: 10 });
  assert.deepEqual([...ok.labels!], [0, 9, 4]);
  assert.equal(ok.n, 3);
});
