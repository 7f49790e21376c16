// Fashion-MNIST (Zalando): same IDX layout and sizes as MNIST, 10 clothing classes.
// Debian's `dataset-fashion-mnist` installs the gzipped files in
// /usr/share/datasets/fashion-mnist/. Nothing is downloaded at run time; a machine
// without the files gets an error that says where we looked and how to fix it.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DatasetError } from './errors.js';
import { IDX_FILES, parseIdxDataset, type IdxDataset } from './idx.js';

export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = 10;
/** Class names in label order, as in the Fashion-MNIST README. */
export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

export interface FashionMnistOptions {
  /** the service's DATA_DIR: files are looked for in <dataDir>/fashion-mnist/, then <dataDir> */
  dataDir?: string;
}

/** The directories searched, in order. */
export function fashionMnistCandidateDirs(options: FashionMnistOptions = {}): string[] {
  if (options.dataDir === undefined || options.dataDir === '') return [FASHION_MNIST_DEFAULT_DIR];
  return [path.join(options.dataDir, 'fashion-mnist'), options.dataDir];
}

// A file counts as present gzipped (as Debian ships it) or already decompressed.
function locate(dir: string, name: string): string | undefined {
  for (const file of [path.join(dir, name + '.gz'), path.join(dir, name)]) {
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Finds the directory holding all four files, or throws DATASET_NOT_INSTALLED. */
export function findFashionMnistDir(options: FashionMnistOptions = {}): string {
  const dirs = fashionMnistCandidateDirs(options);
  for (const dir of dirs) {
    if (Object.values(IDX_FILES).every((name) => locate(dir, name) !== undefined)) return dir;
  }
  const fix = options.dataDir === undefined || options.dataDir === ''
    ? 'install it with `apt-get install dataset-fashion-mnist`, or set DATA_DIR to a directory holding the files'
    : 'put the files there, or install `apt-get install dataset-fashion-mnist` and unset DATA_DIR ' +
      `(or set it to ${path.dirname(FASHION_MNIST_DEFAULT_DIR)})`;
  throw new DatasetError(
    'DATASET_NOT_INSTALLED',
    `fashion-mnist is not installed on this machine: looked for ${IDX_FILES.trainImages}.gz ` +
      `(and the other three IDX files) in ${dirs.join(' and ')}; ${fix}`,
  );
}

function readMaybeGzipped(file: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new DatasetError('DATASET_NOT_INSTALLED', `fashion-mnist: cannot read ${file}`, { cause: err });
  }
  // Decide by the gzip magic (1f 8b), not the file name: some mirrors ship the
  // decompressed bytes under the .gz name.
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new DatasetError('DATASET_CORRUPT', `fashion-mnist: ${file} is not a valid gzip file (${(err as Error).message})`, {
      cause: err,
    });
  }
}

/** Reads and parses Fashion-MNIST's 60,000 training and 10,000 test images. */
export function readFashionMnist(options: FashionMnistOptions = {}): IdxDataset {
  const dir = findFashionMnistDir(options);
  const read = (name: string) => readMaybeGzipped(locate(dir, name)!);
  return parseIdxDataset(
    {
      trainImages: read(IDX_FILES.trainImages),
      trainLabels: read(IDX_FILES.trainLabels),
      testImages: read(IDX_FILES.testImages),
      testLabels: read(IDX_FILES.testLabels),
    },
    { classes: FASHION_MNIST_CLASSES, sourcePrefix: dir + path.sep },
  );
}
