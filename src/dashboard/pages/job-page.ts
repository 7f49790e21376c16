// A job: header (status, attempt, timings), diagnosis in words, curves with the best
// epoch, every early-stopping decision and the stop epoch marked, learning rate and
// samples/s, per-layer gradient norms as a heatmap, update ratios, batch_loss with
// drag-zoom, the events log, checkpoints and the spec. Live over SSE while running.
import { api, reportError } from '../api.js';
import type { StreamedEvent } from '../../client/api-client.js';
import type { Checkpoint, EarlyStoppingDecision, EpochEventData, Job } from '../../client/types.js';
import { FINISHED_STATUSES, toNumber } from '../../client/types.js';
import { h, saveFile, replace } from '../dom.js';
import { between, bytes, fmt, seconds } from '../format.js';
import { EpochTable, EPOCH_METRICS } from '../epoch-table.js';
import { LineChart, type Marker } from '../charts/line-chart.js';
import { heatmap } from '../charts/heatmap.js';
import { panel } from '../panel.js';
import { DASH_VALIDATION, OKABE_ITO, TRAIN, VALIDATION } from '../palette.js';
import type { Page } from '../router.js';
import { throttle } from '../throttle.js';
import { ACTIVE, statusBadge } from '../status.js';

interface LayerSpec { type: string; units?: number; activation?: string; rate?: number; pieces?: number }

function layerLabel(spec: unknown, i: number): string {
  const layer = (spec as { model?: { layers?: LayerSpec[] } })?.model?.layers?.[i];
  if (!layer) return `layer ${i}`;
  const what = layer.type === 'maxout' ? `maxout ${layer.units}×${layer.pieces}` : `${layer.type} ${layer.units ?? ''} ${layer.activation ?? ''}`;
  return `${i}: ${what.trim()}`;
}

/** A trial links to its sweep (named once the sweep has answered). */
function sweepCrumb(sweepId: string | null, signal: AbortSignal): (HTMLElement | string)[] {
  if (!sweepId) return [];
  const link = h('a', { href: `/sweeps/${sweepId}`, 'data-link': true, id: 'job-sweep' }, `sweep ${sweepId.slice(0, 8)}`);
  api.getSweep(sweepId).then((s) => { if (!signal.aborted) link.textContent = `sweep ${s.name}`; }, reportError);
  return [link, ' / '];
}

