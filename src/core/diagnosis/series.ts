// Trend against noise: a metric series moves for two reasons, a trend (what the rules
// ask about) and epoch-to-epoch noise (minibatch order, a small validation set). A
// change counts only when it is several times the noise of the same series.

/**
 * Epoch-to-epoch noise σ of a series, from its second differences
 * dd_i = y_{i+2} − 2·y_{i+1} + y_i, which cancel a linear trend locally; for white
 * noise of std σ, Var(dd) = 6σ², and median(|dd|) = 0.6745·√6·σ for a normal dd.
 * The median keeps one jump (or the bend of a V) from inflating it. Floored at
 * 1e-3 of the series' typical size, so a perfectly smooth series still has a scale.
 */
export function noise(ys: number[]): number {
  const level = median(ys.map(Math.abs));
  const floor = 1e-3 * level;
  if (ys.length < 3) return floor;
  const dd: number[] = [];
  for (let i = 0; i + 2 < ys.length; i++) dd.push(Math.abs(ys[i + 2]! - 2 * ys[i + 1]! + ys[i]!));
  return Math.max(median(dd) / (0.6745 * Math.sqrt(6)), floor);
}

/** Least-squares slope per epoch of ys against 0, 1, 2, … */
export function slope(ys: number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2, my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) { sxy += (i - mx) * (ys[i]! - my); sxx += (i - mx) * (i - mx); }
  return sxy / sxx;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The values of one metric, epoch by epoch, where it is finite. */
export function series(history: { metrics: Record<string, number> }[], name: string): number[] {
  return history.map((r) => r.metrics[name]).filter((v): v is number => v !== undefined && Number.isFinite(v));
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function fmt(x: number): string {
  if (!Number.isFinite(x) || x === 0) return String(x);
  const a = Math.abs(x);
  return a >= 0.01 && a < 1e5 ? x.toFixed(4) : x.toPrecision(3);
}
