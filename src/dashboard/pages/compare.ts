// Compare 2–8 jobs: one metric overlaid (one Okabe–Ito colour per job, so eight fit),
// and the spec fields in which they differ side by side. State lives in the URL:
// /compare?jobs=a,b&metric=val_loss
import { api, reportError } from '../api.js';
import type { Job } from '../../client/types.js';
import { toNumber } from '../../client/types.js';
import { h } from '../dom.js';
import { fmt } from '../format.js';
import { LineChart } from '../charts/line-chart.js';
import { panel } from '../panel.js';
import { OKABE_ITO } from '../palette.js';
import { navigate, type Page } from '../router.js';
import { statusBadge } from '../status.js';
import { differingFields } from '../spec-diff.js';

const MAX_JOBS = 8;

export function comparePage(): Page {
  return {
    async render(root, _params, query, signal) {
      const ids = (query.get('jobs') ?? '').split(',').map((s) => s.trim()).filter(Boolean).slice(0, MAX_JOBS);
      const metric = query.get('metric') ?? 'val_loss';
      const idsInput = h('input', { id: 'compare-jobs', type: 'text', size: 60, value: ids.join(','), 'aria-label': 'job ids, comma-separated' });
      const form = h('form', { class: 'toolbar' }, h('label', { for: 'compare-jobs' }, 'Jobs (2–8 ids) '), idsInput, h('button', { type: 'submit' }, 'Compare'));
      form.addEventListener('submit', (e) => { e.preventDefault(); navigate(`/compare?jobs=${encodeURIComponent(idsInput.value.replace(/\s+/g, ''))}&metric=${encodeURIComponent(metric)}`); });
      root.append(h('h1', {}, 'Compare'), form);
      if (ids.length < 2) {
        root.append(h('p', { class: 'muted' }, 'Pick two to eight jobs on the ', h('a', { href: '/', 'data-link': true }, 'jobs page'), ' (the checkboxes), or paste their ids.'));
        return;
      }
      const jobs: Job[] = await Promise.all(ids.map((id) => api.getJob(id)));
      const nameSets = await Promise.all(ids.map((id) => api.metricNames(id)));
      const names = [...new Set(nameSets.flatMap((n) => n.items.map((i) => i.name)))].sort();
      const select = h('select', { id: 'compare-metric', 'aria-label': 'metric' }, names.map((n) => h('option', { value: n, selected: n === metric }, n)));
      select.addEventListener('change', () => navigate(`/compare?jobs=${ids.join(',')}&metric=${encodeURIComponent(select.value)}`));
      const byStep = metric === 'batch_loss';
      const chartPanel = panel(`${metric} by ${byStep ? 'step' : 'epoch'}`, {
        id: 'compare-chart',
        csv: async () => (await Promise.all(ids.map((id) => api.metricsCsv(id, { name: [metric] })))).map((csv, i) => (i === 0 ? csv : csv.split('\n').slice(1).join('\n'))).join(''),
        csvName: `compare-${metric.replace(/\//g, '_')}.csv`,
      });
      root.append(h('div', { class: 'toolbar' }, h('label', { for: 'compare-metric' }, 'Metric '), select), chartPanel.section);
      const chart = new LineChart(chartPanel.body, {
        xLabel: byStep ? 'step' : 'epoch', yLabel: metric,
        series: jobs.map((j, k) => ({ label: `${j.name} (${j.id.slice(0, 8)})`, color: OKABE_ITO[k]!, dash: k % 2 ? [6, 3] : undefined })),
      });
      signal.addEventListener('abort', () => chart.destroy());
      const history = await api.multiJobMetrics({ job: ids, name: [metric], maxPoints: Math.max(16, chart.plotWidth) });
      // one x axis for all: the union of steps or epochs, null where a job has no point
      const perJob = ids.map((id) => new Map((history.series.find((s) => s.jobId === id)?.points ?? []).map((p) => [byStep ? p.step : p.epoch, toNumber(p.value)])));
      const xs = [...new Set(perJob.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
      chart.setData(xs, perJob.map((m) => xs.map((x) => { const v = m.get(x); return v === undefined || !Number.isFinite(v) ? null : v; })));
      chart.root.dataset.series = String(perJob.filter((m) => m.size > 0).length);
      chartPanel.setTable([byStep ? 'step' : 'epoch', ...jobs.map((j) => j.name)], xs.map((x) => [x, ...perJob.map((m) => m.get(x) ?? null)]));

      const diff = differingFields(jobs.map((j) => j.spec));
      root.append(h('section', { class: 'panel', id: 'spec-diff' }, h('h2', {}, 'Spec fields that differ'),
        diff.length === 0 ? h('p', { class: 'muted' }, 'The specs are identical (apart from their names).') :
        h('table', { class: 'data' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'field'), jobs.map((j, k) => h('th', { scope: 'col' }, h('span', { class: `swatch swatch-${k}` }), ' ', h('a', { href: `/jobs/${j.id}`, 'data-link': true }, j.name), ' ', statusBadge(j.status))))),
          h('tbody', {}, diff.map((row) => h('tr', { 'data-pointer': row.pointer }, h('td', { class: 'mono' }, row.pointer), row.values.map((v) => h('td', { class: 'mono' }, v ?? '–'))))))));
      root.append(h('section', { class: 'panel', id: 'compare-best' }, h('h2', {}, 'Results'),
        h('table', { class: 'data' }, h('thead', {}, h('tr', {}, ['job', 'status', 'epochs', 'best epoch', 'best val_loss', 'best val_accuracy'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, jobs.map((j) => h('tr', {}, h('td', {}, j.name), h('td', {}, statusBadge(j.status)), h('td', {}, j.result?.epochs ?? j.progress?.epoch ?? '–'),
            h('td', {}, j.result?.best?.epoch ?? '–'), h('td', {}, fmt(j.result?.best?.metrics.val_loss ?? null)), h('td', {}, fmt(j.result?.best?.metrics.val_accuracy ?? null))))))));
      void reportError;
    },
  };
}
