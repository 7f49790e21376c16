// limit and validationSplit, as Keras defines validation_split: deterministic, no
// shuffle — the first `limit` samples as stored, of which the LAST
// round(n·validationSplit) are held out. Splits are subarray views of the source
// arrays, never copies, so callers must treat them as read-only.

import { DatasetError } from './errors.js';
import type { Dataset, Split } from '../core/dataset.js';

/** Rows [start, end) of a split as views; inputSize and the target width give the row strides. */
export function sliceSplit(split: Split, start: number, end: number, inputSize: number, targetWidth: number): Split {
  const out: Split = { n: end - start, x: split.x.subarray(start * inputSize, end * inputSize) };
  if (split.labels) out.labels = split.labels.subarray(start, end);
  if (split.targets) out.targets = split.targets.subarray(start * targetWidth, end * targetWidth);
  return out;
}

export interface SplitOptions {
  /** keep only the first `limit` training samples (all of them when limit ≥ n) */
  limit?: number;
  /** fraction in [0, 1) of the limited training set held out, from its end */
  validationSplit?: number;
}

/** Returns the dataset with `limit` and `validationSplit` applied to its train split. */
export function applySplits(ds: Dataset, options: SplitOptions): Dataset {
  const { limit, validationSplit = 0 } = options;
  let n = ds.train.n;
  if (limit !== undefined) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new DatasetError('DATASET_INVALID', `${ds.name}: limit must be a positive integer, got ${limit}`);
    }
    n = Math.min(n, limit);
  }
  if (!(validationSplit >= 0 && validationSplit < 1)) {
    throw new DatasetError('DATASET_INVALID', `${ds.name}: validationSplit must be in [0, 1), got ${validationSplit}`);
  }
  const nVal = Math.round(n * validationSplit);
  if (validationSplit > 0 && nVal === 0) {
    throw new DatasetError(
      'DATASET_INVALID',
      `${ds.name}: validationSplit ${validationSplit} of ${n} samples holds out no sample; raise it or the number of samples`,
    );
  }
  if (nVal >= n) {
    throw new DatasetError(
      'DATASET_INVALID',
      `${ds.name}: validationSplit ${validationSplit} of ${n} samples leaves no training sample`,
    );
  }
  const targetWidth = ds.task === 'regression' ? ds.outputSize : 0;
  const out: Dataset = { ...ds, train: sliceSplit(ds.train, 0, n - nVal, ds.inputSize, targetWidth) };
  if (nVal > 0) out.validation = sliceSplit(ds.train, n - nVal, n, ds.inputSize, targetWidth);
  else delete out.validation;
  return out;
}
