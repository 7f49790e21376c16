// Jobs: status, progress, samples/s, ETA, best validation metric, age; a status
// filter and cursor paging in the URL; live while anything on the page is active
// (every 2 s: the worker writes progress at most that often; every 15 s otherwise);
// cancel; pick 2–8 jobs to compare.
import { api, reportError } from '../api.js';
import type { JobStatus, JobSummary } from '../../client/types.js';
import { h, replace } from '../dom.js';
import { age, fmt, seconds } from '../format.js';
import { navigate, type Page } from '../router.js';
import { ACTIVE, statusBadge } from '../status.js';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'pruned'];

function bestMetric(j: JobSummary): string {
  const m = j.best?.metrics;
  if (!m) return '–';
  if (m.val_accuracy !== undefined) return `val_accuracy ${fmt(m.val_accuracy)} @${j.best!.epoch}`;
  if (m.val_loss !== undefined) return `val_loss ${fmt(m.val_loss)} @${j.best!.epoch}`;
  return `train_loss ${fmt(m.train_loss)} @${j.best!.epoch}`;
}

export function jobsListPage(): Page {
  return {
    async render(root, _params, query, signal) {
      const status = query.get('status') ?? '';
      const cursor = query.get('cursor') ?? '';
      const selected = new Set<string>();
      const filter = h('select', { id: 'status-filter', 'aria-label': 'Filter by status' },
        h('option', { value: '' }, 'all statuses'),
        STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)));
      filter.addEventListener('change', () => navigate(filter.value ? `/?status=${filter.value}` : '/'));
      const compareButton = h('button', { type: 'button', id: 'compare-selected', disabled: true }, 'Compare selected');
      compareButton.addEventListener('click', () => navigate(`/compare?jobs=${[...selected].join(',')}`));
      const tbody = h('tbody');
      const pager = h('div', { class: 'pager' });
      const live = h('p', { class: 'muted small', 'aria-live': 'polite' });
      root.append(
        h('div', { class: 'page-head' }, h('h1', {}, 'Jobs'), h('a', { href: '/submit', 'data-link': true, class: 'button' }, 'Submit a job')),
        h('div', { class: 'toolbar' }, h('label', { for: 'status-filter' }, 'Status '), filter, compareButton, live),
        h('table', { class: 'data jobs', id: 'jobs-table' },
          h('thead', {}, h('tr', {},
            ['', 'Name', 'Status', 'Progress', 'Samples/s', 'ETA', 'Best', 'Verdict', 'Age', ''].map((c) => h('th', { scope: 'col' }, c)))),
          tbody),
        pager,
      );

      const row = (j: JobSummary) => {
        const p = j.progress;
        const epochs = p?.epochs ?? j.specSummary.epochs;
        const done = p ? (ACTIVE.includes(j.status) ? Math.max(0, p.epoch - 1) : p.epoch) : 0;
        const check = h('input', { type: 'checkbox', 'aria-label': `select ${j.name} to compare`, checked: selected.has(j.id), 'data-job': j.id });
        check.addEventListener('change', () => {
          if (check.checked) selected.add(j.id); else selected.delete(j.id);
          compareButton.disabled = selected.size < 2 || selected.size > 8;
          compareButton.textContent = `Compare selected (${selected.size})`;
        });
        const cancel = ACTIVE.includes(j.status) && !j.cancelRequested
          ? h('button', {
              type: 'button', class: 'secondary small', 'aria-label': `cancel ${j.name}`,
              onclick: async () => {
                try { await api.cancelJob(j.id); await refresh(); } catch (err) { reportError(err); live.textContent = (err as Error).message; }
              },
            }, 'Cancel')
          : null;
        return h('tr', { 'data-job': j.id, 'data-status': j.status },
          h('td', {}, check),
          h('td', {}, h('a', { href: `/jobs/${j.id}`, 'data-link': true }, j.name), h('div', { class: 'muted small mono' }, j.id.slice(0, 8))),
          h('td', {}, statusBadge(j.status, j.cancelRequested), j.error ? h('div', { class: 'small error-text' }, j.error.code) : null),
          h('td', {}, h('progress', { max: epochs, value: done, 'aria-label': `${done} of ${epochs} epochs` }), ` ${p?.epoch ?? 0}/${epochs}`),
          h('td', { class: 'num' }, typeof p?.samplesPerSecond === 'number' ? Math.round(p.samplesPerSecond).toLocaleString() : '–'),
          h('td', { class: 'num' }, j.status === 'running' && typeof p?.etaSeconds === 'number' ? seconds(p.etaSeconds) : '–'),
          h('td', {}, bestMetric(j)),
          h('td', {}, j.verdict ?? '–'),
          h('td', { title: j.createdAt }, age(j.createdAt)),
          h('td', {}, cancel),
        );
      };

      let timer: ReturnType<typeof setTimeout> | undefined;
      signal.addEventListener('abort', () => clearTimeout(timer));
      const refresh = async () => {
        const page = await api.listJobs({ status: (status || undefined) as JobStatus | undefined, cursor: cursor || undefined, limit: 25 });
        if (signal.aborted) return;
        replace(tbody, ...(page.items.length ? page.items.map(row) : [h('tr', {}, h('td', { colspan: 10, class: 'muted' }, 'No jobs yet. ', h('a', { href: '/submit', 'data-link': true }, 'Submit one')))]));
        replace(pager, 
          cursor ? h('a', { href: status ? `/?status=${status}` : '/', 'data-link': true }, '« Newest') : null,
          page.nextCursor ? h('a', { href: `/?${new URLSearchParams({ ...(status ? { status } : {}), cursor: page.nextCursor })}`, 'data-link': true, id: 'next-page' }, 'Older »') : null,
        );
        const active = page.items.some((j) => ACTIVE.includes(j.status));
        live.textContent = `updated ${new Date().toLocaleTimeString()}${active ? ' · live' : ''}`;
        return active;
      };
      const loop = async () => {
        let active = false;
        try { active = (await refresh()) ?? false; } catch (err) { reportError(err); live.textContent = (err as Error).message; }
        if (!signal.aborted) timer = setTimeout(() => void loop(), document.hidden ? 30_000 : active ? 2_000 : 15_000);
      };
      await loop();
    },
  };
}
