// The trials' objective curves on one chart: one series per trial, coloured by its
// place in the plan (Okabe–Ito, the swatch in the trials table); pruned trials grey
// and dashed with their stop epoch marked (the pruner's sentence on hover and focus);
// the best trial drawn thick and its best epoch marked.
import type { Sweep, SweepDecision, Trial } from '../client/types.js';
import { LineChart, type Marker, type SeriesSpec } from './charts/line-chart.js';
import { OKABE_ITO } from './palette.js';
import { fmt } from './format.js';

/** grey for pruned trials: dashed too, so it never relies on colour alone */
export const PRUNED_COLOR = '#8c8c8c';
const TRIAL_COLORS = OKABE_ITO.slice(0, 7); // black is left for markers' outlines

/** The swatch class of a trial (matches its series' colour). */
export function trialSwatch(t: Pick<Trial, 'index' | 'status'>): string {
  return t.status === 'pruned' ? 'swatch swatch-pruned' : `swatch swatch-${t.index % TRIAL_COLORS.length}`;
}

export function trialLabel(t: Pick<Trial, 'index'>): string {
  return `#${t.index}`;
}

/** objective value by epoch, per trial job id */
export type Curves = Map<string, Map<number, number>>;

export class SweepCurves {
  private chart: LineChart | null = null;
  private key = '';

  constructor(private readonly container: HTMLElement, private readonly metric: string) {}

  update(sweep: Sweep, trials: Trial[], curves: Curves, prunes: Map<string, SweepDecision>): void {
    const shown = trials.filter((t) => (curves.get(t.jobId)?.size ?? 0) > 0);
    const bestId = sweep.best?.jobId ?? null;
    // a new trial, a status change or a new best changes the series: rebuild (cheap at sweep sizes)
    const key = `${shown.map((t) => `${t.jobId}:${t.status}`).join(',')}|${bestId}`;
    if (key !== this.key) {
      this.chart?.destroy();
      const series: SeriesSpec[] = shown.map((t) => {
        const best = t.jobId === bestId;
        if (t.status === 'pruned') return { label: `${trialLabel(t)} pruned`, color: PRUNED_COLOR, dash: [5, 4], width: 1.25 };
        return {
          label: `${trialLabel(t)}${best ? ' best' : ''}${t.status === 'succeeded' || t.status === 'running' || t.status === 'queued' ? '' : ` ${t.status}`}`,
          color: TRIAL_COLORS[t.index % TRIAL_COLORS.length]!,
          dash: t.status === 'failed' || t.status === 'cancelled' ? [2, 3] : undefined,
          width: best ? 3.5 : 1.75,
        };
      });
      this.chart = new LineChart(this.container, { xLabel: 'epoch', yLabel: this.metric, series, height: 320, xIntegers: true });
      this.key = key;
    }
    const chart = this.chart!;
    const epochs = [...new Set(shown.flatMap((t) => [...curves.get(t.jobId)!.keys()]))].sort((a, b) => a - b);
    chart.setData(epochs, shown.map((t) => {
      const c = curves.get(t.jobId)!;
      return epochs.map((e) => { const v = c.get(e); return v === undefined || !Number.isFinite(v) ? null : v; });
    }));
    chart.root.dataset.series = String(shown.length);
    chart.root.dataset.prunedSeries = String(shown.filter((t) => t.status === 'pruned').length);
    const markers: Marker[] = [];
    for (const t of shown) {
      const d = prunes.get(t.jobId);
      if (t.status !== 'pruned' || !d) continue;
      const y = curves.get(t.jobId)!.get(d.epoch) ?? d.value;
      markers.push({ x: d.epoch, y, kind: 'prune', label: `${trialLabel(t)} pruned`, title: `trial ${trialLabel(t)} pruned at epoch ${d.epoch}: ${d.reason}` });
    }
    if (sweep.best) {
      const t = trials.find((x) => x.jobId === sweep.best!.jobId);
      markers.push({ x: sweep.best.epoch, y: sweep.best.value, kind: 'best', label: 'best', title: `best: trial ${t ? trialLabel(t) : sweep.best.jobId.slice(0, 8)}, ${sweep.objective.metric} ${fmt(sweep.best.value)} at epoch ${sweep.best.epoch}` });
    }
    chart.setMarkers(markers);
  }

  destroy(): void {
    this.chart?.destroy();
  }
}

/** The overlay's numbers: epoch × trial, and as CSV (trial, jobId, epoch, value). */
export function curvesTable(trials: Trial[], curves: Curves): { header: string[]; rows: (string | number | null)[][] } {
  const shown = trials.filter((t) => (curves.get(t.jobId)?.size ?? 0) > 0);
  const epochs = [...new Set(shown.flatMap((t) => [...curves.get(t.jobId)!.keys()]))].sort((a, b) => a - b);
  return {
    header: ['epoch', ...shown.map((t) => `${trialLabel(t)}${t.status === 'pruned' ? ' (pruned)' : ''}`)],
    rows: epochs.map((e) => [e, ...shown.map((t) => curves.get(t.jobId)!.get(e) ?? null)]),
  };
}

export function curvesCsv(metric: string, trials: Trial[], curves: Curves): string {
  const lines = [`trial,jobId,status,epoch,${metric}`];
  for (const t of trials) for (const [e, v] of [...(curves.get(t.jobId) ?? new Map<number, number>())].sort((a, b) => a[0] - b[0])) lines.push(`${t.index},${t.jobId},${t.status},${e},${v}`);
  return `${lines.join('\n')}\n`;
}
