// Sweeps: status, trials per status, best objective, age; cursor paging in the URL;
// live while a sweep on the page runs (every 2.5 s: a trial's epoch takes longer;
// every 15 s otherwise, 30 s in a hidden tab); cancel.
import { api, reportError } from '../api.js';
import type { SweepSummary } from '../../client/types.js';
import { h, replace } from '../dom.js';
import { age, fmt } from '../format.js';
import type { Page } from '../router.js';
import { statusBadge } from '../status.js';
import { countsList, endedTrials, objectiveLabel } from '../sweep-format.js';

export const LIVE_MS = 2_500;

function countsCell(s: SweepSummary): HTMLElement {
  const parts = countsList(s.counts);
  return h('td', {}, parts.length ? parts : h('span', { class: 'muted' }, 'no trials yet'));
}

export function sweepsListPage(): Page {
  return {
    async render(root, _params, query, signal) {
      const cursor = query.get('cursor') ?? '';
      const tbody = h('tbody');
      const pager = h('div', { class: 'pager' });
      const live = h('p', { class: 'muted small', 'aria-live': 'polite' });
      root.append(
        h('div', { class: 'page-head' }, h('h1', {}, 'Sweeps')),
        h('div', { class: 'toolbar' }, live),
        h('table', { class: 'data sweeps', id: 'sweeps-table' },
          h('thead', {}, h('tr', {},
            ['Name', 'Status', 'Trials', 'By status', 'Objective', 'Best', 'Pruner', 'Age', ''].map((c) => h('th', { scope: 'col' }, c)))),
          tbody),
        pager,
      );

      const row = (s: SweepSummary) => {
        const ended = endedTrials(s.counts);
        const cancel = s.status === 'running'
          ? h('button', {
              type: 'button', class: 'secondary small', 'aria-label': `cancel sweep ${s.name}`, 'data-cancel': s.id,
              onclick: async () => {
                try { await api.cancelSweep(s.id); await refresh(); } catch (err) { reportError(err); live.textContent = (err as Error).message; }
              },
            }, 'Cancel')
          : null;
        return h('tr', { 'data-sweep': s.id, 'data-status': s.status },
          h('td', {}, h('a', { href: `/sweeps/${s.id}`, 'data-link': true }, s.name), h('div', { class: 'muted small mono' }, s.id.slice(0, 8))),
          h('td', {}, statusBadge(s.status)),
          h('td', {}, h('progress', { max: s.maxTrials, value: ended, 'aria-label': `${ended} of ${s.maxTrials} trials ended` }), ` ${ended}/${s.maxTrials}`),
          countsCell(s),
          h('td', {}, objectiveLabel(s)),
          h('td', { class: 'num', 'data-best': s.best ? String(s.best.value) : '' }, s.best ? `${fmt(s.best.value)} @${s.best.epoch}` : '–'),
          h('td', {}, s.pruner.type === 'none' ? 'none' : `${s.pruner.type} (from epoch ${s.pruner.minEpochs}${s.pruner.type === 'asha' ? `, η ${s.pruner.reductionFactor}` : ''})`),
          h('td', { title: s.createdAt }, age(s.createdAt)),
          h('td', {}, cancel),
        );
      };

      let timer: ReturnType<typeof setTimeout> | undefined;
      signal.addEventListener('abort', () => clearTimeout(timer));
      const refresh = async () => {
        const page = await api.listSweeps({ cursor: cursor || undefined, limit: 25 });
        if (signal.aborted) return false;
        replace(tbody, ...(page.items.length ? page.items.map(row) : [h('tr', {}, h('td', { colspan: 9, class: 'muted' },
          'No sweeps yet. Start one with POST /v1/sweeps or `trainyard sweep submit sweep.json` (see the README).'))]));
        replace(pager,
          cursor ? h('a', { href: '/sweeps', 'data-link': true }, '« Newest') : null,
          page.nextCursor ? h('a', { href: `/sweeps?${new URLSearchParams({ cursor: page.nextCursor })}`, 'data-link': true, id: 'next-page' }, 'Older »') : null,
        );
        const active = page.items.some((s) => s.status === 'running');
        live.textContent = `updated ${new Date().toLocaleTimeString()}${active ? ' · live' : ''}`;
        return active;
      };
      const loop = async () => {
        let active = false;
        try { active = await refresh(); } catch (err) { reportError(err); live.textContent = (err as Error).message; }
        if (!signal.aborted) timer = setTimeout(() => void loop(), document.hidden ? 30_000 : active ? LIVE_MS : 15_000);
      };
      await loop();
    },
  };
}
