// The dashboard in a real browser (Debian's Chromium) against the real service: an
// API process and a worker process training real small jobs. What the page shows is
// checked against the API's own answers, read here with fetch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { startService, type ServiceProcesses } from '../helpers/service-process.js';
import { ARTIFACTS, launchChromium } from '../helpers/browser.js';

let svc: ServiceProcesses;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const requests: { url: string; authorization: string | undefined }[] = [];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(p: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(`${svc.url}${p}`, { ...init, headers: { authorization: `Bearer ${svc.apiKey}`, 'content-type': 'application/json', ...(init.headers as object) } });
  assert.ok(res.ok, `${p}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

async function waitForJob(id: string, done: (job: { status: string }) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await api(`/v1/jobs/${id}`);
    if (done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function shot(name: string) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** stops early: validation loss stops improving well before 40 epochs (seeded, so every run) */
const EARLY_STOP_SPEC = {
  name: 'e2e-early-stop',
  dataset: { name: 'synthetic/spirals', n: 300, validationSplit: 0.3, seed: 1 },
  model: { layers: [{ type: 'dense', units: 16, activation: 'sigmoid' }, { type: 'dense', units: 16, activation: 'sigmoid' }, { type: 'dense', units: 3, activation: 'softmax' }] },
  loss: 'cross-entropy',
  optimizer: { type: 'adam', learningRate: 0.05 },
  training: { epochs: 40, batchSize: 16, seed: 3 },
  earlyStopping: { monitor: 'val_loss', mode: 'min', patience: 3 },
};

/** long enough per epoch (thousands of samples, batch 8) to be watched while it runs */
const LIVE_EPOCHS = 8;
const LIVE_SPEC = {
  name: 'e2e-live',
  dataset: { name: 'synthetic/spirals', n: 2000, validationSplit: 0.2, seed: 2 },
  model: { layers: [{ type: 'dense', units: 24, activation: 'tanh' }, { type: 'dense', units: 24, activation: 'tanh' }, { type: 'dense', units: 3, activation: 'softmax' }] },
  loss: 'cross-entropy',
  optimizer: { type: 'adam', learningRate: 0.01 },
  training: { epochs: LIVE_EPOCHS, batchSize: 8, seed: 5 },
};

before(async () => {
  svc = await startService('e2e');
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  // CSP violations are recorded by an init script (injected by the browser, not the page)
  await context.addInitScript(() => {
    (window as unknown as { __csp: string[] }).__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  context.setDefaultTimeout(60_000); // a loaded CI machine runs the suite in parallel
  page = await context.newPage();
  page.on('request', (r: Request) => requests.push({ url: r.url(), authorization: r.headers().authorization }));
  page.on('pageerror', (e) => { throw e; });
});

after(async () => {
  await browser?.close();
  await svc?.close();
});

test('the key from #key= is sent as a Bearer header, removed from the URL, never put in a query string', async () => {
  const res = await fetch(`${svc.url}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-security-policy') ?? '', /^default-src 'self'/);
  await page.goto(`${svc.url}/#key=${svc.apiKey}`);
  await page.locator('#jobs-table').waitFor();
  await page.waitForFunction(() => !location.hash.includes('key='));
  assert.ok(!page.url().includes(svc.apiKey), page.url());
  const v1 = requests.filter((r) => r.url.includes('/v1/'));
  assert.ok(v1.length > 0);
  for (const r of v1) assert.equal(r.authorization, `Bearer ${svc.apiKey}`, r.url);
  assert.ok(requests.every((r) => !r.url.includes(svc.apiKey)));
});

test('an invalid spec submitted through the form shows each problem next to its pointer', async () => {
  await page.goto(`${svc.url}/submit`);
  const bad = { ...LIVE_SPEC, model: { layers: [{ type: 'dense', units: 0, activation: 'tanh' }, { type: 'dense', units: 3, activation: 'softmax' }] }, optimizer: { type: 'adam', learningRate: -1 } };
  const text = JSON.stringify(bad, null, 2);
  await page.locator('#spec-editor').fill(text);
  await page.locator('#submit-spec').click();
  await page.locator('#problems li[data-pointer]').first().waitFor();
  const shown = await page.locator('#problems li[data-pointer]').evaluateAll((lis) => lis.map((li) => [li.getAttribute('data-pointer'), li.textContent]));
  // the API's own answer to the same spec
  const res = await fetch(`${svc.url}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${svc.apiKey}`, 'content-type': 'application/json' }, body: text });
  assert.equal(res.status, 400);
  const details = (await res.json()).error.details as { pointer: string; message: string }[];
  assert.deepEqual(shown.map(([p]) => p).sort(), details.map((d) => d.pointer).sort());
  for (const d of details) assert.ok(shown.some(([p, t]) => p === d.pointer && t!.includes(d.message)), d.message);
  // a pointer selects its field's value in the editor
  await page.locator('#problems li[data-pointer="/model/layers/0/units"] button').click();
  const selected = await page.locator('#spec-editor').evaluate((el: HTMLTextAreaElement) => el.value.slice(el.selectionStart, el.selectionEnd));
  assert.equal(selected, '0');
  await shot('submit-invalid');
});

