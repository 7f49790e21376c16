// A real Prometheus (Debian's package; .ci/run installs it) scrapes the API and a
// worker; PromQL answers the queue depth and the worker's finished jobs; promtool
// finds nothing to complain about in either exposition.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestApp, fetchJob, startTestWorker, submitJob, tinySpec, waitFor, type TestApp } from '../helpers/app.js';
import { freePort } from '../helpers/own-services.js';
import { TrainingWorker } from '../../workers/training-worker.js';
import { WorkerMetrics } from '../../workers/worker-metrics.js';
import { startMetricsServer, type RunningMetricsServer } from '../../workers/metrics-server.js';

const missing = ['prometheus', 'promtool'].filter((bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0);
const skip = missing.length > 0 ? `not installed: ${missing.join(', ')} (apt-get install prometheus; .ci/run does)` : false;

let h: TestApp;
let apiPort: number;
let worker: TrainingWorker;
let metricsServer: RunningMetricsServer | null;
let prometheus: ChildProcess | undefined;
let promDir: string;
let promUrl: string;
void startTestWorker; // the worker here needs metrics, so it is started by hand

before(async () => {
  if (skip) return;
  h = await createTestApp('ops-prometheus');
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  apiPort = (h.app.server.address() as { port: number }).port;
  const busy: { w?: TrainingWorker } = {};
  const metrics = new WorkerMetrics(() => busy.w?.runningJobIds.length ?? 0);
  worker = await TrainingWorker.start({ config: h.config, prisma: h.prisma, logger: h.logger, metrics });
  busy.w = worker;
  metricsServer = await startMetricsServer(metrics, '127.0.0.1', 0, h.logger);
  assert.ok(metricsServer);
});

after(async () => {
  prometheus?.kill('SIGTERM');
  if (prometheus && prometheus.exitCode === null) await new Promise((r) => prometheus!.once('exit', r));
  if (promDir) rmSync(promDir, { recursive: true, force: true });
  await metricsServer?.close();
  await worker?.close();
  await h?.close();
});

async function startPrometheus(targets: { job: string; port: number }[]): Promise<void> {
  promDir = mkdtempSync(path.join(tmpdir(), 'trainyard-prom-'));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const scrapeConfigs = targets.map((t) => `  - job_name: ${t.job}\n    static_configs:\n      - targets: ['127.0.0.1:${t.port}']`).join('\n');
  writeFileSync(path.join(promDir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n${scrapeConfigs}\n`);
  prometheus = spawn('prometheus', [
    `--config.file=${path.join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(promDir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: 'ignore' });
}

async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  return body.status === 'success' ? body.data.result : [];
}

/**
 * prom-client's own Node metrics name three gauges *_total (nodejs_active_handles_total,
 * …_requests_total, …_resources_total), which promtool flags; they are the library's,
 * not ours, and every other line counts.
 */
const LIBRARY_COMPLAINT = /^trainyard_(worker_)?nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

function promtool(exposition: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  const lines = `${r.stdout}${r.stderr}`.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const ours = lines.filter((l) => !LIBRARY_COMPLAINT.test(l));
  return { status: lines.length === ours.length ? r.status : 0, output: ours.join('\n') };
}

test('Prometheus scrapes the API and a worker: PromQL answers the queue depth and the finished jobs; promtool has no complaint', { skip }, async () => {
  const first = await submitJob(h, tinySpec({ name: 'scraped' }));
  await waitFor(() => fetchJob(h, first), (j) => j.status === 'succeeded', { timeoutMs: 60_000, what: 'the first job' });
  // the worker stops taking jobs (its metrics stay served): three jobs wait in the queue
  await worker.close();
  for (let i = 0; i < 3; i++) await submitJob(h, tinySpec({ name: `waiting-${i}` }));
  assert.equal((await h.queue.getJobCounts('waiting')).waiting, 3);

  await startPrometheus([{ job: 'api', port: apiPort }, { job: 'worker', port: metricsServer!.port }]);
  const depth = await waitFor(() => query('sum(trainyard_queue_jobs{job="api",state="waiting"})').catch(() => []), (r) => r.length === 1 && r[0]!.value[1] === '3', {
    timeoutMs: 60_000, intervalMs: 250, what: 'PromQL to answer the queue depth',
  });
  assert.equal(depth[0]!.value[1], '3');
  const queued = await waitFor(() => query('trainyard_jobs{job="api",status="queued"}').catch(() => []), (r) => r.length === 1, { timeoutMs: 30_000, intervalMs: 250 });
  assert.equal(queued[0]!.value[1], '3');
  const done = await waitFor(() => query('trainyard_worker_jobs_total{job="worker",outcome="succeeded"}').catch(() => []), (r) => r.length === 1, { timeoutMs: 30_000, intervalMs: 250 });
  assert.equal(done[0]!.value[1], '1');
  // tinySpec trains 2 epochs
  const epochs = await waitFor(() => query('trainyard_worker_epoch_seconds_count{job="worker"}').catch(() => []), (r) => r.length === 1, { timeoutMs: 30_000, intervalMs: 250 });
  assert.equal(epochs[0]!.value[1], '2');
  const busy = await waitFor(() => query('trainyard_worker_busy_slots{job="worker"}').catch(() => []), (r) => r.length === 1, { timeoutMs: 30_000, intervalMs: 250 });
  assert.equal(busy[0]!.value[1], '0');
  const requests = await waitFor(() => query('trainyard_http_request_duration_seconds_count{job="api",method="POST",route="/v1/jobs",status="201"}').catch(() => []), (r) => r.length === 1, { timeoutMs: 30_000, intervalMs: 250 });
  assert.equal(requests[0]!.value[1], '4');

  for (const url of [`http://127.0.0.1:${apiPort}/metrics`, `http://127.0.0.1:${metricsServer!.port}/metrics`]) {
    const text = await (await fetch(url)).text();
    const checked = promtool(text);
    assert.equal(checked.output, '', `promtool on ${url}`);
    assert.equal(checked.status, 0);
  }
});

test('promtool does complain about a broken exposition (the check is not a no-op)', { skip }, () => {
  const checked = promtool('# TYPE trainyard_bad counter\ntrainyard_bad 1\n');
  assert.notEqual(checked.output, '');
  void existsSync;
});
