// A small SVG line chart: axes with ticks, one polyline per series, a legend. Enough
// for the report's plots without a browser or a charting service.
export interface Line { name: string; points: Array<[number, number]> }
export interface ChartOptions { title: string; x: string; y: string; logY?: boolean }

const W = 640, H = 400, L = 70, R = 170, T = 40, B = 50;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : String(+v.toPrecision(3)));

export function lineChart(lines: Line[], o: ChartOptions): string {
  const ty = (v: number) => (o.logY ? Math.log10(Math.max(v, 1e-30)) : v);
  const pts = lines.flatMap((l) => l.points).filter(([, y]) => Number.isFinite(ty(y)));
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => ty(p[1]));
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (!pts.length) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y1 += 0.5; y0 -= 0.5; }
  const px = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => H - B - ((ty(y) - y0) / (y1 - y0)) * (H - T - B);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${W / 2 - R / 2}" y="22" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`, `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`];
  for (let k = 0; k <= 5; k++) {
    const xv = x0 + ((x1 - x0) * k) / 5, yv = y0 + ((y1 - y0) * k) / 5;
    const X = px(xv), Y = H - B - ((yv - y0) / (y1 - y0)) * (H - T - B);
    out.push(`<line x1="${X}" y1="${H - B}" x2="${X}" y2="${H - B + 4}" stroke="black"/><text x="${X}" y="${H - B + 16}" text-anchor="middle">${fmt(xv)}</text>`);
    out.push(`<line x1="${L - 4}" y1="${Y}" x2="${L}" y2="${Y}" stroke="black"/><text x="${L - 6}" y="${Y + 4}" text-anchor="end">${fmt(o.logY ? 10 ** yv : yv)}</text>`);
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.x)}</text>`);
  out.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">${esc(o.y)}${o.logY ? ' (log)' : ''}</text>`);
  lines.forEach((l, i) => {
    const c = COLORS[i % COLORS.length];
    const d = l.points.filter(([, y]) => Number.isFinite(ty(y))).map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${d}"/>`);
    out.push(`<rect x="${W - R + 12}" y="${T + i * 18}" width="12" height="4" fill="${c}"/><text x="${W - R + 30}" y="${T + i * 18 + 6}">${esc(l.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
