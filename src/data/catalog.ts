// What Trainyard knows about each data set without reading it: task, input and output
// width, how many samples it has. src/spec uses this to check a spec before anything is
// queued; the loaders use splitCounts so both agree on the split.

import { SYNTHETIC_DEFAULTS, SYNTHETIC_KINDS, type SyntheticKind } from './synthetic.js';
import type { Task } from '../core/dataset.js';
import type { DatasetSpec } from './types.js';

/** Same shape as src/spec's Problem: a JSON pointer into the job spec and one sentence. */
export interface DatasetProblem { pointer: string; message: string }

export interface DatasetDescription {
  task: Task;
  inputSize: number;
  /** classes (classification) or target width (regression) */
  outputSize: number;
  /** samples in the stored training set, before `limit` and `validationSplit` */
  trainSize: number;
  /** samples in the official test split; 0 when there is none */
  testSize: number;
}

export { SYNTHETIC_DEFAULTS, SYNTHETIC_KINDS, type SyntheticKind };

const IMAGE_SETS: Record<string, DatasetDescription> = {
  'mnist': { task: 'classification', inputSize: 784, outputSize: 10, trainSize: 60_000, testSize: 10_000 },
  'fashion-mnist': { task: 'classification', inputSize: 784, outputSize: 10, trainSize: 60_000, testSize: 10_000 },
};

const SYNTHETIC_ONLY = ['n', 'noise', 'classes', 'seed'] as const;
const INLINE_ONLY = ['features', 'labels'] as const;
const MAX_LISTED = 5;

/**
 * Training and validation sample counts after `limit` and `validationSplit`, exactly
 * as applySplits (split.ts) cuts them: the last round(n·split) of the first `limit`.
 */
export function splitCounts(trainSize: number, limit?: number, validationSplit = 0): { train: number; validation: number } {
  const n = limit === undefined ? trainSize : Math.min(limit, trainSize);
  const validation = Math.round(n * validationSplit);
  return { train: n - validation, validation };
}

/** The task, sizes and widths of a data set, or the first problem that prevents knowing them. */
export function describeDataset(spec: DatasetSpec): DatasetDescription | { error: DatasetProblem } {
  const image = Object.hasOwn(IMAGE_SETS, spec.name) ? IMAGE_SETS[spec.name] : undefined;
  if (image) return { ...image };

  if (spec.name.startsWith('synthetic/')) {
    const kind = spec.name.slice('synthetic/'.length);
    if (!(SYNTHETIC_KINDS as readonly string[]).includes(kind)) {
      return { error: { pointer: '/dataset/name', message: `unknown synthetic data set '${kind}'; use one of ${SYNTHETIC_KINDS.join(', ')}` } };
    }
    const n = spec.n ?? SYNTHETIC_DEFAULTS.n;
    if (kind === 'regression') return { task: 'regression', inputSize: 1, outputSize: 1, trainSize: n, testSize: 0 };
    const classes = kind === 'xor' ? 2 : spec.classes ?? SYNTHETIC_DEFAULTS.classes;
    return { task: 'classification', inputSize: 2, outputSize: classes, trainSize: n, testSize: 0 };
  }

  if (spec.name === 'inline') return describeInline(spec);

  return {
    error: {
      pointer: '/dataset/name',
      message: `unknown data set '${spec.name}'; use mnist, fashion-mnist, inline or synthetic/<${SYNTHETIC_KINDS.join('|')}>`,
    },
  };
}

/**
 * Every problem with the `dataset` part of a spec on its own: the name, fields that
 * do not apply to this data set, inline arrays that do not line up, a limit beyond
 * the data, a split that leaves a side empty.
 */
