import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DatasetError } from '../../../src/data/errors.js';
import { FASHION_MNIST_DEFAULT_DIR, findFashionMnistDir, readFashionMnist } from '../../../src/data/fashion-mnist.js';
import { IDX_FILES, parseIdxImages, parseIdxLabels } from '../../../src/data/idx.js';
import { clearDatasetCache, loadDataset } from '../../../src/data/load.js';
import { idxImages, idxLabels } from './idx-fixtures.js';

const tmp = (t: { after(fn: () => void): void }) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'trainyard-fashion-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

// Four tiny files in the real layout: 6 train and 2 test images of 2×2 pixels.
function writeFixture(dir: string, gzip: boolean): void {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, Uint8Array> = {
    [IDX_FILES.trainImages]: idxImages(6, 2, 2, (i) => i * 10),
    [IDX_FILES.trainLabels]: idxLabels([9, 0, 0, 3, 2, 7]),
    [IDX_FILES.testImages]: idxImages(2, 2, 2, () => 255),
    [IDX_FILES.testLabels]: idxLabels([9, 2]),
  };
  for (const [name, bytes] of Object.entries(files)) {
    writeFileSync(path.join(dir, gzip ? name + '.gz' : name), gzip ? gzipSync(bytes) : bytes);
  }
}

test('a DATA_DIR without fashion-mnist gives an error that says where it looked and how to install', (t) => {
  const dir = tmp(t);
  assert.throws(
    () => loadDataset({ name: 'fashion-mnist' }, { dataDir: dir }),
    (e: unknown) => {
      assert.ok(e instanceof DatasetError);
      assert.equal(e.code, 'DATASET_NOT_INSTALLED');
      assert.match(e.message, /fashion-mnist is not installed/);
      assert.ok(e.message.includes(path.join(dir, 'fashion-mnist')), e.message);
      assert.ok(e.message.includes(`and ${dir};`), e.message);
      assert.match(e.message, /train-images-idx3-ubyte\.gz/);
      assert.match(e.message, /apt-get install dataset-fashion-mnist/);
      return true;
    },
  );
});

test('gzipped files in <DATA_DIR>/fashion-mnist/ load with their test split', (t) => {
  const dir = tmp(t);
  writeFixture(path.join(dir, 'fashion-mnist'), true);
  clearDatasetCache();
  const ds = loadDataset({ name: 'fashion-mnist', validationSplit: 1 / 3 }, { dataDir: dir });
  assert.equal(ds.inputSize, 4);
  assert.equal(ds.outputSize, 10);
  assert.deepEqual([...ds.train.labels!], [9, 0, 0, 3]);
  assert.deepEqual([...ds.validation!.labels!], [2, 7]);
  assert.deepEqual([...ds.test!.x], new Array(8).fill(1));
  assert.equal(ds.train.x[1], Math.fround(10 / 255));
});

test('uncompressed files directly in DATA_DIR are found too', (t) => {
  const dir = tmp(t);
  writeFixture(dir, false);
  assert.equal(findFashionMnistDir({ dataDir: dir }), dir);
  assert.equal(readFashionMnist({ dataDir: dir }).train.n, 6);
});

test('a damaged gzip file is DATASET_CORRUPT, not "not installed"', (t) => {
  const dir = tmp(t);
  writeFixture(dir, true);
  const file = path.join(dir, IDX_FILES.trainLabels + '.gz');
  const bytes = readFileSync(file);
  writeFileSync(file, bytes.subarray(0, bytes.length - 6));
  assert.throws(
    () => readFashionMnist({ dataDir: dir }),
    (e: unknown) => e instanceof DatasetError && e.code === 'DATASET_CORRUPT' && /train-labels-idx1-ubyte\.gz is not a valid gzip file/.test(e.message),
  );
});

const installed = existsSync(path.join(FASHION_MNIST_DEFAULT_DIR, IDX_FILES.testLabels + '.gz'));

test(
  'the Debian package files parse: 10000 test images, 1000 per class, the first an ankle boot (9)',
  { skip: installed ? false : `dataset-fashion-mnist is not installed (${FASHION_MNIST_DEFAULT_DIR})` },
  () => {
    // The test split only: gunzipping the 60k training images would cost most of the unit-test budget.
    const dir = findFashionMnistDir();
    const labels = parseIdxLabels(gunzipSync(readFileSync(path.join(dir, IDX_FILES.testLabels + '.gz'))));
    const images = parseIdxImages(gunzipSync(readFileSync(path.join(dir, IDX_FILES.testImages + '.gz'))));
    assert.equal(labels.length, 10000);
    assert.equal(images.n, 10000);
    assert.equal(images.rows * images.cols, 784);
    assert.equal(labels[0], 9);
    const counts = new Array(10).fill(0);
    for (const c of labels) counts[c]++;
    assert.deepEqual(counts, new Array(10).fill(1000));
  },
);
