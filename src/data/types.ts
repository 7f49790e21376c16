// Datasets as the core consumes them: flat typed arrays, one row per sample.

export type Task = 'classification' | 'regression';

/** Samples of one split. x is (n, inputSize) row-major in [0,1] for images. */
export interface Split {
  n: number;
  x: Float32Array;
  /** classification: class index per sample (n) */
  labels?: Int32Array;
  /** regression: (n, outputSize) row-major targets */
  targets?: Float32Array;
}

export interface Dataset {
  name: string;
  task: Task;
  inputSize: number;
  /** number of classes (classification) or target width (regression) */
  outputSize: number;
  train: Split;
  validation?: Split;
  /** present for datasets with an official test split (mnist, fashion-mnist) */
  test?: Split;
}

/** The `dataset` object of a job spec (DESIGN.md). */
export interface DatasetSpec {
  /** 'mnist' | 'fashion-mnist' | 'synthetic/spirals' | 'synthetic/blobs' | 'synthetic/xor' | 'inline' */
  name: string;
  /** fraction of the (limited) training set held out for validation, default 0 */
  validationSplit?: number;
  /** use only the first `limit` training samples (after a deterministic shuffle? no: the first, as stored) */
  limit?: number;
  /** synthetic: number of samples (default 1000) */
  n?: number;
  /** synthetic: noise level (default 0.1) */
  noise?: number;
  /** synthetic: number of classes (spirals/blobs, default 3; xor is always 2) */
  classes?: number;
  /** synthetic: seed for generation (default 0) */
  seed?: number;
  /** inline: features, one array per sample */
  features?: number[][];
  /** inline: class indices (classification) or number arrays (regression) */
  labels?: number[] | number[][];
}
