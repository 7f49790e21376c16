// The reference workload of BENCHMARKS.md, shared by bench/core.ts (the driver) and its
// contender processes (core-ours.ts, core-tfjs.ts; pytorch_reference.py mirrors it):
// MNIST, 784-256-256-10 ReLU, softmax cross-entropy, Adam 1e-3, batch 128.
//
// A contender process prints progress to stderr and exactly one line to stdout:
// `RESULT <json of ContenderResult>`.

export const INPUT = 784;
export const HIDDEN = [256, 256];
export const CLASSES = 10;
export const BATCH_SIZE = 128;
export const LEARNING_RATE = 1e-3;
export const SEED = 42;

/** Layer shapes [in, out] of the reference model: 784→256, 256→256, 256→10. */
const SIZES = [INPUT, ...HIDDEN, CLASSES];
export const LAYER_SHAPES: [number, number][] = SIZES.slice(1).map((out, i) => [SIZES[i], out]);

// forward 2·Σ in·out multiply-adds per sample; backward (dW = dZᵀ·X and dX = dZ·W)
// twice that — the convention of BENCHMARKS.md (1.61 MFLOP for 784-256-256-10)
export const FLOP_PER_SAMPLE = 3 * 2 * LAYER_SHAPES.reduce((s, [i, o]) => s + i * o, 0);

export interface EpochTiming {
  epoch: number;
  samples: number;
  seconds: number;
  /** CPU seconds of the whole process (all threads) over the epoch, when known */
  cpuSeconds?: number;
}

export interface ContenderResult {
  name: string;
  /** what ran: e.g. "60000 × 3 epochs" */
  trainSamples: number;
  epochs: number;
  epochsTimed: EpochTiming[];
  testAccuracy: number | null;
  peakRssMB: number;
  /** free-form facts worth printing (backend variant, BLAS, …) */
  info?: string;
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
