// Datasets as the core consumes them: flat typed arrays, one row per sample. The
// loaders in src/data produce these; the core defines them because it is the one
// that reads them (core ← data).

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
