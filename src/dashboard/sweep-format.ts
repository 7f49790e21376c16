// How the sweep pages name trials' numbers: counts per status, the objective, a
// parameter value.
import type { SweepCounts, SweepSummary } from '../client/types.js';
import { h } from './dom.js';
import { fmt } from './format.js';

/** Trial statuses in the order a sweep's life reads. */
export const TRIAL_STATUSES = ['running', 'queued', 'succeeded', 'pruned', 'failed', 'cancelled'] as const;

export function endedTrials(c: SweepCounts): number {
  return c.succeeded + c.pruned + c.failed + c.cancelled;
}

export function objectiveLabel(s: Pick<SweepSummary, 'objective'>): string {
  return `${s.objective.metric} (${s.objective.mode})`;
}

/** A parameter's value as a cell: numbers to 4 digits, everything else as JSON. */
export function paramValue(v: unknown): string {
  if (typeof v === 'number') return fmt(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** The pointer's last segments, short enough for a column header: /optimizer/learningRate → optimizer.learningRate */
export function paramLabel(pointer: string): string {
  return pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
}

/** "2 succeeded, 1 pruned": each count a coloured word, commas between (read aloud as a list). */
export function countsList(c: SweepCounts): (HTMLElement | string)[] {
  const parts: (HTMLElement | string)[] = [];
  for (const st of TRIAL_STATUSES) {
    if (c[st] === 0) continue;
    if (parts.length) parts.push(', ');
    parts.push(h('span', { class: `count status-${st}`, 'data-count': st }, `${c[st]} ${st}`));
  }
  return parts;
}
