// The sweep pages in a real browser (Debian's Chromium) against the real service: an
// API process and a worker process training a tiny ASHA sweep. What the pages show
// is checked against the API's own answers, read here with fetch.
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
const requests: { url: string; at: number }[] = [];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
async function api(p: string, init: RequestInit = {}): Promise<Json> {
  const res = await fetch(`${svc.url}${p}`, { ...init, headers: { authorization: `Bearer ${svc.apiKey}`, 'content-type': 'application/json', ...(init.headers as object) } });
  assert.ok(res.ok, `${p}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

/**
 * One trial at a time (parallelism 1): ASHA (η = 2) sees the trials in plan order
 * and, everything seeded, decides the same every run — only the best half of the
 * trials that reached a rung continue, so a trial whose epoch-1 val_loss is worse
 * than those before it is pruned there (with these seeds #1 and #3, the smallest
 * learning rates). Four epochs: rungs at epochs 1 and 2. The test asserts what the
 * API answers, not these outcomes.
 */
const SWEEP = {
  name: 'e2e-sweep',
  spec: {
    name: 'e2e-sweep-trial',
    dataset: { name: 'synthetic/spirals', n: 600, validationSplit: 0.25, seed: 1 },
    model: { layers: [{ type: 'dense', units: 24, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
    loss: 'cross-entropy',
    optimizer: { type: 'adam', learningRate: 0.01 },
    training: { epochs: 4, batchSize: 16, seed: 7 },
  },
  parameters: { '/optimizer/learningRate': { values: [0.01, 0.0003, 0.03, 0.003] } },
  method: 'grid', parallelism: 1,
  objective: { metric: 'val_loss', mode: 'min' },
  pruner: { type: 'asha', minEpochs: 1, reductionFactor: 2 },
};

before(async () => {
  svc = await startService('e2e-sweeps');
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  await context.addInitScript(() => {
    (window as unknown as { __csp: string[] }).__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  context.setDefaultTimeout(60_000);
  page = await context.newPage();
  page.on('request', (r: Request) => requests.push({ url: r.url(), at: Date.now() }));
  page.on('pageerror', (e) => { throw e; });
});

after(async () => {
  await browser?.close();
  await svc?.close();
});

let sweepId: string;
let listPage: Page;

/** The ended sweep's page, freshly loaded (so a test does not lean on the one before it). */
async function openEndedSweep(): Promise<void> {
  assert.ok(sweepId, 'the first test submitted the sweep');
  if (listPage && !listPage.isClosed()) await listPage.close(); // left open by a failed first test
  const deadline = Date.now() + 60_000;
  while ((await api(`/v1/sweeps/${sweepId}`)).status === 'running') {
    if (Date.now() > deadline) throw new Error(`sweep ${sweepId} still running`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await page.goto(`${svc.url}/sweeps/${sweepId}`);
  await page.waitForFunction(() => document.getElementById('main')?.dataset.status === 'succeeded');
}

test('the sweeps list shows a new sweep; its page follows it live from queued trials to the end, then stops asking', async () => {
  await page.goto(`${svc.url}/sweeps#key=${svc.apiKey}`);
  await page.locator('#sweeps-table').waitFor();
  // the worker is held (SIGSTOP) so the sweep is certainly running when the pages load
  svc.worker.kill('SIGSTOP');
  try {
    sweepId = (await api('/v1/sweeps', { method: 'POST', body: JSON.stringify(SWEEP) })).id;
    await page.locator('nav#nav a[href="/sweeps"]').click();
    const row = page.locator(`#sweeps-table tr[data-sweep="${sweepId}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'running');
    assert.match(await row.innerText(), /^e2e-sweep\n[\s\S]*running\s+0\/4\s+1 queued\s+val_loss \(min\)/, svc.apiOutput().split('\n').filter((l) => /"level":(40|50)/.test(l)).join('\n'));
    assert.equal(await row.locator('button[data-cancel]').count(), 1, 'a running sweep can be cancelled from the list');
    await row.locator(`a[href="/sweeps/${sweepId}"]`).click();
    await page.waitForURL(new RegExp(`/sweeps/${sweepId}$`));
    await page.waitForFunction(() => document.getElementById('main')?.dataset.status === 'running');
    assert.equal(await page.locator('#main').getAttribute('data-first-status'), 'running');
    assert.equal(await page.locator('#trials-table tbody tr[data-job]').count(), 1, 'the first trial, queued');
    // the list in a second tab, to be followed live too
    listPage = await context.newPage();
    // a new tab has its own sessionStorage: it gets the key the way a person would give it
    await listPage.goto(`${svc.url}/sweeps#key=${svc.apiKey}`);
    await listPage.locator(`#sweeps-table tr[data-sweep="${sweepId}"][data-status="running"]`).waitFor();
    assert.deepEqual(await Promise.all([page, listPage].map((p) => p.evaluate(() => document.visibilityState))), ['visible', 'visible'], 'both tabs poll at the visible rate');
  } finally {
    svc.worker.kill('SIGCONT');
  }
  // no reload from here on: both pages poll until the sweep has ended
  await page.waitForFunction(() => document.getElementById('main')?.dataset.status === 'succeeded', null, { timeout: 60_000 });
  await listPage.locator(`#sweeps-table tr[data-sweep="${sweepId}"][data-status="succeeded"]`).waitFor();
  assert.match(await listPage.locator(`#sweeps-table tr[data-sweep="${sweepId}"]`).innerText(), /succeeded\s+4\/4\s+2 succeeded, 2 pruned\s/);
  await listPage.close();
  const sweep = await api(`/v1/sweeps/${sweepId}`);
  assert.equal(sweep.status, 'succeeded');
  const { items: trials } = await api(`/v1/sweeps/${sweepId}/trials`);
  await page.waitForFunction((n) => document.querySelectorAll('#trials-table tbody tr[data-job]').length === n, trials.length);

  const ended = Date.now();
  const sweepCalls = () => requests.filter((r) => r.url.includes(`/v1/sweeps/${sweepId}`) && r.at > ended).length;
  // two polling periods (2.5 s each) with no request: the page stopped asking
  await new Promise((r) => setTimeout(r, 5_500));
  assert.equal(sweepCalls(), 0, 'an ended sweep is not polled');
  assert.equal(await page.locator('#cancel-sweep').count(), 0, 'an ended sweep has no cancel button');
});

test('the trials table: one row per trial, sorted by objective, the best highlighted, pruned trials with the pruner\'s reason', async () => {
  await openEndedSweep();
  const sweep = await api(`/v1/sweeps/${sweepId}`);
  const { items: byObjective } = await api(`/v1/sweeps/${sweepId}/trials?sort=objective`);
  const { items: decisions } = await api(`/v1/sweeps/${sweepId}/decisions`);
  assert.equal(byObjective.length, 4);
  const rows = page.locator('#trials-table tbody tr[data-job]');
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((t) => t.getAttribute('data-job'))), byObjective.map((t: Json) => t.jobId), 'best first, as the API sorts');
  const shown = await rows.evaluateAll((trs) => trs.map((t) => ({ status: t.getAttribute('data-status'), value: Number(t.querySelector('td[data-value]')!.getAttribute('data-value')), text: t.textContent })));
  for (const [i, t] of byObjective.entries()) {
    assert.equal(shown[i]!.status, t.status);
    assert.equal(shown[i]!.value, t.value);
    assert.ok(shown[i]!.text!.includes(`#${t.index}`));
  }
  assert.equal(await page.locator('#trials-table tr.best-row').getAttribute('data-job'), sweep.best.jobId);
  assert.match(await page.locator('#sweep-best').innerText(), new RegExp(`val_loss ${sweep.best.value.toPrecision(4)} at epoch ${sweep.best.epoch}`));

  const pruned = byObjective.filter((t: Json) => t.status === 'pruned');
  assert.ok(pruned.length >= 1, 'the sweep pruned a trial');
  for (const t of pruned) {
    const d = decisions.find((x: Json) => x.jobId === t.jobId && x.decision === 'prune');
    const row = page.locator(`#trials-table tr[data-job="${t.jobId}"]`);
    assert.equal(await row.getAttribute('title'), d.reason, 'the reason on hover');
    const why = row.locator('details.why');
    assert.equal(await why.locator('p[data-reason]').isVisible(), false);
    await why.locator('summary').click();
    assert.equal(await why.locator('p[data-reason]').innerText(), d.reason, 'and expanded');
  }

  // keyboard: a header's sort button, focused and pressed with Enter, sorts by plan index
  await page.locator('#trials-table button[data-sort="index"]').focus();
  await page.keyboard.press('Enter');
  const indices = await rows.evaluateAll((trs) => trs.map((t) => Number(t.getAttribute('data-index'))));
  assert.deepEqual(indices, [0, 1, 2, 3]);

  // the decisions log: every decision with its numbers and sentence
  const logged = await page.locator('#decisions-table tbody tr').evaluateAll((trs) => trs.map((t) => [t.getAttribute('data-job'), Number(t.getAttribute('data-epoch')), t.getAttribute('data-decision'), t.querySelector('td.reason')!.textContent]));
  assert.deepEqual(logged, decisions.map((d: Json) => [d.jobId, d.epoch, d.decision, d.reason]));
});

