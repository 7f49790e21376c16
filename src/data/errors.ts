// One error class for everything that can go wrong while loading a dataset, with a
// `code` callers switch on: a job whose dataset is not installed or is corrupt can
// never train, so a worker marks it failed instead of retrying (BullMQ's
// UnrecoverableError pattern), and the API maps codes to a 400 / 500.

export type DatasetErrorCode =
  | 'DATASET_NOT_INSTALLED' // files missing on this machine (install a package or set DATA_DIR)
  | 'DATASET_CORRUPT'       // files present but not valid IDX / gzip
  | 'DATASET_UNKNOWN'       // no dataset by that name
  | 'DATASET_INVALID';      // the dataset spec itself is inconsistent (bad n, labels, split…)

export class DatasetError extends Error {
  readonly code: DatasetErrorCode;

  constructor(code: DatasetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatasetError';
    this.code = code;
  }
}
