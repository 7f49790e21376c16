// A sweep's trials: index, parameters, status, best objective and its epoch, epochs
// trained. Sorted by objective (best first, trials without a value last) unless the
// user picks another column; the header buttons sort (keyboard: Tab + Enter). A
// pruned trial carries the pruner's sentence on hover (title) and in an expandable
// "why"; each trial links to its job page; the best trial's row is highlighted.
import type { Sweep, SweepDecision, Trial } from '../client/types.js';
import { h, replace } from './dom.js';
import { fmt } from './format.js';
import { statusBadge } from './status.js';
import { paramLabel, paramValue } from './sweep-format.js';
import { trialLabel, trialSwatch } from './sweep-curves.js';

type SortKey = 'objective' | 'index' | 'epochsTrained' | 'status';

export class TrialsTable {
  readonly root: HTMLElement;
  private sort: SortKey = 'objective';
  private last: { sweep: Sweep; trials: Trial[]; prunes: Map<string, SweepDecision> } | null = null;

  constructor() {
    this.root = h('div', { class: 'scroll-wide' });
  }

  update(sweep: Sweep, trials: Trial[], prunes: Map<string, SweepDecision>): void {
    this.last = { sweep, trials, prunes };
    this.draw();
  }

  private sorted(sweep: Sweep, trials: Trial[]): Trial[] {
    const sign = sweep.objective.mode === 'max' ? -1 : 1;
    const cmp: Record<SortKey, (a: Trial, b: Trial) => number> = {
      objective: (a, b) => (a.value === null ? (b.value === null ? 0 : 1) : b.value === null ? -1 : sign * (a.value - b.value)) || a.index - b.index,
      index: (a, b) => a.index - b.index,
      epochsTrained: (a, b) => b.epochsTrained - a.epochsTrained || a.index - b.index,
      status: (a, b) => a.status.localeCompare(b.status) || a.index - b.index,
    };
    return [...trials].sort(cmp[this.sort]);
  }

  private draw(): void {
    if (!this.last) return;
    const { sweep, trials, prunes } = this.last;
    const pointers = Object.keys(sweep.parameters);
    const head = (label: string, key: SortKey | null) => {
      if (!key) return h('th', { scope: 'col' }, label);
      const active = this.sort === key;
      return h('th', { scope: 'col', 'aria-sort': active ? (key === 'objective' && sweep.objective.mode === 'max') || key === 'epochsTrained' ? 'descending' : 'ascending' : null },
        h('button', { type: 'button', class: `sort${active ? ' active' : ''}`, 'data-sort': key, onclick: () => { this.sort = key; this.draw(); } }, label));
    };
    const rows = this.sorted(sweep, trials).map((t) => {
      const best = sweep.best?.jobId === t.jobId;
      const prune = prunes.get(t.jobId);
      const why = t.status === 'pruned' && prune
        ? h('details', { class: 'why' }, h('summary', {}, `why (epoch ${prune.epoch})`), h('p', { class: 'small', 'data-reason': true }, prune.reason))
        : null;
      return h('tr', { 'data-job': t.jobId, 'data-index': t.index, 'data-status': t.status, class: best ? 'best-row' : null, title: t.status === 'pruned' && prune ? prune.reason : null },
        h('td', {}, h('span', { class: trialSwatch(t), 'aria-hidden': 'true' }), ' ', trialLabel(t), best ? [' ', h('span', { class: 'badge best' }, 'best')] : null),
        pointers.map((p) => h('td', { class: 'mono' }, paramValue(t.params[p]))),
        h('td', {}, statusBadge(t.status), why),
        h('td', { class: 'num', 'data-value': t.value === null ? '' : String(t.value) }, fmt(t.value)),
        h('td', { class: 'num' }, t.epoch ?? '–'),
        h('td', { class: 'num' }, t.epochsTrained),
        h('td', {}, h('a', { href: `/jobs/${t.jobId}`, 'data-link': true, class: 'mono small' }, t.jobId.slice(0, 8))),
      );
    });
    replace(this.root, h('table', { class: 'data trials', id: 'trials-table' },
      h('thead', {}, h('tr', {},
        head('trial', 'index'),
        pointers.map((p) => h('th', { scope: 'col', title: p }, paramLabel(p))),
        head('status', 'status'),
        head(`${sweep.objective.metric} (${sweep.objective.mode === 'max' ? 'best = highest' : 'best = lowest'})`, 'objective'),
        head('at epoch', null),
        head('epochs trained', 'epochsTrained'),
        head('job', null),
      )),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: pointers.length + 6, class: 'muted' }, 'No trials yet.'))),
    ));
    this.root.dataset.sort = this.sort;
  }
}
