// The pruner's log: every continue, promote and prune with the value, the threshold
// it was compared with, the epoch (and ASHA's rung) and the sentence. "Only prunes
// and promotions" hides the many continues of the median rule.
import type { SweepDecision, Trial } from '../client/types.js';
import { h, replace } from './dom.js';
import { fmt } from './format.js';
import { trialLabel } from './sweep-curves.js';

export class DecisionsLog {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly onlyChanges: HTMLInputElement;
  private last: { decisions: SweepDecision[]; trials: Trial[] } = { decisions: [], trials: [] };

  constructor() {
    this.onlyChanges = h('input', { type: 'checkbox', id: 'decisions-only-changes' });
    this.onlyChanges.addEventListener('change', () => this.draw());
    this.body = h('div', { class: 'scroll' });
    this.root = h('div', {}, h('div', { class: 'toolbar' }, this.onlyChanges, h('label', { for: 'decisions-only-changes' }, 'only prunes and promotions')), this.body);
  }

  update(decisions: SweepDecision[], trials: Trial[]): void {
    this.last = { decisions, trials };
    this.draw();
  }

  private draw(): void {
    const byJob = new Map(this.last.trials.map((t) => [t.jobId, t]));
    const shown = this.last.decisions.filter((d) => !this.onlyChanges.checked || d.decision !== 'continue');
    replace(this.body, shown.length === 0
      ? h('p', { class: 'muted' }, this.last.decisions.length ? 'Only continues so far.' : 'No decisions yet: the pruner decides from the first rung or minEpochs on.')
      : h('table', { class: 'data', id: 'decisions-table' },
        h('thead', {}, h('tr', {}, ['time', 'trial', 'epoch', 'rung', 'decision', 'value', 'threshold', 'why'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, shown.map((d) => {
          const t = byJob.get(d.jobId);
          return h('tr', { 'data-job': d.jobId, 'data-decision': d.decision, 'data-epoch': d.epoch },
            h('td', { title: d.createdAt }, new Date(d.createdAt).toLocaleTimeString()),
            h('td', {}, h('a', { href: `/jobs/${d.jobId}`, 'data-link': true }, t ? trialLabel(t) : d.jobId.slice(0, 8))),
            h('td', { class: 'num' }, d.epoch),
            h('td', { class: 'num' }, d.rung ?? '–'),
            h('td', {}, h('span', { class: `badge decision-${d.decision}` }, d.decision)),
            h('td', { class: 'num' }, fmt(d.value)),
            h('td', { class: 'num' }, fmt(d.threshold)),
            h('td', { class: 'reason' }, d.reason),
          );
        }))));
  }
}