let liveId: string;

test('a job submitted through the form: its curve grows live, the heatmap has a cell per layer and epoch', async () => {
  // the worker is held (SIGSTOP) until the job page has loaded, so the curve can only
  // grow live, however fast or slow this machine trains
  svc.worker.kill('SIGSTOP');
  let held = true;
  const release = () => { if (held) { held = false; svc.worker.kill('SIGCONT'); } };
  try {
    await page.goto(`${svc.url}/submit`);
    await page.locator('#spec-editor').fill(JSON.stringify(LIVE_SPEC, null, 2));
    const submitted = page.waitForRequest((r) => r.url().endsWith('/v1/jobs') && r.method() === 'POST');
    await page.locator('#submit-spec').click();
    const post = await submitted;
    assert.match(post.headers()['idempotency-key'] ?? '', /^[0-9a-f-]{36}$/);
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
    liveId = page.url().split('/').at(-1)!;
    assert.equal((await api(`/v1/jobs/${liveId}`)).name, 'e2e-live');

    // live: once the page has loaded (its batch_loss request answered), the loss table
    // gains rows without a reload
    await page.waitForFunction(() => document.getElementById('batch-info')?.dataset.points !== undefined, null, { timeout: 60_000 });
    const first = await page.locator('#loss .numbers tbody tr').count();
    assert.ok(first < LIVE_EPOCHS, `the job was still training when the page had loaded (${first} epochs shown)`);
    release();
    await page.waitForFunction((n) => document.querySelectorAll('#loss .numbers tbody tr').length > n, first, { timeout: 60_000 });
  } finally {
    release();
  }
  await waitForJob(liveId, (j) => j.status === 'succeeded');
  await page.waitForFunction((n) => document.querySelectorAll('#loss .numbers tbody tr').length === n, LIVE_EPOCHS, { timeout: 30_000 });
  assert.ok(requests.some((r) => r.url.endsWith(`/v1/jobs/${liveId}/events`) && r.authorization === `Bearer ${svc.apiKey}`), 'SSE over fetch with the key');

  // heatmap: one cell per (trainable layer, epoch), valued as the API stores grad_norm/<i>
  await page.locator('#grad-norms rect.heatmap-cell').first().waitFor();
  const cells = await page.locator('#grad-norms rect.heatmap-cell').evaluateAll((rs) => rs.map((r) => [r.getAttribute('data-layer'), Number(r.getAttribute('data-epoch')), Number(r.getAttribute('data-value'))] as const));
  const names = ['grad_norm/0', 'grad_norm/1', 'grad_norm/2'];
  const stored = await api(`/v1/jobs/${liveId}/metrics?${names.map((n) => `name=${encodeURIComponent(n)}`).join('&')}`);
  const expected = stored.series.flatMap((s: { name: string; points: { epoch: number; value: number }[] }) => s.points.map((p) => [Number(s.name.split('/')[1]), p.epoch, p.value]));
  assert.equal(cells.length, 3 * LIVE_EPOCHS);
  assert.equal(expected.length, 3 * LIVE_EPOCHS);
  const byKey = new Map(cells.map(([layer, epoch, value]) => [`${layer!.split(':')[0]}/${epoch}`, value]));
  // (live cells come from the SSE epoch events, which carry the values before storage rounds them to 16 digits)
  for (const [layer, epoch, value] of expected) {
    const shown = byKey.get(`${layer}/${epoch}`);
    assert.ok(shown !== undefined && Math.abs(shown - value) <= 1e-12 * Math.abs(value), `layer ${layer} epoch ${epoch}: ${shown} vs ${value}`);
  }
  await shot('job-page-live');
});

