// Small 2-D datasets for trying activations, optimizers and regularizers in
// seconds, generated from the counter-based RNG so that (kind, n, noise, classes,
// seed) always gives the same arrays, on any machine and in any worker.
//
// Classification sets are built class by class (exactly balanced: class c gets
// ⌊n/k⌋ samples, one more for c < n mod k) and then the rows are permuted, so a
// validation split taken from the tail sees every class, not just the last one.

import { normal, permute, Stream, uniform } from '../core/rng.js';
import { DatasetError } from './errors.js';
import type { Dataset } from '../core/dataset.js';

export const SYNTHETIC_KINDS = ['spirals', 'blobs', 'xor', 'regression'] as const;
export type SyntheticKind = (typeof SYNTHETIC_KINDS)[number];

export interface SyntheticOptions {
  /** number of samples, default 1000 */
  n?: number;
  /** standard deviation of the Gaussian noise added to every input coordinate (regression: to y), default 0.1 */
  noise?: number;
  /** spirals and blobs: number of classes, default 3; xor is always 2; regression has none */
  classes?: number;
  /** generation seed, default 0 */
  seed?: number;
}

export const SYNTHETIC_DEFAULTS = { n: 1000, noise: 0.1, classes: 3, seed: 0 } as const;

// Counter layout in Stream.data: a = sample index (class-major), b = purpose,
// c = coordinate. The row permutation uses a = PERMUTE_KEY, above any sample index.
const DRAW_POSITION = 1;
const DRAW_NOISE = 2;
const PERMUTE_KEY = 0x7fffffff;
// One arm of a spiral turns 4 radians from the centre to radius 1 (cs231n's spirals).
const SPIRAL_TURN = 4;

function invalid(message: string): DatasetError {
  return new DatasetError('DATASET_INVALID', message);
}

interface Resolved { n: number; noise: number; classes: number; seed: number }

function resolve(kind: SyntheticKind, o: SyntheticOptions): Resolved {
  const n = o.n ?? SYNTHETIC_DEFAULTS.n;
  const noise = o.noise ?? SYNTHETIC_DEFAULTS.noise;
  const seed = o.seed ?? SYNTHETIC_DEFAULTS.seed;
  let classes: number;
  if (kind === 'xor') {
    if (o.classes !== undefined && o.classes !== 2) {
      throw invalid(`synthetic/xor always has 2 classes, got classes = ${o.classes}`);
    }
    classes = 2;
  } else if (kind === 'regression') {
    if (o.classes !== undefined) throw invalid('synthetic/regression is a regression set and takes no classes');
    classes = 0;
  } else {
    classes = o.classes ?? SYNTHETIC_DEFAULTS.classes;
    if (!Number.isInteger(classes) || classes < 2) {
      throw invalid(`synthetic/${kind}: classes must be an integer ≥ 2, got ${classes}`);
    }
  }
  if (!Number.isInteger(n) || n < 1) throw invalid(`synthetic/${kind}: n must be a positive integer, got ${n}`);
  if (classes > 0 && n < classes) throw invalid(`synthetic/${kind}: n = ${n} is fewer than one sample per class (${classes})`);
  if (!Number.isFinite(noise) || noise < 0) throw invalid(`synthetic/${kind}: noise must be ≥ 0, got ${noise}`);
  if (!Number.isInteger(seed)) throw invalid(`synthetic/${kind}: seed must be an integer, got ${seed}`);
  return { n, noise, classes, seed: seed >>> 0 };
}

/**
 * Fills x (n, 2) and labels (n) class by class through `point`, which writes sample
 * i's noiseless coordinates given its class c and its index m among nc samples of
 * that class; then adds noise and scatters rows into a seeded permutation.
 */
