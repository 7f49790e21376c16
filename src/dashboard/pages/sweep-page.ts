// A sweep: its status, counts and best trial; the trials table sorted by objective;
// the trials' objective curves overlaid (pruned ones grey and dashed, their stop
// epoch marked with the pruner's sentence); the pruner's decisions log; the space
// and the base spec. Live while the sweep runs: every 2.5 s (a hidden tab every 30 s)
// one round of sweep + trials + decisions, and the curves of only those trials whose
// status or epoch count moved; polling stops when the sweep has ended.
import { api, reportError } from '../api.js';
import type { Sweep, SweepDecision, Trial } from '../../client/types.js';
import { toNumber } from '../../client/types.js';
import { h, replace } from '../dom.js';
import { between, fmt } from '../format.js';
import { panel } from '../panel.js';
import type { Page } from '../router.js';
import { statusBadge } from '../status.js';
import { countsList, endedTrials, objectiveLabel, paramValue } from '../sweep-format.js';
import { SweepCurves, curvesCsv, curvesTable, trialLabel, type Curves } from '../sweep-curves.js';
import { TrialsTable } from '../sweep-trials-table.js';
import { DecisionsLog } from '../sweep-decisions.js';
import { LIVE_MS } from './sweeps-list.js';

/** GET /v1/metrics takes up to 50 jobs per request */
const JOBS_PER_REQUEST = 50;

