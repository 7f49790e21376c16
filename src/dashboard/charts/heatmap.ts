// A layer × epoch heatmap in SVG, log colour scale (viridis): one <rect> per cell,
// each with its value in a <title>. Gradient norms span orders of magnitude between
// the first and last layers of a sigmoid net — the vanishing-gradient picture — so
// colour is log10(value) between the smallest and largest positive value.
import { h, svg } from '../dom.js';
import { fmt } from '../format.js';
import { viridis } from '../palette.js';

export interface HeatmapRow {
  label: string;
  /** value by epoch (1-based); missing epochs are drawn empty */
  values: Map<number, number>;
}

export function heatmap(rows: HeatmapRow[], epochs: number[], what: string): HTMLElement {
  const positive = rows.flatMap((r) => [...r.values.values()]).filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.log10(Math.min(...positive));
  const hi = Math.log10(Math.max(...positive));
  const t = (v: number) => (hi > lo ? (Math.log10(v) - lo) / (hi - lo) : 0.5);
  const cellW = Math.max(4, Math.min(28, Math.floor(720 / Math.max(1, epochs.length))));
  const cellH = 22;
  const left = 12 + 6.5 * Math.max(4, ...rows.map((r) => r.label.length));
  const top = 6;
  const width = left + cellW * epochs.length + 10;
  const height = top + cellH * rows.length + 24;
  const root = svg('svg', { class: 'heatmap', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${what}: layers by epoch, log colour scale` });
  rows.forEach((row, ri) => {
    const label = svg('text', { x: left - 6, y: top + ri * cellH + cellH / 2 + 4, 'text-anchor': 'end', class: 'heatmap-label' });
    label.textContent = row.label;
    root.append(label);
    epochs.forEach((epoch, ei) => {
      const v = row.values.get(epoch);
      if (v === undefined) return;
      const ok = v > 0 && Number.isFinite(v);
      const rect = svg('rect', {
        x: left + ei * cellW, y: top + ri * cellH, width: cellW - 1, height: cellH - 1,
        fill: ok ? viridis(t(v)) : '#bbbbbb', class: 'heatmap-cell', 'data-layer': row.label, 'data-epoch': epoch, 'data-value': v,
      });
      const title = svg('title');
      title.textContent = `${row.label}, epoch ${epoch}: ${fmt(v)}`;
      rect.append(title);
      root.append(rect);
    });
  });
  const step = Math.max(1, Math.ceil(epochs.length / 12));
  epochs.forEach((epoch, ei) => {
    if (ei % step !== 0 && ei !== epochs.length - 1) return;
    const tick = svg('text', { x: left + ei * cellW + cellW / 2, y: top + rows.length * cellH + 16, 'text-anchor': 'middle', class: 'heatmap-tick' });
    tick.textContent = String(epoch);
    root.append(tick);
  });
  const legend = h('div', { class: 'heatmap-legend' },
    h('span', {}, positive.length ? fmt(10 ** lo) : '–'),
    h('span', { class: 'heatmap-ramp', 'aria-hidden': 'true' }),
    h('span', {}, positive.length ? fmt(10 ** hi) : '–'),
    h('span', { class: 'muted' }, ' (log scale; epochs across, layers down, input layer first)'),
  );
  return h('div', { class: 'heatmap-wrap' }, root as unknown as Node, legend);
}
