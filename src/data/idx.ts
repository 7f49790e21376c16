// IDX reader (the format of the MNIST family, http://yann.lecun.com/exdb/mnist/):
//   u32 BE magic = 0x0000 | type 0x08 (unsigned byte) | number of dims
//   u32 BE size of each dim
//   the bytes, row-major
// Only the unsigned-byte type is read, which is all MNIST and Fashion-MNIST use:
// magic 2051 (0x0803) for images (n, rows, cols), 2049 (0x0801) for labels (n).

import { DatasetError } from './errors.js';
import type { Split } from '../core/dataset.js';

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

export interface IdxImages {
  /** samples actually read (≤ the count in the file when `limit` is given) */
  n: number;
  rows: number;
  cols: number;
  /** (n, rows·cols) row-major, pixel/255 in [0, 1] */
  x: Float32Array;
}

export interface IdxReadOptions {
  /** read only the first `limit` samples (the file is still checked whole) */
  limit?: number;
  /** file name or description used in error messages */
  source?: string;
}

// x/255 for every byte value, rounded to float32 once: a table lookup per pixel is
// the fastest conversion V8 offers and gives exactly Math.fround(b / 255).
const SCALE = new Float32Array(256);
for (let b = 0; b < 256; b++) SCALE[b] = b / 255;

function corrupt(source: string, why: string): DatasetError {
  return new DatasetError('DATASET_CORRUPT', `${source} is not a valid IDX file: ${why}`);
}

// Reads magic and dims; checks that the payload is exactly the size the dims say,
// so a truncated download or a file with trailing garbage is rejected, not half-read.
function readHeader(bytes: Uint8Array, magic: number, dims: number, source: string): number[] {
  const headerBytes = 4 + 4 * dims;
  if (bytes.length < headerBytes) {
    throw corrupt(source, `${bytes.length} bytes is shorter than the ${headerBytes}-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0, false);
  if (found !== magic) {
    const what = magic === IDX_IMAGES_MAGIC ? 'images' : 'labels';
    throw corrupt(source, `magic number ${found}, expected ${magic} (${what})`);
  }
  const sizes: number[] = [];
  for (let d = 0; d < dims; d++) sizes.push(view.getUint32(4 + 4 * d, false));
  const payload = sizes.reduce((a, s) => a * s, 1);
  if (bytes.length !== headerBytes + payload) {
    throw corrupt(source, `dims [${sizes.join(', ')}] need ${headerBytes + payload} bytes, file has ${bytes.length}`);
  }
  return sizes;
}

function samplesToRead(count: number, limit: number | undefined): number {
  if (limit === undefined) return count;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new DatasetError('DATASET_INVALID', `limit must be a non-negative integer, got ${limit}`);
  }
  return Math.min(limit, count);
}

/** Parses an IDX3 unsigned-byte image file into pixel/255 floats. */
export function parseIdxImages(bytes: Uint8Array, options: IdxReadOptions = {}): IdxImages {
  const source = options.source ?? 'images';
  const [count, rows, cols] = readHeader(bytes, IDX_IMAGES_MAGIC, 3, source);
  const n = samplesToRead(count, options.limit);
  const len = n * rows * cols;
  // on a SharedArrayBuffer: a pool's threads read the cached images where they are
  // instead of each run copying its training split into the run's memory (src/core/pool.ts)
  const x = new Float32Array(new SharedArrayBuffer(len * 4));
  const pixels = bytes.subarray(16, 16 + len);
  for (let i = 0; i < len; i++) x[i] = SCALE[pixels[i]];
  return { n, rows, cols, x };
}

/** Parses an IDX1 unsigned-byte label file into class indices. */
export function parseIdxLabels(bytes: Uint8Array, options: IdxReadOptions = {}): Int32Array {
  const source = options.source ?? 'labels';
  const [count] = readHeader(bytes, IDX_LABELS_MAGIC, 1, source);
  const n = samplesToRead(count, options.limit);
  const out = new Int32Array(new SharedArrayBuffer(n * 4));
  out.set(bytes.subarray(8, 8 + n)); // widens natively, no JS loop
  return out;
}

/**
 * Parses a matching images + labels pair into one Split and checks they agree:
 * same sample count, and every label below `classes`.
 */
export function parseIdxSplit(
  images: Uint8Array,
  labels: Uint8Array,
  options: { classes: number; limit?: number; imagesSource?: string; labelsSource?: string },
): Split & { rows: number; cols: number } {
  const img = parseIdxImages(images, { limit: options.limit, source: options.imagesSource });
  const lab = parseIdxLabels(labels, { limit: options.limit, source: options.labelsSource });
  if (lab.length !== img.n) {
    throw new DatasetError(
      'DATASET_CORRUPT',
      `${options.imagesSource ?? 'images'} has ${img.n} samples but ${options.labelsSource ?? 'labels'} has ${lab.length}`,
    );
  }
  for (let i = 0; i < lab.length; i++) {
    if (lab[i] >= options.classes) {
      throw new DatasetError(
        'DATASET_CORRUPT',
        `${options.labelsSource ?? 'labels'}: sample ${i} has label ${lab[i]}, expected 0..${options.classes - 1}`,
      );
    }
  }
  return { n: img.n, x: img.x, labels: lab, rows: img.rows, cols: img.cols };
}

/** The official train and test splits of an IDX image dataset (MNIST family). */
export interface IdxDataset {
  /** rows·cols, 784 for the MNIST family */
  inputSize: number;
  classes: number;
  train: Split;
  test: Split;
}

/** The four files of the MNIST family, by their original names. */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** Parses the four files of an MNIST-family dataset (already read and decompressed). */
export function parseIdxDataset(
  files: Record<keyof typeof IDX_FILES, Uint8Array>,
  options: { classes: number; sourcePrefix?: string },
): IdxDataset {
  const prefix = options.sourcePrefix ?? '';
  const train = parseIdxSplit(files.trainImages, files.trainLabels, {
    classes: options.classes,
    imagesSource: prefix + IDX_FILES.trainImages,
    labelsSource: prefix + IDX_FILES.trainLabels,
  });
  const test = parseIdxSplit(files.testImages, files.testLabels, {
    classes: options.classes,
    imagesSource: prefix + IDX_FILES.testImages,
    labelsSource: prefix + IDX_FILES.testLabels,
  });
  const inputSize = train.rows * train.cols;
  if (test.rows * test.cols !== inputSize) {
    throw new DatasetError(
      'DATASET_CORRUPT',
      `${prefix}: train images are ${train.rows}×${train.cols} but test images are ${test.rows}×${test.cols}`,
    );
  }
  return {
    inputSize,
    classes: options.classes,
    train: { n: train.n, x: train.x, labels: train.labels },
    test: { n: test.n, x: test.x, labels: test.labels },
  };
}