function parameterRows(sweep: Sweep): HTMLElement {
  return h('table', { class: 'data', id: 'sweep-parameters' },
    h('thead', {}, h('tr', {}, ['pointer', 'values or range'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, Object.entries(sweep.parameters).map(([pointer, p]) => h('tr', { 'data-pointer': pointer },
      h('td', { class: 'mono' }, pointer),
      h('td', { class: 'mono' }, 'values' in p ? p.values.map(paramValue).join(', ') : `${p.distribution} [${fmt(p.min)}, ${fmt(p.max)}]`)))));
}

export function sweepPage(): Page {
  return {
    async render(root, params, _query, signal) {
      const id = params.id!;
      let sweep = await api.getSweep(id);
      const metric = sweep.objective.metric;
      const firstStatus = sweep.status;

      const header = h('div', { class: 'job-head' });
      const actions = h('div', { class: 'actions' });
      const live = h('p', { class: 'muted small', 'aria-live': 'polite', id: 'sweep-live' });
      root.append(h('nav', { class: 'crumbs' }, h('a', { href: '/sweeps', 'data-link': true }, 'Sweeps'), ' / ', sweep.name), header, actions, live);
      root.dataset.firstStatus = firstStatus;

      const trialsPanel = panel('Trials', { id: 'trials', note: 'Sorted by the objective, best first; pick a column header to sort by it. A pruned trial tells why on hover and under “why”.' });
      const trialsTable = new TrialsTable();
      trialsPanel.body.append(trialsTable.root);
      trialsPanel.section.querySelector('details')?.remove(); // the table is the numbers
      let trials: Trial[] = [];
      const curves: Curves = new Map();
      const curvesPanel = panel(`${metric} per epoch, every trial`, {
        id: 'sweep-curves',
        csv: async () => curvesCsv(metric, trials, curves),
        csvName: `${sweep.name}-${metric}.csv`,
        note: 'Pruned trials are grey and dashed, their stop epoch marked (hover or focus a marker for the pruner\'s reason); the best trial is drawn thick.',
      });
      const decisionsPanel = panel('Pruner decisions', { id: 'decisions' });
      const log = new DecisionsLog();
      decisionsPanel.body.append(log.root);
      decisionsPanel.section.querySelector('details')?.remove();
      const specPanel = h('section', { class: 'panel', id: 'sweep-spec', 'aria-labelledby': 'sweep-spec-title' },
        h('h2', { id: 'sweep-spec-title' }, 'Search space and base spec'),
        parameterRows(sweep),
        h('details', {}, h('summary', {}, 'Base spec (every trial starts from it)'), h('pre', { class: 'spec' }, JSON.stringify(sweep.spec, null, 2))));
      root.append(trialsPanel.section, curvesPanel.section, decisionsPanel.section, specPanel);
      const overlay = new SweepCurves(curvesPanel.body, metric);
      signal.addEventListener('abort', () => overlay.destroy());

      const renderHeader = () => {
        const c = sweep.counts;
        const bestTrial = sweep.best ? trials.find((t) => t.jobId === sweep.best!.jobId) : undefined;
        replace(header,
          h('h1', {}, sweep.name, ' ', statusBadge(sweep.status)),
          h('dl', { class: 'facts' },
            h('dt', {}, 'Trials'), h('dd', { id: 'sweep-trials-count' }, `${endedTrials(c)}/${sweep.maxTrials} ended`),
            h('dt', {}, 'By status'), h('dd', { id: 'sweep-counts' }, countsList(c)),
            h('dt', {}, 'Objective'), h('dd', {}, objectiveLabel(sweep)),
            h('dt', {}, 'Pruner'), h('dd', {}, sweep.pruner.type === 'none' ? 'none' : `${sweep.pruner.type}, from epoch ${sweep.pruner.minEpochs}${sweep.pruner.type === 'asha' ? `, reduction factor ${sweep.pruner.reductionFactor}` : ''}`),
            h('dt', {}, 'Method'), h('dd', {}, `${sweep.method}, seed ${sweep.seed}`),
            h('dt', {}, 'Parallelism'), h('dd', {}, String(sweep.parallelism)),
            h('dt', {}, 'Created'), h('dd', { title: sweep.createdAt }, new Date(sweep.createdAt).toLocaleString()),
            h('dt', {}, 'Ran for'), h('dd', {}, between(sweep.createdAt, sweep.finishedAt)),
          ),
          h('p', { id: 'sweep-best', class: 'best-line' }, sweep.best
            ? ['Best: ', h('a', { href: `/jobs/${sweep.best.jobId}`, 'data-link': true }, bestTrial ? `trial ${trialLabel(bestTrial)}` : sweep.best.jobId.slice(0, 8)),
                ` — ${metric} ${fmt(sweep.best.value)} at epoch ${sweep.best.epoch}; `,
                Object.entries(sweep.best.params).map(([p, v]) => `${p} = ${paramValue(v)}`).join(', ')]
            : h('span', { class: 'muted' }, 'No trial has reported an epoch yet.')),
        );
        replace(actions, sweep.status === 'running'
          ? h('button', { type: 'button', id: 'cancel-sweep', onclick: async () => {
              try { sweep = await api.cancelSweep(id); renderHeader(); } catch (err) { reportError(err); live.textContent = (err as Error).message; }
            } }, 'Cancel sweep')
          : null);
      };

      // a trial's curve is refetched when its status or epoch count has moved
      const seen = new Map<string, string>();
      const loadCurves = async () => {
        const stale = trials.filter((t) => t.epochsTrained > 0 && seen.get(t.jobId) !== `${t.status}:${t.epochsTrained}`);
        for (let i = 0; i < stale.length; i += JOBS_PER_REQUEST) {
          const chunk = stale.slice(i, i + JOBS_PER_REQUEST);
          const history = await api.multiJobMetrics({ job: chunk.map((t) => t.jobId), name: [metric], maxPoints: 5000 });
          for (const t of chunk) {
            const points = history.series.find((s) => s.jobId === t.jobId)?.points ?? [];
            curves.set(t.jobId, new Map(points.map((p) => [p.epoch, toNumber(p.value)])));
            seen.set(t.jobId, `${t.status}:${t.epochsTrained}`);
          }
        }
      };

      const refresh = async () => {
        const [s, ts, ds] = await Promise.all([api.getSweep(id), api.allSweepTrials(id), api.sweepDecisions(id)]);
        if (signal.aborted) return false;
        sweep = s;
        trials = ts;
        await loadCurves();
        if (signal.aborted) return false;
        const prunes = new Map<string, SweepDecision>();
        for (const d of ds.items) if (d.decision === 'prune') prunes.set(d.jobId, d);
        renderHeader();
        trialsTable.update(sweep, trials, prunes);
        overlay.update(sweep, trials, curves, prunes);
        const numbers = curvesTable(trials, curves);
        curvesPanel.setTable(numbers.header, numbers.rows);
        log.update(ds.items, trials);
        const running = sweep.status === 'running';
        live.textContent = `updated ${new Date().toLocaleTimeString()}${running ? ' · live' : ''}`;
        root.dataset.status = sweep.status;
        return running;
      };

      let timer: ReturnType<typeof setTimeout> | undefined;
      signal.addEventListener('abort', () => clearTimeout(timer));
      const loop = async () => {
        let running = true;
        try { running = await refresh(); } catch (err) { reportError(err); live.textContent = (err as Error).message; }
        // an ended sweep changes no more: stop asking
        if (running && !signal.aborted) timer = setTimeout(() => void loop(), document.hidden ? 30_000 : LIVE_MS);
      };
      await loop();
    },
  };
}
