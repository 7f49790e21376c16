// Data sent inside the job spec: `features` (one number array per sample) and
// `labels`, either class indices (classification, outputSize = max label + 1) or
// number arrays (regression targets). src/spec validates shapes with JSON pointers
// for the API; this loader still refuses inconsistent input, since a worker may be
// handed a spec from elsewhere and must not train on garbage.

import { DatasetError } from './errors.js';
import type { Dataset } from '../core/dataset.js';

function invalid(message: string): DatasetError {
  return new DatasetError('DATASET_INVALID', `inline: ${message}`);
}

// Copies rows of equal width into one flat row-major array.
function flatten(rows: readonly unknown[], what: string): { width: number; data: Float32Array } {
  const first = rows[0];
  if (!Array.isArray(first) || first.length === 0) throw invalid(`${what}[0] must be a non-empty array of numbers`);
  const width = first.length;
  const data = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!Array.isArray(row)) throw invalid(`${what}[${i}] must be an array of numbers`);
    if (row.length !== width) throw invalid(`${what}[${i}] has ${row.length} values, ${what}[0] has ${width}`);
    for (let j = 0; j < width; j++) {
      const v = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${what}[${i}][${j}] is not a finite number`);
      data[i * width + j] = v;
    }
  }
  return { width, data };
}

export function loadInline(features: unknown, labels: unknown): Dataset {
  if (!Array.isArray(features) || features.length === 0) throw invalid('features must be a non-empty array of samples');
  if (!Array.isArray(labels)) throw invalid('labels must be an array (class indices or number arrays)');
  const n = features.length;
  if (labels.length !== n) throw invalid(`${n} samples in features but ${labels.length} labels`);
  const { width: inputSize, data: x } = flatten(features, 'features');

  if (Array.isArray(labels[0])) {
    const { width: outputSize, data: targets } = flatten(labels, 'labels');
    return { name: 'inline', task: 'regression', inputSize, outputSize, train: { n, x, targets } };
  }

  const classes = new Int32Array(n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) {
      throw invalid(`labels[${i}] must be a class index (an integer ≥ 0) like labels[0], got ${JSON.stringify(c)}`);
    }
    classes[i] = c;
    if (c > max) max = c;
  }
  return { name: 'inline', task: 'classification', inputSize, outputSize: max + 1, train: { n, x, labels: classes } };
}
