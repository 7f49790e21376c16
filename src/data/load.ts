// The one entry point the workers (and src/spec, for dataset facts) use:
// loadDataset(spec.dataset, { dataDir: config.DATA_DIR }).
//
// Parsed MNIST-family files are cached per process: a worker that trains many jobs
// reads and converts the 70,000 images once. Every Dataset returned shares those
// arrays (splits are subarray views), so callers must treat x, labels and targets
// as READ-ONLY — writing to them would corrupt every later job in the process.

import { DatasetError } from './errors.js';
import { findFashionMnistDir, readFashionMnist } from './fashion-mnist.js';
import type { IdxDataset } from './idx.js';
import { loadInline } from './inline.js';
import { readMnist } from './mnist.js';
import { applySplits } from './split.js';
import { generateSynthetic, SYNTHETIC_KINDS } from './synthetic.js';
import type { Dataset } from '../core/dataset.js';
import type { DatasetSpec } from './types.js';

export interface LoadDatasetOptions {
  /** DATA_DIR: where optional datasets (fashion-mnist) are installed; default the Debian location */
  dataDir?: string;
}

export const DATASET_NAMES = ['mnist', 'fashion-mnist', ...SYNTHETIC_KINDS.map((k) => `synthetic/${k}`), 'inline'];

const cache = new Map<string, IdxDataset>();

function cached(key: string, read: () => IdxDataset): IdxDataset {
  let ds = cache.get(key);
  if (!ds) {
    ds = read();
    cache.set(key, ds);
  }
  return ds;
}

/** Drops the parsed files (tests, or a long-lived process that wants the memory back). */
export function clearDatasetCache(): void {
  cache.clear();
}

function fromIdx(name: string, idx: IdxDataset): Dataset {
  return { name, task: 'classification', inputSize: idx.inputSize, outputSize: idx.classes, train: idx.train, test: idx.test };
}

function loadFull(spec: DatasetSpec, options: LoadDatasetOptions): Dataset {
  const name = spec.name;
  if (name === 'mnist') return fromIdx(name, cached('mnist', readMnist));
  if (name === 'fashion-mnist') {
    // Resolve the directory every time (cheap) so an install after a failed job is seen.
    const dir = findFashionMnistDir(options);
    return fromIdx(name, cached(`fashion-mnist:${dir}`, () => readFashionMnist({ dataDir: options.dataDir })));
  }
  if (name === 'inline') return loadInline(spec.features, spec.labels);
  if (name.startsWith('synthetic/')) {
    return generateSynthetic(name.slice('synthetic/'.length), {
      n: spec.n, noise: spec.noise, classes: spec.classes, seed: spec.seed,
    });
  }
  throw new DatasetError('DATASET_UNKNOWN', `unknown dataset "${name}"; known: ${DATASET_NAMES.join(', ')}`);
}

/**
 * Loads `spec.name` and applies `limit` then `validationSplit` (the tail of the
 * limited train set). mnist and fashion-mnist also carry their official test split.
 * The returned arrays are shared and must not be written to.
 */
export function loadDataset(spec: DatasetSpec, options: LoadDatasetOptions = {}): Dataset {
  return applySplits(loadFull(spec, options), { limit: spec.limit, validationSplit: spec.validationSplit });
}