export function jobPage(): Page {
  return {
    async render(root, params, _query, signal) {
      const id = params.id!;
      // one round trip for what the page needs first, then one for the series
      const decisionsLoaded = api.earlyStopping(id);
      const checkpointsLoaded = api.checkpoints(id);
      for (const p of [decisionsLoaded, checkpointsLoaded]) p.catch(() => {}); // awaited below
      let job: Job = await api.getJob(id);
      const table = new EpochTable();
      let decisions: EarlyStoppingDecision[] = (await decisionsLoaded).items;
      let checkpoints: Checkpoint[] = [];

      // ---- header, diagnosis
      const header = h('div', { class: 'job-head' });
      const diagnosisBox = h('section', { class: 'panel diagnosis', id: 'diagnosis', 'aria-label': 'Diagnosis' });
      const actions = h('div', { class: 'actions' });
      root.append(
        h('nav', { class: 'crumbs' }, h('a', { href: '/', 'data-link': true }, 'Jobs'), ' / ', sweepCrumb(job.sweepId, signal), job.name),
        header, actions, diagnosisBox,
      );
      const renderHeader = () => {
        const p = job.progress;
        const epochs = p?.epochs ?? (job.spec as { training?: { epochs?: number } })?.training?.epochs ?? 0;
        replace(header, 
          h('h1', {}, job.name, ' ', statusBadge(job.status, job.cancelRequested)),
          h('dl', { class: 'facts' },
            h('dt', {}, 'Progress'), h('dd', { id: 'progress' }, p ? `epoch ${p.epoch}/${epochs}${p.batch && job.status === 'running' ? `, batch ${p.batch}/${p.batchesPerEpoch ?? '?'}` : ''}, step ${p.step}` : 'waiting for a worker'),
            h('dt', {}, 'Samples/s'), h('dd', {}, typeof p?.samplesPerSecond === 'number' ? Math.round(p.samplesPerSecond).toLocaleString() : '–'),
            h('dt', {}, 'ETA'), h('dd', {}, job.status === 'running' && typeof p?.etaSeconds === 'number' ? seconds(p.etaSeconds) : '–'),
            h('dt', {}, 'Attempt'), h('dd', { id: 'attempt' }, String(job.attempt)),
            h('dt', {}, 'Created'), h('dd', { title: job.createdAt }, new Date(job.createdAt).toLocaleString()),
            h('dt', {}, 'Queued for'), h('dd', {}, job.startedAt ? between(job.createdAt, job.startedAt) : between(job.createdAt, null)),
            h('dt', {}, 'Ran for'), h('dd', {}, between(job.startedAt, job.finishedAt)),
            h('dt', {}, 'Id'), h('dd', { class: 'mono' }, job.id),
          ),
          job.error ? h('p', { class: 'error', role: 'alert' }, `${job.error.code}: ${job.error.message}`) : null,
          job.result ? h('p', { id: 'result' },
            `Trained ${job.result.epochs} epochs (${job.result.step} steps)`,
            job.result.stoppedEarly && job.result.stopDecision ? `; stopped early at epoch ${job.result.stopDecision.epoch}: ${job.result.stopDecision.reason}` : '',
            job.result.best ? `; best epoch ${job.result.best.epoch}` : '',
            job.result.testMetrics ? `; test: ${Object.entries(job.result.testMetrics).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}` : '') : null,
        );
        replace(actions, 
          ACTIVE.includes(job.status) && !job.cancelRequested
            ? h('button', { type: 'button', id: 'cancel-job', onclick: async () => {
                try { job = await api.cancelJob(id); renderHeader(); } catch (err) { reportError(err); }
              } }, 'Cancel job')
            : null,
          h('a', { href: `/compare?jobs=${id}`, 'data-link': true, class: 'button secondary' }, 'Compare with…'),
        );
        const d = job.diagnosis;
        replace(diagnosisBox, 
          h('h2', {}, 'Diagnosis'),
          d ? h('p', {}, h('span', { class: `badge verdict-${d.verdict}` }, d.verdict), ' ', d.summary) : h('p', { class: 'muted' }, 'After the first epoch.'),
          d && d.findings.length ? h('ul', { class: 'findings' }, d.findings.map((f) => h('li', {}, h('strong', {}, f.kind), ': ', f.message))) : null,
          d && d.suggestions.length ? h('div', {}, h('h3', {}, 'Suggestions'), h('ul', {}, d.suggestions.map((s) => h('li', {}, s)))) : null,
        );
      };
      renderHeader();

      // ---- panels
      const grid = h('div', { class: 'panels' });
      root.append(grid);
      const csvOf = (names: string[]) => () => api.metricsCsv(id, { name: names });
      const lossPanel = panel('Loss: training vs validation', { id: 'loss', csv: csvOf(['train_loss', 'val_loss']), csvName: `${job.name}-loss.csv`, note: 'Look at the training loss first: a net that does badly on validation often failed to train.' });
      const accPanel = panel('Accuracy: training vs validation', { id: 'accuracy', csv: csvOf(['train_accuracy', 'val_accuracy']), csvName: `${job.name}-accuracy.csv` });
      const ratePanel = panel('Learning rate and samples/s', { id: 'rate', csv: csvOf(['learning_rate', 'samples_per_second']), csvName: `${job.name}-rate.csv` });
      const gradPanel = panel('Gradient norm per layer', { id: 'grad-norms', note: 'mean L2 norm of each layer\'s weight gradient per epoch; a dark first row under a bright last row is the vanishing-gradient picture' });
      const ratioPanel = panel('Update ratio per layer (‖Δw‖/‖w‖)', { id: 'update-ratios' });
      const batchPanel = panel('batch_loss', { id: 'batch-loss', csv: csvOf(['batch_loss']), csvName: `${job.name}-batch_loss.csv`, note: 'Drag across the chart to zoom; the API re-reduces the range to one point per pixel, keeping every minimum and maximum.' });
      for (const p of [lossPanel, accPanel, ratePanel, gradPanel, ratioPanel, batchPanel]) grid.append(p.section);
      const charts: LineChart[] = [];
      signal.addEventListener('abort', () => { for (const c of charts) c.destroy(); });
      const lossChart = new LineChart(lossPanel.body, { xLabel: 'epoch', yLabel: 'loss', series: [{ label: 'train_loss', color: TRAIN }, { label: 'val_loss', color: VALIDATION, dash: DASH_VALIDATION }] });
      const accChart = new LineChart(accPanel.body, { xLabel: 'epoch', yLabel: 'accuracy', series: [{ label: 'train_accuracy', color: TRAIN }, { label: 'val_accuracy', color: VALIDATION, dash: DASH_VALIDATION }] });
      const rateChart = new LineChart(ratePanel.body, { xLabel: 'epoch', yLabel: 'learning rate', y2Label: 'samples/s', series: [{ label: 'learning_rate', color: OKABE_ITO[2] }, { label: 'samples_per_second', color: OKABE_ITO[3], dash: [2, 3], scale: 'y2' }] });
      charts.push(lossChart, accChart, rateChart);
      let ratioChart: LineChart | null = null;
      let ratioLayers: number[] = [];

      // ---- batch_loss with zoom
      const resetZoom = h('button', { type: 'button', class: 'secondary small', id: 'reset-zoom', hidden: true }, 'Reset zoom');
      const batchInfo = h('span', { class: 'muted small', id: 'batch-info' });
      batchPanel.body.before(h('div', { class: 'toolbar' }, resetZoom, batchInfo));
      let zoom: { from: number; to: number } | null = null;
      const batchChart: LineChart = new LineChart(batchPanel.body, {
        xLabel: 'step', yLabel: 'batch_loss', series: [{ label: 'batch_loss', color: TRAIN }],
        onSelect: (min, max) => { zoom = { from: Math.floor(min), to: Math.ceil(max) }; void loadBatch(); },
      });
      charts.push(batchChart);
      resetZoom.addEventListener('click', () => { zoom = null; void loadBatch(); });
      const loadBatch = async () => {
        const maxPoints = Math.max(16, batchChart.plotWidth);
        const history = await api.metrics(id, { name: ['batch_loss'], maxPoints, ...(zoom ?? {}) });
        if (signal.aborted) return;
        const s = history.series[0];
        const pts = s?.points ?? [];
        batchChart.setData(pts.map((p) => p.step), [pts.map((p) => { const v = toNumber(p.value); return Number.isFinite(v) ? v : null; })]);
        if (zoom) batchChart.setXRange(zoom.from, zoom.to);
        resetZoom.hidden = zoom === null;
        batchInfo.textContent = `${pts.length} points${s?.downsampled ? ` (downsampled to ≤ ${maxPoints}, min/max kept)` : ''}${zoom ? `, steps ${zoom.from}–${zoom.to}` : ''}`;
        batchInfo.dataset.points = String(pts.length);
        batchInfo.dataset.from = String(zoom?.from ?? '');
        batchInfo.dataset.to = String(zoom?.to ?? '');
        batchPanel.setTable(['step', 'epoch', 'batch_loss'], pts.map((p) => [p.step, p.epoch, toNumber(p.value)]));
      };

      // ---- markers
      const markersFor = (monitor: string): Marker[] => {
        const out: Marker[] = [];
        const best = job.result?.best?.epoch ?? decisions.at(-1)?.bestEpoch;
        if (best !== undefined) out.push({ x: best, kind: 'best', label: `best ${best}`, title: `best epoch: ${best}` });
        const stop = job.result?.stopDecision ?? decisions.find((d) => d.decision === 'stop');
        if (stop) out.push({ x: stop.epoch, kind: 'stop', label: `stopped ${stop.epoch}`, title: `stopped at epoch ${stop.epoch}: ${stop.reason}` });
        for (const d of decisions) {
          if (d.monitor !== monitor) continue;
          const v = toNumber(d.value);
          if (!Number.isFinite(v)) continue;
          out.push({ x: d.epoch, y: v, kind: d.decision, label: d.decision, title: `epoch ${d.epoch}, ${d.monitor} ${fmt(d.value)}: ${d.decision} — ${d.reason}` });
        }
        return out;
      };

      // ---- draw everything from the epoch table
      const draw = () => {
        const xs = table.epochs;
        lossChart.setData(xs, [table.column('train_loss'), table.column('val_loss')]);
        accChart.setData(xs, [table.column('train_accuracy'), table.column('val_accuracy')]);
        accPanel.section.hidden = !table.has('train_accuracy') && !table.has('val_accuracy');
        rateChart.setData(xs, [table.column('learning_rate'), table.column('samples_per_second')]);
        const monitor = decisions[0]?.monitor ?? (job.spec as { earlyStopping?: { monitor?: string } })?.earlyStopping?.monitor ?? 'val_loss';
        lossChart.setMarkers(monitor.endsWith('loss') ? markersFor(monitor) : markersFor('-').filter((m) => m.y === undefined));
        accChart.setMarkers(monitor.endsWith('accuracy') ? markersFor(monitor) : markersFor('-').filter((m) => m.y === undefined));
        lossPanel.setTable(['epoch', 'train_loss', 'val_loss', 'early stopping'], xs.map((e, i) => {
          const d = decisions.find((x) => x.epoch === e);
          return [e, table.column('train_loss')[i]!, table.column('val_loss')[i]!, d ? `${d.decision}: ${d.reason}` : null];
        }));
        accPanel.setTable(['epoch', 'train_accuracy', 'val_accuracy'], xs.map((e, i) => [e, table.column('train_accuracy')[i]!, table.column('val_accuracy')[i]!]));
        ratePanel.setTable(['epoch', 'learning_rate', 'samples_per_second', 'epoch_seconds'], xs.map((e, i) => [e, table.column('learning_rate')[i]!, table.column('samples_per_second')[i]!, table.column('epoch_seconds')[i]!]));

        const gradLayers = table.layers('grad_norm');
        if (gradLayers.length) {
          const rows = gradLayers.map((i) => ({
            label: layerLabel(job.spec, i),
            values: new Map(xs.flatMap((e) => { const v = table.rows.get(e)!.get(`grad_norm/${i}`); return v === undefined ? [] : [[e, v] as [number, number]]; })),
          }));
          replace(gradPanel.body, heatmap(rows, xs, 'gradient norm'));
          gradPanel.setTable(['epoch', ...gradLayers.map((i) => `grad_norm/${i}`)], xs.map((e, k) => [e, ...gradLayers.map((i) => table.column(`grad_norm/${i}`)[k]!)]));
        } else {
          replace(gradPanel.body, h('p', { class: 'muted' }, 'No gradient norms yet.'));
        }

        const layers = table.layers('update_ratio');
        if (layers.join() !== ratioLayers.join()) {
          ratioChart?.destroy();
          ratioChart = new LineChart(ratioPanel.body, {
            xLabel: 'epoch', yLabel: '‖Δw‖/‖w‖ (log)', yLog: true,
            series: layers.map((i, k) => ({ label: `layer ${layerLabel(job.spec, i)}`, color: OKABE_ITO[k % OKABE_ITO.length]!, dash: k >= OKABE_ITO.length ? [4, 3] : undefined })),
          });
          charts.push(ratioChart);
          ratioLayers = layers;
        }
        ratioChart?.setData(xs, layers.map((i) => table.column(`update_ratio/${i}`).map((v) => (v !== null && v > 0 ? v : null))));
        ratioPanel.setTable(['epoch', ...layers.map((i) => `update_ratio/${i}`)], xs.map((e, k) => [e, ...layers.map((i) => table.column(`update_ratio/${i}`)[k]!)]));
      };

      // ---- events log, checkpoints, spec
      const eventsBody = h('tbody');
      const eventsPanel = h('section', { class: 'panel', id: 'events' }, h('h2', {}, 'Events'),
        h('div', { class: 'scroll' }, h('table', { class: 'data' }, h('thead', {}, h('tr', {}, ['time', 'event', 'attempt', 'message'].map((c) => h('th', { scope: 'col' }, c)))), eventsBody)));
      const ckptBody = h('tbody');
      const ckptPanel = h('section', { class: 'panel', id: 'checkpoints' }, h('h2', {}, 'Checkpoints'),
        h('table', { class: 'data' }, h('thead', {}, h('tr', {}, ['epoch', 'kind', 'step', 'val_loss', 'size', 'sha256', '', ''].map((c) => h('th', { scope: 'col' }, c)))), ckptBody));
      root.append(eventsPanel, ckptPanel,
        h('section', { class: 'panel', id: 'spec' }, h('details', {}, h('summary', {}, h('h2', { class: 'inline' }, 'Spec (with defaults)')),
          h('pre', { class: 'spec' }, JSON.stringify(job.spec, (k, v) => (k === 'features' || k === 'labels') && Array.isArray(v) && v.length > 20 ? `[${v.length} rows]` : v, 2)))));
      const renderCheckpoints = () => {
        replace(ckptBody, ...(checkpoints.length ? checkpoints.map((c) => h('tr', { 'data-best': c.best },
          h('td', {}, c.epoch ?? '–'), h('td', {}, c.kind), h('td', {}, c.step ?? '–'), h('td', {}, fmt(c.metrics?.val_loss ?? null)),
          h('td', {}, bytes(c.size)), h('td', { class: 'mono small', title: c.sha256 }, c.sha256.slice(0, 12)),
          h('td', {}, c.best ? h('span', { class: 'badge best' }, '★ best') : null),
          h('td', {}, h('button', { type: 'button', class: 'secondary small', 'data-download': c.id, onclick: async () => {
            try { saveFile(`${job.name}-${c.kind}${c.epoch ?? ''}.safetensors`, await api.downloadCheckpoint(c.id) as BlobPart, 'application/octet-stream'); } catch (err) { reportError(err); }
          } }, 'Download .safetensors')),
        )) : [h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'None yet.'))]));
      };
      const loadCheckpoints = async () => { checkpoints = (await api.checkpoints(id)).items; renderCheckpoints(); };
      const addEvent = (e: StreamedEvent) => {
        const d = e.data;
        const epoch = e.type === 'epoch' ? (d.data as EpochEventData) : null;
        const msg = epoch
          ? `epoch ${epoch.epoch}: ${['train_loss', 'val_loss', 'val_accuracy'].filter((n) => n in epoch.metrics).map((n) => `${n} ${fmt(epoch.metrics[n])}`).join(', ')}${epoch.decision ? ` · early stopping: ${epoch.decision}` : ''}`
          : d.message ?? '';
        eventsBody.prepend(h('tr', { 'data-event': e.type }, h('td', { title: d.createdAt }, new Date(d.createdAt).toLocaleTimeString()), h('td', {}, e.type), h('td', {}, d.attempt), h('td', {}, msg)));
      };

      // ---- load, then follow live
      // per-layer series by the spec's layer indices: a name the job has not recorded
      // (a dropout layer's) answers an empty series, so no metrics/names round trip
      const layerCount = (job.spec as { model?: { layers?: unknown[] } })?.model?.layers?.length ?? 0;
      const perLayer = Array.from({ length: layerCount }, (_, i) => [`grad_norm/${i}`, `update_ratio/${i}`]).flat();
      const names = [...EPOCH_METRICS, ...perLayer];
      const batchLoaded = loadBatch();
      checkpoints = (await checkpointsLoaded).items;
      renderCheckpoints();
      let cursor: string | undefined;
      do {
        const page = await api.metrics(id, { name: names, limit: 10_000, cursor });
        table.addHistory(page);
        cursor = page.nextCursor ?? undefined;
      } while (cursor && !signal.aborted);
      draw();
      await batchLoaded;

      if (FINISHED_STATUSES.includes(job.status)) {
        // the log of a finished job: its stream replays every event and ends
        void api.followEvents(id, addEvent, { signal }).catch(reportError);
        return;
      }
      let headerTimer: ReturnType<typeof setInterval> | undefined;
      const refreshJob = async () => { job = await api.getJob(id); renderHeader(); };
      headerTimer = setInterval(() => { if (!document.hidden) void refreshJob().catch(reportError); }, 2_000);
      signal.addEventListener('abort', () => clearInterval(headerTimer));
      // after an epoch: its early-stopping decision (the event names it, the reason
      // is in the decisions list), checkpoints and batch_loss — one refresh in flight,
      // at most every 2 s, batch_loss not while the user looks at a zoomed range
      const refreshAfterEpoch = throttle(async () => {
        const [es] = await Promise.all([api.earlyStopping(id), loadCheckpoints(), zoom ? null : loadBatch()]);
        decisions = es.items;
        scheduleDraw();
      }, 2_000, signal);
      // the stream first replays what was loaded above: those epochs only fill the log
      const loadedEpoch = table.epochs.at(-1) ?? 0;
      let drawQueued = false;
      const scheduleDraw = () => {
        if (drawQueued) return;
        drawQueued = true;
        requestAnimationFrame(() => { drawQueued = false; if (!signal.aborted) draw(); });
      };
      void api.followEvents(id, (e) => {
        addEvent(e);
        if (e.type === 'epoch') {
          const data = e.data.data as EpochEventData;
          if (data.epoch <= loadedEpoch && table.rows.has(data.epoch)) return;
          table.addEpoch(data.epoch, data.metrics);
          scheduleDraw();
          refreshAfterEpoch();
        } else if (e.type !== 'queued') {
          void refreshJob().catch(reportError);
        }
      }, { signal }).then(async (terminal) => {
        clearInterval(headerTimer);
        if (!terminal || signal.aborted) return;
        await refreshJob();
        decisions = (await api.earlyStopping(id)).items;
        draw();
        await Promise.all([loadBatch(), loadCheckpoints()]);
      }).catch(reportError);
    },
  };
}
