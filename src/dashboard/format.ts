// Numbers and times as the dashboard shows them.
import { toNumber, type StoredValue } from '../client/types.js';

export function fmt(v: StoredValue | undefined, digits = 4): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(2) : v.toPrecision(digits);
}

export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s) || s < 0) return '–';
  const r = Math.round(s);
  if (r < 60) return `${r}s`;
  if (r < 3600) return `${Math.floor(r / 60)}m ${String(r % 60).padStart(2, '0')}s`;
  if (r < 86400) return `${Math.floor(r / 3600)}h ${String(Math.floor((r % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(r / 86400)}d ${Math.floor((r % 86400) / 3600)}h`;
}

export function age(iso: string): string {
  return `${seconds((Date.now() - Date.parse(iso)) / 1000)} ago`;
}

export function between(from: string | null, to: string | null): string {
  if (!from) return '–';
  return seconds(((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

export { toNumber };