test('early stopping: every decision is a marker with its reason on hover; best and stop epochs are marked', async () => {
  const { id } = await api('/v1/jobs', { method: 'POST', body: JSON.stringify(EARLY_STOP_SPEC) });
  const job = await waitForJob(id, (j) => j.status === 'succeeded');
  assert.equal(job.result.stoppedEarly, true);
  const { items: decisions } = await api(`/v1/jobs/${id}/early-stopping`);
  await page.goto(`${svc.url}/jobs/${id}`);
  await page.waitForFunction((n) => document.querySelectorAll('#loss .marker').length === n, decisions.length, { timeout: 30_000 });
  const markers = await page.locator('#loss .marker').evaluateAll((ms) => ms.map((m) => [Number(m.getAttribute('data-x')), m.getAttribute('data-kind') ?? '', m.getAttribute('title') ?? ''] as const));
  for (const d of decisions) {
    const m = markers.find(([x]) => x === d.epoch);
    assert.ok(m, `marker for epoch ${d.epoch}`);
    assert.equal(m![1], d.decision);
    assert.ok(m![2].includes(d.reason), `${m![2]} has "${d.reason}"`);
  }
  const stop = decisions.find((d: { decision: string }) => d.decision === 'stop');
  assert.equal(await page.locator(`#loss .vline-stop[data-x="${stop.epoch}"]`).count(), 1);
  assert.equal(await page.locator(`#loss .vline-best[data-x="${job.result.best.epoch}"]`).count(), 1);
  const stopMarker = page.locator(`#loss .marker[data-kind="stop"]`);
  await stopMarker.hover();
  assert.ok(await stopMarker.locator('.marker-tip').isVisible(), 'the reason shows on hover');
  assert.match(await page.locator('#diagnosis').innerText(), new RegExp(job.diagnosis.verdict));
  await shot('job-page-early-stop');
  if (process.env.TRAINYARD_UPDATE_DOCS_SCREENSHOT === '1') {
    mkdirSync('docs', { recursive: true });
    copyFileSync(path.join(ARTIFACTS, 'job-page-early-stop.png'), 'docs/job-page.png');
  }
});

test('a drag over batch_loss refetches that step range with maxPoints about the chart width', async () => {
  const plot = page.locator('#batch-loss .u-over');
  await plot.scrollIntoViewIfNeeded();
  const box = (await plot.boundingBox())!;
  const refetch = page.waitForRequest((r) => r.url().includes('/metrics?') && r.url().includes('from='));
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  const q = new URL((await refetch).url()).searchParams;
  const from = Number(q.get('from')), to = Number(q.get('to')), maxPoints = Number(q.get('maxPoints'));
  assert.ok(from < to, `${from} < ${to}`);
  assert.ok(Math.abs(maxPoints - box.width) <= 4, `maxPoints ${maxPoints} ≈ width ${box.width}`);
  await page.waitForFunction((f) => document.getElementById('batch-info')?.dataset.from === String(f), from);
  assert.ok(await page.locator('#reset-zoom').isVisible());
});

test('compare: two jobs picked on the jobs page, one metric overlaid, differing spec fields side by side', async () => {
  await page.goto(`${svc.url}/`);
  const list = await api('/v1/jobs');
  const ids = list.items.filter((j: { status: string }) => j.status === 'succeeded').map((j: { id: string }) => j.id);
  assert.equal(ids.length, 2);
  for (const id of ids) await page.locator(`#jobs-table input[data-job="${id}"]`).check();
  await page.locator('#compare-selected').click();
  await page.waitForURL(/\/compare\?jobs=/);
  await page.waitForFunction(() => document.querySelector('#compare-chart .chart')?.getAttribute('data-series') === '2', null, { timeout: 30_000 });
  const legend = await page.locator('#compare-chart .u-legend').innerText();
  assert.match(legend, /e2e-live/);
  assert.match(legend, /e2e-early-stop/);
  const diffPointers = await page.locator('#spec-diff tr[data-pointer]').evaluateAll((trs) => trs.map((t) => t.getAttribute('data-pointer')));
  // fields the two specs set differently (see LIVE_SPEC and EARLY_STOP_SPEC)
  for (const p of ['/dataset/n', '/dataset/seed', '/training/epochs', '/training/batchSize', '/optimizer/learningRate', '/model/layers/0/activation', '/model/layers/0/units']) {
    assert.ok(diffPointers.includes(p), `${p} in ${diffPointers.join(', ')}`);
  }
  assert.ok(!diffPointers.includes('/loss'), 'equal fields are not listed');
  await shot('compare');
});

test('no page broke the Content-Security-Policy', async () => {
  const violations = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
  assert.deepEqual(violations, []);
});
