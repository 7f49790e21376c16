// Okabe & Ito's eight colours, distinguishable with every common colour-vision
// deficiency; training solid, validation dashed, so no pair relies on colour alone.
export const OKABE_ITO = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'] as const;
export const TRAIN = OKABE_ITO[0];
export const VALIDATION = OKABE_ITO[1];
export const DASH_VALIDATION = [6, 4];

/**
 * viridis (matplotlib), sampled at 9 stops: perceptually uniform and colour-blind
 * safe; t in [0, 1] is interpolated linearly between stops.
 */
const VIRIDIS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
] as const;

export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!, b = VIRIDIS[i + 1]!;
  const c = (k: number) => Math.round(a[k]! + (b[k]! - a[k]!) * f);
  return `rgb(${c(0)}, ${c(1)}, ${c(2)})`;
}