function classification(
  kind: SyntheticKind,
  r: Resolved,
  point: (out: Float64Array, i: number, c: number, m: number, nc: number) => void,
): Dataset {
  const { n, noise, classes: k, seed } = r;
  const x = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  const row = permute(new Int32Array(n), n, seed, Stream.data, PERMUTE_KEY);
  const p = new Float64Array(2);
  let i = 0;
  for (let c = 0; c < k; c++) {
    const nc = Math.floor(n / k) + (c < n % k ? 1 : 0);
    for (let m = 0; m < nc; m++, i++) {
      point(p, i, c, m, nc);
      const dst = row[i];
      x[2 * dst] = p[0] + noise * normal(seed, Stream.data, i, DRAW_NOISE, 0);
      x[2 * dst + 1] = p[1] + noise * normal(seed, Stream.data, i, DRAW_NOISE, 1);
      labels[dst] = c;
    }
  }
  return { name: `synthetic/${kind}`, task: 'classification', inputSize: 2, outputSize: k, train: { n, x, labels } };
}

/** k spiral arms from the centre: arm c starts at angle 2πc/k and turns 4 rad out to radius 1. */
export function spirals(options: SyntheticOptions = {}): Dataset {
  const r = resolve('spirals', options);
  return classification('spirals', r, (p, _i, c, m, nc) => {
    const radius = nc > 1 ? m / (nc - 1) : 0;
    const t = (2 * Math.PI * c) / r.classes + SPIRAL_TURN * radius;
    p[0] = radius * Math.sin(t);
    p[1] = radius * Math.cos(t);
  });
}

/** k isotropic Gaussian blobs (std = noise) centred evenly on the unit circle. */
export function blobs(options: SyntheticOptions = {}): Dataset {
  const r = resolve('blobs', options);
  return classification('blobs', r, (p, _i, c) => {
    const a = (2 * Math.PI * c) / r.classes;
    p[0] = Math.cos(a);
    p[1] = Math.sin(a);
  });
}

/** Points uniform in [-1, 1]²; class 1 where the signs of x and y differ (then noise). */
export function xor(options: SyntheticOptions = {}): Dataset {
  const r = resolve('xor', options);
  return classification('xor', r, (p, i, c, m) => {
    // Class 0 alternates quadrants (+,+)/(−,−), class 1 (+,−)/(−,+): exactly balanced.
    const sx = m % 2 === 0 ? 1 : -1;
    const sy = c === 0 ? sx : -sx;
    p[0] = sx * (1 - uniform(r.seed, Stream.data, i, DRAW_POSITION, 0));
    p[1] = sy * (1 - uniform(r.seed, Stream.data, i, DRAW_POSITION, 1));
  });
}

/** y = sin(x) + noise·N(0, 1) with x uniform in [-π, π): one input, one output, for MSE. */
export function regression(options: SyntheticOptions = {}): Dataset {
  const { n, noise, seed } = resolve('regression', options);
  const x = new Float32Array(n);
  const targets = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const xi = Math.PI * (2 * uniform(seed, Stream.data, i, DRAW_POSITION, 0) - 1);
    x[i] = xi;
    targets[i] = Math.sin(xi) + noise * normal(seed, Stream.data, i, DRAW_NOISE, 0);
  }
  return { name: 'synthetic/regression', task: 'regression', inputSize: 1, outputSize: 1, train: { n, x, targets } };
}

const GENERATORS: Record<SyntheticKind, (o: SyntheticOptions) => Dataset> = { spirals, blobs, xor, regression };

export function isSyntheticKind(kind: string): kind is SyntheticKind {
  return (SYNTHETIC_KINDS as readonly string[]).includes(kind);
}

/** Generates `synthetic/<kind>` (train split only; load.ts applies limit and validationSplit). */
export function generateSynthetic(kind: string, options: SyntheticOptions = {}): Dataset {
  if (!isSyntheticKind(kind)) {
    throw new DatasetError(
      'DATASET_UNKNOWN',
      `unknown synthetic dataset "synthetic/${kind}"; known: ${SYNTHETIC_KINDS.map((k) => 'synthetic/' + k).join(', ')}`,
    );
  }
  return GENERATORS[kind](options);
}
