// CI's run of `npm run experiments -- --quick`: every claim's code path against a real
// service (API + worker, fresh database), on a tiny budget. Verdicts at this budget mean
// nothing; the test checks that each experiment ran its jobs and wrote its part of the report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiments } from '../../bench/experiments/run.js';

const IDS = ['depth', 'vanishing', 'maxout', 'optimizers', 'early-stopping', 'l1-l2', 'dropout', 'weight-scaling', 'dropout-paper', 'fashion-mnist'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test('experiments --quick runs every claim as jobs on the real service and writes EXPERIMENTS.md, SVG plots and results.json', { timeout: 115_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'experiments-'));
  try {
    await runExperiments(['--quick', '--out', out, '--threads', '1']);
    const results = JSON.parse(readFileSync(join(out, 'experiments', 'results.json'), 'utf8'));
    assert.deepEqual(results.claims.map((c: { id: string }) => c.id), IDS);
    const fashionInstalled = existsSync('/usr/share/datasets/fashion-mnist');
    for (const c of results.claims) {
      assert.equal(typeof c.claim, 'string');
      assert.ok(c.held === true || c.held === false || c.held === null, `${c.id}: held ${c.held}`);
      assert.ok(!String(c.note ?? '').startsWith('failed'), `${c.id}: ${c.note}`);
      if (c.id === 'fashion-mnist' && !fashionInstalled) { assert.match(c.note, /missing/); continue; }
      assert.ok(c.jobs.length > 0 && c.jobs.every((j: string) => UUID.test(j)), `${c.id}: jobs ${c.jobs}`);
      assert.ok(Object.keys(c.numbers).length > 0, `${c.id}: no numbers`);
    }
    const md = readFileSync(join(out, 'EXPERIMENTS.md'), 'utf8');
    for (const id of IDS) assert.ok(md.includes(`## ${id}\n`), `no section for ${id}`);
    const plots = [...md.matchAll(/\]\((experiments\/[^)]+\.svg)\)/g)].map((m) => m[1]);
    assert.ok(plots.length >= 8, `${plots.length} plots`);
    for (const p of plots) assert.match(readFileSync(join(out, p), 'utf8'), /^<svg [^>]*>[\s\S]*<polyline [\s\S]*<\/svg>\n$/);
    assert.match(md, /npm run experiments -- --quick/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
