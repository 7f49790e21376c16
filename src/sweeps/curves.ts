// What the pruners see: each trial's objective value per epoch, and how to compare.

/** One trial's objective per epoch (epoch → value); epochs are 1-based. */
export interface TrialCurve {
  jobId: string;
  values: ReadonlyMap<number, number>;
}

export type Mode = 'min' | 'max';

/** a better than b under the mode */
export function better(mode: Mode, a: number, b: number): boolean {
  return mode === 'max' ? a > b : a < b;
}

/** The best value at epochs ≤ epoch, with the epoch it was reached (the earliest on ties). */
export function bestUpTo(curve: TrialCurve, epoch: number, mode: Mode): { value: number; epoch: number } | null {
  let best: { value: number; epoch: number } | null = null;
  for (const [e, v] of [...curve.values].sort((a, b) => a[0] - b[0])) {
    if (e > epoch || Number.isNaN(v)) continue;
    if (best === null || better(mode, v, best.value)) best = { value: v, epoch: e };
  }
  return best;
}

/** Vizier's running average ō^{1:s}: the mean of the values reported at epochs 1..s. */
export function runningAverage(curve: TrialCurve, epoch: number): number | null {
  let sum = 0;
  let n = 0;
  for (const [e, v] of curve.values) {
    if (e <= epoch) { sum += v; n++; }
  }
  return n === 0 ? null : sum / n;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** 0.412, 0.00123, 12.3: three significant digits for sentences. */
export function fmt(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(3))) : String(v);
}
