// The reference workload of BENCHMARKS.md, shared by bench/core.ts (the driver) and its
// contender processes (core-ours.ts, core-tfjs.ts; pytorch_reference.py mirrors it):
// MNIST, 784-256-256-10 ReLU, softmax cross-entropy, Adam 1e-3, batch 128; and two
// other shapes of the same task (`--workload wide|deep`) so the speed is known beyond one.
//
// A contender process prints progress to stderr and exactly one line to stdout:
// `RESULT <json of ContenderResult>`.

export const INPUT = 784;
export const HIDDEN = [256, 256];
export const CLASSES = 10;
export const BATCH_SIZE = 128;
export const LEARNING_RATE = 1e-3;
export const SEED = 42;

/** Hidden ReLU layers of each workload: reference 784-256-256-10, wide 784-1024-1024-10, deep 784-8×256-10. */
export const WORKLOADS: Record<string, number[]> = {
  reference: HIDDEN,
  wide: [1024, 1024],
  deep: Array.from({ length: 8 }, () => 256),
};

/** The `--workload` flag's hidden layers (default: the reference). */
export function workloadHidden(f: Map<string, string>): number[] {
  const name = f.get('workload') ?? 'reference';
  const h = WORKLOADS[name];
  if (!h) throw new Error(`--workload: unknown "${name}"; known: ${Object.keys(WORKLOADS).join(', ')}`);
  return h;
}

/** Layer shapes [in, out]: for the reference 784→256, 256→256, 256→10. */
export function layerShapes(hidden: number[] = HIDDEN): [number, number][] {
  const sizes = [INPUT, ...hidden, CLASSES];
  return sizes.slice(1).map((out, i) => [sizes[i], out]);
}
export const LAYER_SHAPES = layerShapes();

// forward 2·Σ in·out multiply-adds per sample; backward (dW = dZᵀ·X and dX = dZ·W)
// twice that — the convention of BENCHMARKS.md (1.61 MFLOP for 784-256-256-10)
export function flopPerSample(hidden: number[] = HIDDEN): number {
  return 3 * 2 * layerShapes(hidden).reduce((s, [i, o]) => s + i * o, 0);
}
export const FLOP_PER_SAMPLE = flopPerSample();

/**
 * The arithmetic a training sample really costs: forward and dW for every layer, dX for
 * every layer but the first (nobody needs ∂loss/∂input; neither we nor PyTorch compute
 * it). 1.21 MFLOP for 784-256-256-10, 0.75 of the convention above. Shares of the
 * WASM peak are taken with this count, so they cannot pass 100% on arithmetic not done.
 */
export function arithmeticPerSample(hidden: number[] = HIDDEN): number {
  const macs = layerShapes(hidden).map(([i, o]) => i * o);
  return 2 * (2 * macs.reduce((s, x) => s + x, 0) + macs.slice(1).reduce((s, x) => s + x, 0));
}

/** Rows pushed through inference for the /predict-style figure (the MNIST test split's size). */
export const PREDICT_ROWS = 10000;

/** The workload as a job spec (JSON, as POST /v1/jobs takes it): core-ours validates it, bench/service.ts submits it. */
export function workloadJobSpec(hidden: number[], threads: number, epochs: number, limit?: number): Record<string, unknown> {
  return {
    name: 'bench-core',
    dataset: { name: 'mnist', ...(limit ? { limit } : {}) },
    model: {
      layers: [
        ...hidden.map((units) => ({ type: 'dense', units, activation: 'relu' })),
        { type: 'dense', units: CLASSES, activation: 'softmax' },
      ],
    },
    loss: 'cross-entropy',
    optimizer: { type: 'adam', learningRate: LEARNING_RATE },
    training: { epochs, batchSize: BATCH_SIZE, shuffle: true, seed: SEED, threads },
  };
}

/**
 * The memory a training job cannot do without, MB: parameters, gradients (one buffer,
 * which every thread writes its blocks of units into), Adam's two state buffers, the
 * activations and their gradients (Z, A, dZ, dA per layer, for the batch's rows over
 * all threads), and one float32 copy of the data set
 * (features and labels of every split). Peak RSS is judged against it (issue 13: ≤ 1.5×).
 */
export function memoryBudgetMB(hidden: number[], batch: number, datasetFloats: number): number {
  const shapes = layerShapes(hidden);
  const params = shapes.reduce((s, [i, o]) => s + i * o + o, 0);
  const widths = INPUT + shapes.reduce((s, [, o]) => s + o, 0);
  const floats = params * (1 + 1 + 2) + 4 * batch * widths + datasetFloats;
  return (floats * 4) / 2 ** 20;
}

export interface EpochTiming {
  epoch: number;
  samples: number;
  seconds: number;
  /** CPU seconds of the whole process (all threads) over the epoch, when known */
  cpuSeconds?: number;
}

export interface ContenderResult {
  /** memoryBudgetMB for this run, and the process's RSS before the data set was loaded (the runtime's own) */
  memoryBudgetMB?: number;
  baseRssMB?: number;
  /** peak RSS when training ended, before the predict figure's rows (JS arrays) were built */
  trainPeakRssMB?: number;
  name: string;
  /** what ran: e.g. "60000 × 3 epochs" */
  trainSamples: number;
  epochs: number;
  epochsTimed: EpochTiming[];
  testAccuracy: number | null;
  peakRssMB: number;
  /** free-form facts worth printing (backend variant, BLAS, …) */
  info?: string;
  /** inference throughput after training: PREDICT_ROWS rows through the contender's predict path, rows/s (median of 3) */
  predictRowsPerSecond?: number;
}

/** Samples/s over epochs 2..N (epoch 1 is warm-up) or over epoch 1 when it is the only one. */
export function measuredRate(epochs: EpochTiming[]): { samplesPerSecond: number; cpuPerWall: number | null; which: string } {
  const timed = epochs.length >= 2 ? epochs.slice(1) : epochs;
  const samples = timed.reduce((s, e) => s + e.samples, 0);
  const seconds = timed.reduce((s, e) => s + e.seconds, 0);
  const cpu = timed.every((e) => e.cpuSeconds !== undefined) ? timed.reduce((s, e) => s + e.cpuSeconds!, 0) : null;
  const which = timed.length === 1 ? `epoch ${timed[0].epoch}` : `epochs ${timed[0].epoch}–${timed.at(-1)!.epoch}`;
  return { samplesPerSecond: samples / seconds, cpuPerWall: cpu === null ? null : cpu / seconds, which };
}

/** The median of the finite values (the mean of the middle two for an even count); NaN when there are none. */
export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Peak resident set of this process (all threads), MB. */
export function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
}

export function emitResult(r: ContenderResult): void {
  process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
}

/** `--name value` flags as a map (the contenders take only a few numeric/string flags). */
export function flags(argv = process.argv.slice(2)): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) m.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) m.set(a.slice(2), argv[++i]);
    else m.set(a.slice(2), 'true');
  }
  return m;
}

export function intFlag(f: Map<string, string>, name: string, dflt: number): number {
  const v = f.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
}
