// Line charts on uPlot (canvas; fast at tens of thousands of points). Markers — the
// best epoch, every early-stopping decision, the stop epoch — are DOM elements over
// the plot, so they can be hovered (title), focused with the keyboard and found by tests.
import uPlot from 'uplot';
import { h, replace } from '../dom.js';

export interface SeriesSpec {
  label: string;
  color: string;
  dash?: number[];
  /** line width in CSS pixels (default 2) */
  width?: number;
  /** which y scale ('y' default, 'y2' the right-hand axis) */
  scale?: 'y' | 'y2';
}

export interface Marker {
  x: number;
  /** where on the y scale; omitted: a vertical line over the whole plot */
  y?: number;
  kind: string;
  label: string;
  /** shown on hover and to screen readers */
  title: string;
}

export interface LineChartOptions {
  series: SeriesSpec[];
  xLabel: string;
  yLabel?: string;
  y2Label?: string;
  yLog?: boolean;
  height?: number;
  /** x is a count (epochs): ticks only at whole numbers */
  xIntegers?: boolean;
  /** a drag over the plot selects an x range (the chart does not zoom itself) */
  onSelect?: (min: number, max: number) => void;
}

export class LineChart {
  readonly root: HTMLElement;
  private readonly plot: uPlot;
  private readonly overlay: HTMLElement;
  private markers: Marker[] = [];
  private readonly resize: ResizeObserver;

  constructor(container: HTMLElement, options: LineChartOptions) {
    this.root = h('div', { class: 'chart' });
    container.append(this.root);
    const width = Math.max(300, this.root.clientWidth || container.clientWidth || 600);
    const scales: uPlot.Scales = { x: { time: false } };
    scales.y = options.yLog ? { distr: 3 } : {};
    if (options.series.some((s) => s.scale === 'y2')) scales.y2 = {};
    const axes: uPlot.Axis[] = [
      options.xIntegers ? { label: options.xLabel, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] } : { label: options.xLabel },
      { label: options.yLabel ?? '', scale: 'y' },
    ];
    if (scales.y2) axes.push({ label: options.y2Label ?? '', scale: 'y2', side: 1, grid: { show: false } });
    this.plot = new uPlot(
      {
        width,
        height: options.height ?? 260,
        scales,
        axes,
        cursor: { drag: { x: Boolean(options.onSelect), y: false, setScale: false } },
        legend: { live: true },
        series: [
          { label: options.xLabel },
          ...options.series.map((s) => ({ label: s.label, stroke: s.color, width: s.width ?? 2, dash: s.dash, scale: s.scale ?? 'y', spanGaps: true, points: { show: true, size: 4 } })),
        ],
        hooks: {
          draw: [() => this.placeMarkers()],
          setSelect: [
            (u) => {
              if (!options.onSelect || u.select.width < 3) return;
              const min = u.posToVal(u.select.left, 'x');
              const max = u.posToVal(u.select.left + u.select.width, 'x');
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              options.onSelect(min, max);
            },
          ],
        },
      },
      [[], ...options.series.map(() => [])] as unknown as uPlot.AlignedData,
      this.root,
    );
    this.overlay = h('div', { class: 'markers' });
    this.plot.over.append(this.overlay);
    this.resize = new ResizeObserver(() => {
      const w = Math.max(300, this.root.clientWidth);
      if (Math.abs(w - this.plot.width) > 2) this.plot.setSize({ width: w, height: this.plot.height });
    });
    this.resize.observe(this.root);
  }

  /** the plot area's width in CSS pixels (for maxPoints) */
  get plotWidth(): number {
    return Math.round(this.plot.bbox.width / devicePixelRatio) || this.plot.width;
  }

  setData(xs: number[], ys: (number | null)[][], resetScales = true): void {
    this.plot.setData([xs, ...ys] as unknown as uPlot.AlignedData, resetScales);
  }

  setXRange(min: number, max: number): void {
    this.plot.setScale('x', { min, max });
  }

  setMarkers(markers: Marker[]): void {
    this.markers = markers;
    this.placeMarkers();
  }

  private placeMarkers(): void {
    if (!this.overlay) return;
    replace(this.overlay);
    const u = this.plot;
    for (const m of this.markers) {
      const left = u.valToPos(m.x, 'x');
      if (!Number.isFinite(left) || left < -1 || left > u.over.clientWidth + 1) continue;
      if (m.y === undefined) {
        const line = h('div', { class: `vline vline-${m.kind}`, 'data-kind': m.kind, 'data-x': m.x, title: m.title },
          h('span', { class: 'vline-label' }, m.label));
        line.style.left = `${left}px`;
        this.overlay.append(line);
      } else {
        const top = u.valToPos(m.y, 'y');
        if (!Number.isFinite(top)) continue;
        const dot = h('button', { type: 'button', class: `marker marker-${m.kind}`, 'data-kind': m.kind, 'data-x': m.x, title: m.title, 'aria-label': m.title },
          h('span', { class: 'marker-tip', role: 'tooltip' }, m.title));
        dot.style.left = `${left}px`;
        dot.style.top = `${top}px`;
        this.overlay.append(dot);
      }
    }
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot.destroy();
    this.root.remove();
  }
}