export function datasetProblems(spec: DatasetSpec): DatasetProblem[] {
  const problems: DatasetProblem[] = [];
  const isSynthetic = spec.name.startsWith('synthetic/');
  const isInline = spec.name === 'inline';

  if (!isSynthetic) {
    for (const field of SYNTHETIC_ONLY) {
      if (spec[field] !== undefined) {
        problems.push({ pointer: `/dataset/${field}`, message: `'${field}' only applies to synthetic data sets, not ${spec.name}` });
      }
    }
  } else if (spec.classes !== undefined && (spec.name === 'synthetic/xor' || spec.name === 'synthetic/regression')) {
    problems.push({
      pointer: '/dataset/classes',
      message: spec.name === 'synthetic/xor'
        ? `synthetic/xor always has 2 classes, so 'classes' cannot be ${spec.classes}`
        : `synthetic/regression has no classes (its target is one number); remove 'classes'`,
    });
  }
  if (isSynthetic && (spec.name === 'synthetic/spirals' || spec.name === 'synthetic/blobs')) {
    const n = spec.n ?? SYNTHETIC_DEFAULTS.n;
    const classes = spec.classes ?? SYNTHETIC_DEFAULTS.classes;
    if (n < classes) {
      problems.push({ pointer: '/dataset/n', message: `n = ${n} is fewer than one sample per class (${spec.name} has ${classes} classes)` });
    }
  }
  if (!isInline) {
    for (const field of INLINE_ONLY) {
      if (spec[field] !== undefined) {
        problems.push({ pointer: `/dataset/${field}`, message: `'${field}' only applies to the inline data set, not ${spec.name}` });
      }
    }
  }

  const description = isInline ? describeInline(spec, problems) : describeDataset(spec);
  if ('error' in description) {
    if (!isInline) problems.push(description.error);
    return problems;
  }

  if (spec.limit !== undefined && spec.limit > description.trainSize) {
    problems.push({
      pointer: '/dataset/limit',
      message: `limit is ${spec.limit} but ${spec.name} has only ${description.trainSize} training samples`,
    });
  }
  const split = spec.validationSplit ?? 0;
  if (split > 0) {
    const { train, validation } = splitCounts(description.trainSize, spec.limit, split);
    const n = train + validation;
    if (validation === 0 || train === 0) {
      problems.push({
        pointer: '/dataset/validationSplit',
        message: `validationSplit ${split} of ${n} samples leaves no ${validation === 0 ? 'validation' : 'training'} samples`,
      });
    }
  }
  return problems;
}

/**
 * Inline data: integer labels are class indices (classes = largest + 1), number
 * arrays are regression targets. Collects every problem into `sink` when given;
 * answers the first one as the error.
 */
function describeInline(spec: DatasetSpec, sink: DatasetProblem[] = []): DatasetDescription | { error: DatasetProblem } {
  const found: DatasetProblem[] = [];
  const { features, labels } = spec;

  let inputSize = 0;
  if (features === undefined) {
    found.push({ pointer: '/dataset/features', message: "the inline data set needs 'features', one number array per sample" });
  } else if (features.length === 0) {
    found.push({ pointer: '/dataset/features', message: 'features is empty; the inline data set needs at least one sample' });
  } else {
    inputSize = features[0].length;
    if (inputSize === 0) found.push({ pointer: '/dataset/features/0', message: 'the first sample has no features' });
    let listed = 0;
    for (let i = 1; i < features.length && listed < MAX_LISTED; i++) {
      if (features[i].length !== inputSize) {
        found.push({
          pointer: `/dataset/features/${i}`,
          message: `sample ${i} has ${features[i].length} features but sample 0 has ${inputSize}; all rows must be the same length`,
        });
        listed++;
      }
    }
  }

  let task: Task = 'classification';
  let outputSize = 0;
  if (labels === undefined) {
    found.push({ pointer: '/dataset/labels', message: "the inline data set needs 'labels', one per sample" });
  } else {
    if (features !== undefined && labels.length !== features.length) {
      found.push({
        pointer: '/dataset/labels',
        message: `there are ${labels.length} labels but ${features.length} feature rows; give one label per sample`,
      });
    }
    if (labels.length > 0 && Array.isArray(labels[0])) {
      task = 'regression';
      const rows = labels as number[][];
      outputSize = rows[0].length;
      if (outputSize === 0) found.push({ pointer: '/dataset/labels/0', message: 'the first target array is empty' });
      let listed = 0;
      for (let i = 1; i < rows.length && listed < MAX_LISTED; i++) {
        if (!Array.isArray(rows[i]) || rows[i].length !== outputSize) {
          found.push({
            pointer: `/dataset/labels/${i}`,
            message: Array.isArray(rows[i])
              ? `target ${i} has ${rows[i].length} numbers but target 0 has ${outputSize}; all targets must be the same length`
              : `label ${i} is a number but label 0 is an array; use class indices or target arrays, not both`,
          });
          listed++;
        }
      }
    } else if (labels.length > 0) {
      const classes = labels as number[];
      let max = -1;
      let listed = 0;
      for (let i = 0; i < classes.length; i++) {
        const c = classes[i];
        if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) {
          if (listed++ < MAX_LISTED) {
            found.push({
              pointer: `/dataset/labels/${i}`,
              message: `label ${i} is ${JSON.stringify(c)}, not a class index (an integer ≥ 0); for regression give every label as a number array, e.g. [${typeof c === 'number' ? c : 0.5}]`,
            });
          }
        } else if (c > max) {
          max = c;
        }
      }
      outputSize = max + 1;
      if (listed === 0 && outputSize < 2) {
        found.push({ pointer: '/dataset/labels', message: `all labels are class ${max}; a classifier needs at least 2 classes` });
      }
    }
  }

  sink.push(...found);
  if (found.length > 0) return { error: found[0] };
  return { task, inputSize, outputSize, trainSize: features!.length, testSize: 0 };
}
