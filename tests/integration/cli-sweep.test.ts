// `trainyard sweep …` (the real binary, node dist/src/cli/trainyard.js) against the
// real service: an API process and a worker process on a fresh database training a
// tiny sweep. What the CLI prints is compared with the API's own JSON, read here
// with fetch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startService, type ServiceProcesses } from '../helpers/service-process.js';
import { tinySpec } from '../helpers/app.js';
import { writeTensors } from '../helpers/safetensors-bytes.js';

const CLI = fileURLToPath(new URL('../../src/cli/trainyard.js', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'trainyard-cli-sweep-'));
let svc: ServiceProcesses;

before(async () => {
  svc = await startService('cli-sweep');
});
after(async () => {
  await svc?.close();
});

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath, [CLI, ...args],
      { env: { ...process.env, TRAINYARD_URL: svc.url, TRAINYARD_API_KEY: svc.apiKey }, timeout: 90_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(pathAndQuery: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(`${svc.url}${pathAndQuery}`, { ...init, headers: { authorization: `Bearer ${svc.apiKey}`, ...(init.headers as object) } });
  assert.ok(res.ok, `${pathAndQuery}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

function file(name: string, body: unknown): string {
  const f = path.join(dir, `${name}.json`);
  writeFileSync(f, JSON.stringify(body));
  return f;
}

/**
 * One trial at a time (parallelism 1), so ASHA sees the trials in plan order and, the
 * data and training seeded, takes the same decisions every run: with η = 2 only the
 * best half of the trials that reached a rung continue, so a trial whose epoch-1
 * val_loss is worse than the ones before it is pruned there (with these seeds trial
 * #2, learning rate 0.02). The test asserts only what the API then answers.
 */
const SWEEP = {
  name: 'cli-sweep',
  spec: tinySpec({ dataset: { name: 'synthetic/xor', n: 256, validationSplit: 0.25, seed: 1 }, training: { epochs: 3, batchSize: 16, seed: 7 } }),
  parameters: { '/optimizer/learningRate': { values: [0.05, 0.00001, 0.02] } },
  method: 'grid', parallelism: 1,
  objective: { metric: 'val_loss', mode: 'min' },
  pruner: { type: 'asha', minEpochs: 1, reductionFactor: 2 },
};

let sweepId: string;

test('sweep submit --watch prints the id, one line per decision and per trial end, and exits 0 when the sweep succeeds', async () => {
  const run = await cli(['sweep', 'submit', file('ok', SWEEP), '--watch']);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  sweepId = run.stdout.split('\n')[0]!;
  assert.match(sweepId, /^[0-9a-f-]{36}$/);
  const sweep = await api(`/v1/sweeps/${sweepId}`);
  assert.equal(sweep.status, 'succeeded');
  const { items: trials } = await api(`/v1/sweeps/${sweepId}/trials`);
  const { items: decisions } = await api(`/v1/sweeps/${sweepId}/decisions`);
  assert.equal(trials.length, 3);
  assert.ok(trials.some((t: { status: string }) => t.status === 'pruned'), 'the spec prunes trial 1');

  const lines = run.stdout.split('\n');
  const decisionLines = lines.filter((l) => /^trial #\d+ {2}epoch \d+/.test(l));
  assert.equal(decisionLines.length, decisions.length, run.stdout);
  for (const d of decisions) {
    const index = trials.find((t: { jobId: string }) => t.jobId === d.jobId).index;
    const line = decisionLines.find((l) => l.startsWith(`trial #${index}  epoch ${d.epoch}`));
    assert.ok(line, `a line for trial ${index}'s decision at epoch ${d.epoch}`);
    assert.ok(line!.includes(d.decision.toUpperCase()), line);
    assert.ok(line!.endsWith(d.reason), `${line} ends with the stored reason`);
  }
  const endLines = lines.filter((l) => /^trial #\d+ (succeeded|pruned|failed|cancelled) after/.test(l));
  assert.equal(endLines.length, 3, run.stdout);
  for (const t of trials) {
    assert.ok(endLines.some((l) => l.startsWith(`trial #${t.index} ${t.status} after ${t.epochsTrained} epoch`)), `trial ${t.index} ended ${t.status} after ${t.epochsTrained}`);
  }
  assert.match(lines.filter(Boolean).at(-1)!, /^sweep succeeded: 3\/3 trials/);
});

test('sweep status shows the counts, the best trial and every trial, best first', async () => {
  const run = await cli(['sweep', 'status', sweepId]);
  assert.equal(run.code, 0, run.stderr);
  const sweep = await api(`/v1/sweeps/${sweepId}`);
  const { items: trials } = await api(`/v1/sweeps/${sweepId}/trials`);
  const best = trials.find((t: { jobId: string }) => t.jobId === sweep.best.jobId);
  const lines = run.stdout.split('\n');
  const statusLine = lines.find((l) => l.startsWith('status '))!;
  assert.match(statusLine, /succeeded, 3\/3 trials ended/);
  for (const s of ['succeeded', 'pruned'] as const) if (sweep.counts[s] > 0) assert.ok(statusLine.includes(`${sweep.counts[s]} ${s}`), statusLine);
  const bestLine = lines.find((l) => l.startsWith('best '))!;
  assert.ok(bestLine.includes(`trial #${best.index} job ${sweep.best.jobId}`), bestLine);
  assert.ok(bestLine.includes(`val_loss ${sweep.best.value.toPrecision(4)} at epoch ${sweep.best.epoch}`), bestLine);

  // the trials table: one row per trial; the best is first and starred; value order ascending (min)
  const header = lines.findIndex((l) => /^ #\s+STATUS\s+VAL_LOSS/.test(l));
  assert.ok(header > 0, run.stdout);
  const rows = lines.slice(header + 1).filter(Boolean);
  assert.equal(rows.length, 3);
  assert.ok(rows[0]!.startsWith(`*${best.index} `), rows[0]);
  assert.ok(rows[0]!.endsWith(sweep.best.jobId));
  const minimum = Math.min(...trials.map((t: { value: number }) => t.value));
  assert.equal(sweep.best.value, minimum, 'best is the lowest val_loss of any trial');
  for (const t of trials) {
    const row = rows.find((r) => r.endsWith(t.jobId));
    assert.ok(row, `a row for trial ${t.index}`);
    assert.match(row!, new RegExp(`^[* ]${t.index}\\s+${t.status}\\s+${t.value.toPrecision(4).replace('.', '\\.')}\\s+${t.epoch}\\s+${t.epochsTrained}\\s`));
  }
});

test('sweep list shows the sweep with its status and counts', async () => {
  const run = await cli(['sweep', 'list']);
  assert.equal(run.code, 0, run.stderr);
  const row = run.stdout.split('\n').find((l) => l.startsWith(sweepId));
  assert.ok(row, run.stdout);
  assert.match(row!, /cli-sweep\s+succeeded\s+3\/3\s/);
});

test('an invalid sweep prints the 400\'s pointers one per line and exits 1', async () => {
  const bad = { ...SWEEP, parameters: { '/optimizer/nope': { values: [1] }, '/optimizer/learningRate': { distribution: 'uniform', min: 1, max: 0.1 } }, method: 'random', maxTrials: 2 };
  const run = await cli(['sweep', 'submit', file('bad', bad)]);
  assert.equal(run.code, 1);
  const res = await fetch(`${svc.url}/v1/sweeps`, { method: 'POST', headers: { authorization: `Bearer ${svc.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(bad) });
  assert.equal(res.status, 400);
  const details = (await res.json()).error.details as { pointer: string; message: string }[];
  assert.ok(details.length >= 2);
  const printed = run.stderr.split('\n').filter((l) => l.startsWith('  /'));
  assert.deepEqual(printed, details.map((d) => `  ${d.pointer}: ${d.message}`));
});

test('watch exits 1 when the sweep fails (every trial failed) and says so', async () => {
  // weights for a 5-input first layer; xor has 2 inputs: every trial fails INCOMPATIBLE_WEIGHTS
  const f = (n: number) => new Float32Array(n).fill(0.1);
  const bytes = writeTensors([
    { name: 'layers.0.weight', shape: [8, 5], values: f(40) }, { name: 'layers.0.bias', shape: [8], values: f(8) },
    { name: 'layers.1.weight', shape: [2, 8], values: f(16) }, { name: 'layers.1.bias', shape: [2], values: f(2) },
  ]);
  const upload = await api('/v1/checkpoints', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) });
  const failing = { ...SWEEP, name: 'cli-sweep-fails', spec: { ...SWEEP.spec, initialWeights: { checkpointId: upload.id } }, parameters: { '/optimizer/learningRate': { values: [0.05, 0.02] } } };
  const run = await cli(['sweep', 'submit', file('fails', failing), '--watch']);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  const id = run.stdout.split('\n')[0]!;
  assert.equal((await api(`/v1/sweeps/${id}`)).status, 'failed');
  assert.equal(run.stdout.split('\n').filter((l) => /^trial #\d+ failed after 0 epochs/.test(l)).length, 2, run.stdout);
  assert.match(run.stdout, /^sweep failed: 2\/2 trials \(2 failed\)/m);
  assert.match(run.stderr, /failed: no trial succeeded or was pruned/);
});

test('sweep cancel ends a running sweep; watch then exits 1', async () => {
  const long = { ...SWEEP, name: 'cli-sweep-cancel', spec: tinySpec({ dataset: { name: 'synthetic/xor', n: 3000, validationSplit: 0.2, seed: 1 }, training: { epochs: 200, batchSize: 8, seed: 7 } }), parameters: { '/optimizer/learningRate': { values: [0.01, 0.02] } } };
  const submitted = await cli(['sweep', 'submit', file('long', long)]);
  assert.equal(submitted.code, 0, submitted.stderr);
  const id = submitted.stdout.trim();
  const cancelled = await cli(['sweep', 'cancel', id]);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  assert.match(cancelled.stdout, new RegExp(`^sweep ${id} cancelled`));
  assert.equal((await api(`/v1/sweeps/${id}`)).status, 'cancelled');
  const watched = await cli(['sweep', 'watch', id]);
  assert.equal(watched.code, 1, watched.stdout + watched.stderr);
  assert.match(watched.stdout, /^sweep cancelled: /m);
  const again = await cli(['sweep', 'cancel', id]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already cancelled.*\(409 SWEEP_FINISHED\)/);
});