test('the overlay chart has a series per trial, pruned ones dashed grey with their stop epoch marked and explained', async () => {
  await openEndedSweep();
  const { items: trials } = await api(`/v1/sweeps/${sweepId}/trials`);
  const { items: decisions } = await api(`/v1/sweeps/${sweepId}/decisions`);
  const chart = page.locator('#sweep-curves .chart');
  await chart.scrollIntoViewIfNeeded();
  assert.equal(await chart.getAttribute('data-series'), String(trials.length));
  const pruned = trials.filter((t: Json) => t.status === 'pruned');
  assert.equal(await chart.getAttribute('data-pruned-series'), String(pruned.length));
  const legend = await page.locator('#sweep-curves .u-legend').innerText();
  for (const t of trials) assert.ok(legend.includes(`#${t.index}${t.status === 'pruned' ? ' pruned' : ''}`), `${t.index} in ${legend}`);
  const markers = await page.locator('#sweep-curves .marker-prune').evaluateAll((ms) => ms.map((m) => [Number(m.getAttribute('data-x')), m.getAttribute('title') ?? ''] as const));
  assert.equal(markers.length, pruned.length);
  for (const t of pruned) {
    const d = decisions.find((x: Json) => x.jobId === t.jobId && x.decision === 'prune');
    assert.ok(markers.some(([x, title]) => x === d.epoch && title.startsWith(`trial #${t.index} pruned at epoch ${d.epoch}: `) && title.endsWith(d.reason)), JSON.stringify(markers));
  }
  // the chart's numbers: one column per trial, values as the metrics API stores them
  await page.locator('#sweep-curves details summary').click();
  const header = await page.locator('#sweep-curves .numbers thead th').allInnerTexts();
  assert.equal(header.length, 1 + trials.length);
  const stored = await api(`/v1/metrics?${trials.map((t: Json) => `job=${t.jobId}`).join('&')}&name=val_loss`);
  const cells = await page.locator('#sweep-curves .numbers tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  const points = stored.series.reduce((n: number, s: Json) => n + s.points.length, 0);
  assert.equal(cells.flat().filter((c, i) => i % (1 + trials.length) !== 0 && c !== '–').length, points);
  // back to best first, a pruned trial's marker hovered: the screenshot
  await page.locator('#trials-table button[data-sort="objective"]').click();
  assert.deepEqual(await page.locator('#trials-table tbody tr[data-job]').evaluateAll((trs) => trs.map((t) => t.getAttribute('data-job'))),
    (await api(`/v1/sweeps/${sweepId}/trials?sort=objective`)).items.map((t: Json) => t.jobId));
  const marker = page.locator('#sweep-curves .marker-prune').first();
  await marker.hover();
  assert.ok(await marker.locator('.marker-tip').isVisible(), 'the reason shows on hover');
  await page.screenshot({ path: path.join(ARTIFACTS, 'sweep-page.png'), fullPage: true });
  if (process.env.TRAINYARD_UPDATE_DOCS_SCREENSHOT === '1') {
    mkdirSync('docs', { recursive: true });
    copyFileSync(path.join(ARTIFACTS, 'sweep-page.png'), 'docs/sweep-page.png');
  }
});

test('a trial\'s job page links back to its sweep', async () => {
  const { items: trials } = await api(`/v1/sweeps/${sweepId}/trials`);
  const t = trials.find((x: Json) => x.status === 'pruned');
  await openEndedSweep();
  await page.locator(`#trials-table tr[data-job="${t.jobId}"] a[href="/jobs/${t.jobId}"]`).click();
  await page.waitForURL(new RegExp(`/jobs/${t.jobId}$`));
  const link = page.locator('#job-sweep');
  await page.waitForFunction(() => document.getElementById('job-sweep')?.textContent === 'sweep e2e-sweep');
  await link.click();
  await page.waitForURL(new RegExp(`/sweeps/${sweepId}$`));
  await page.locator('#trials-table tbody tr[data-job]').first().waitFor();
});

test('cancel on a running sweep\'s page ends the sweep and its trials', async () => {
  const long = {
    ...SWEEP, name: 'e2e-sweep-cancel', parallelism: 2,
    spec: { ...SWEEP.spec, dataset: { name: 'synthetic/spirals', n: 3000, validationSplit: 0.2, seed: 1 }, training: { epochs: 200, batchSize: 8, seed: 7 } },
  };
  const { id } = await api('/v1/sweeps', { method: 'POST', body: JSON.stringify(long) });
  await page.goto(`${svc.url}/sweeps/${id}`);
  await page.locator('#cancel-sweep').click();
  await page.waitForFunction(() => document.getElementById('main')?.dataset.status === 'cancelled');
  assert.equal((await api(`/v1/sweeps/${id}`)).status, 'cancelled');
  await page.waitForFunction(() => [...document.querySelectorAll('#trials-table tbody tr[data-job]')].every((tr) => tr.getAttribute('data-status') === 'cancelled'), null, { timeout: 60_000 });
  const { items } = await api(`/v1/sweeps/${id}/trials`);
  for (const t of items) assert.equal(t.status, 'cancelled');
  assert.equal(await page.locator('#cancel-sweep').count(), 0);
});

test('no sweep page broke the Content-Security-Policy', async () => {
  const violations = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
  assert.deepEqual(violations, []);
});
