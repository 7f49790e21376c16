// The `trainyard` binary (node dist/src/cli/trainyard.js, what package.json "bin"
// names) against the real service: an API process and a worker process on a fresh
// database, training real tiny jobs. Values the CLI prints are compared with the
// API's own JSON, read here with fetch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startService, type ServiceProcesses } from '../helpers/service-process.js';
import { tinySpec } from '../helpers/app.js';

const CLI = fileURLToPath(new URL('../../src/cli/trainyard.js', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'trainyard-cli-'));
let svc: ServiceProcesses;

before(async () => {
  svc = await startService('cli');
});
after(async () => {
  await svc?.close();
});

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath, [CLI, ...args],
      { env: { ...process.env, TRAINYARD_URL: svc.url, TRAINYARD_API_KEY: svc.apiKey, ...env }, timeout: 90_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(pathAndQuery: string): Promise<any> {
  const res = await fetch(`${svc.url}${pathAndQuery}`, { headers: { authorization: `Bearer ${svc.apiKey}` } });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

function specFile(name: string, spec: unknown): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return file;
}

const EPOCHS = 3;
let jobId: string;

test('submit --watch prints the id, one line per epoch, and exits 0 when the job succeeds', async () => {
  const run = await cli(['submit', specFile('ok', tinySpec({ name: 'cli-ok', training: { epochs: EPOCHS, batchSize: 16, seed: 7 } })), '--watch']);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  jobId = run.stdout.split('\n')[0]!;
  assert.match(jobId, /^[0-9a-f-]{36}$/);
  const epochLines = run.stdout.split('\n').filter((l) => /^epoch \d+\/3 /.test(l));
  assert.deepEqual(epochLines.map((l) => Number(/^epoch (\d+)/.exec(l)![1])), [1, 2, 3], run.stdout);
  // the printed train_loss of epoch 2 is the stored one, to the 4 digits printed
  const stored = await api(`/v1/jobs/${jobId}/metrics?name=train_loss`);
  const e2 = stored.series[0].points.find((p: { epoch: number }) => p.epoch === 2).value as number;
  assert.match(epochLines[1]!, new RegExp(`train_loss ${e2.toPrecision(4).replace('.', '\\.')}`));
  assert.match(run.stdout, /succeeded after 3 epochs/);
});

test('list shows the job with its status and progress', async () => {
  const run = await cli(['list']);
  assert.equal(run.code, 0, run.stderr);
  const [header, ...rows] = run.stdout.trim().split('\n');
  assert.match(header!, /^ID\s+NAME\s+STATUS\s+EPOCH\s+SAMPLES\/S\s+BEST\s+AGE$/);
  const row = rows.find((r) => r.startsWith(jobId));
  assert.ok(row, run.stdout);
  assert.match(row!, /cli-ok\s+succeeded\s+3\/3 /);
  const filtered = await cli(['list', '--status', 'failed']);
  assert.ok(!filtered.stdout.includes(jobId), filtered.stdout);
});

test('status shows status, attempt, best epoch and diagnosis', async () => {
  const job = await api(`/v1/jobs/${jobId}`);
  const run = await cli(['status', jobId]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /status\s+succeeded, attempt 1/);
  assert.match(run.stdout, new RegExp(`best\\s+epoch ${job.result.best.epoch}:`));
  assert.match(run.stdout, new RegExp(`diagnosis\\s+${job.diagnosis.verdict}:`));
  const json = await cli(['status', jobId, '--json']);
  assert.deepEqual(JSON.parse(json.stdout), job);
});

test('metrics prints every point of the series as the API stores it, and --csv the API\'s CSV', async () => {
  const stored = await api(`/v1/jobs/${jobId}/metrics?name=val_loss`);
  const run = await cli(['metrics', jobId, '--name', 'val_loss']);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines[0], 'val_loss');
  const rows = lines.slice(2).map((l) => l.split(/\s+/));
  assert.equal(rows.length, EPOCHS);
  rows.forEach((r, i) => {
    const p = stored.series[0].points[i];
    assert.deepEqual([Number(r[0]), Number(r[1])], [p.step, p.epoch]);
    assert.ok(Math.abs(Number(r[2]) - p.value) <= Math.abs(p.value) * 1e-3, `${r[2]} vs ${p.value}`);
  });
  const csv = await cli(['metrics', jobId, '--name', 'val_loss', '--csv']);
  const apiCsv = await (await fetch(`${svc.url}/v1/jobs/${jobId}/metrics?name=val_loss&format=csv`, { headers: { authorization: `Bearer ${svc.apiKey}` } })).text();
  assert.equal(csv.stdout, apiCsv);
  assert.equal(csv.stdout.trim().split('\n').length, EPOCHS + 1);
});

test('download writes the final checkpoint and --best the best one, byte for byte', async () => {
  const { items } = await api(`/v1/jobs/${jobId}/checkpoints?limit=100`);
  const final = items.find((c: { kind: string }) => c.kind === 'final');
  const best = items.find((c: { best: boolean }) => c.best);
  assert.ok(final && best, JSON.stringify(items));
  for (const [args, expected] of [[[], final], [['--best'], best]] as const) {
    const file = path.join(dir, `model-${args.length}.safetensors`);
    const run = await cli(['download', jobId, ...args, '-o', file]);
    assert.equal(run.code, 0, run.stderr);
    const bytes = readFileSync(file);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), expected.sha256);
    // safetensors: u64 little-endian header length, then the JSON header
    const headerLength = Number(bytes.readBigUInt64LE(0));
    assert.ok(JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'))['layers.0.weight']);
  }
});

test('watch exits non-zero when the job fails, naming the error', async () => {
  const submitted = await cli(['submit', specFile('diverge', {
    name: 'cli-diverged',
    dataset: { name: 'synthetic/regression', n: 64, seed: 1 },
    model: { layers: [{ type: 'dense', units: 8, activation: 'linear' }, { type: 'dense', units: 1, activation: 'linear' }] },
    loss: 'mse',
    optimizer: { type: 'sgd', learningRate: 1e6 },
    training: { epochs: 3, batchSize: 16, seed: 7 },
  })]);
  assert.equal(submitted.code, 0, submitted.stderr);
  const run = await cli(['watch', submitted.stdout.trim()]);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stderr, /job failed: DIVERGED/);
});

test('cancel stops a running job and its watcher exits non-zero', async () => {
  const long = tinySpec({ name: 'cli-long', dataset: { name: 'synthetic/xor', n: 2048, validationSplit: 0.25, seed: 1 }, training: { epochs: 500, batchSize: 8, seed: 7 } });
  const submitted = await cli(['submit', specFile('long', long)]);
  const id = submitted.stdout.trim();
  const watcher = cli(['watch', id]);
  // wait until it trains, so the cancel goes to a running job
  for (let i = 0; i < 600 && (await api(`/v1/jobs/${id}`)).status !== 'running'; i++) await new Promise((r) => setTimeout(r, 50));
  const cancel = await cli(['cancel', id]);
  assert.equal(cancel.code, 0, cancel.stderr);
  assert.match(cancel.stdout, new RegExp(`job ${id} (is stopping|cancelled)`));
  const watched = await watcher;
  assert.equal(watched.code, 1, watched.stdout + watched.stderr);
  assert.equal((await api(`/v1/jobs/${id}`)).status, 'cancelled');
});

test('an invalid spec prints each problem with its JSON pointer, one per line, and exits 1', async () => {
  const run = await cli(['submit', specFile('bad', tinySpec({
    model: { layers: [{ type: 'dense', units: 0, activation: 'tanh' }, { type: 'dense', units: 2, activation: 'softmax' }] },
    optimizer: { type: 'adam', learningRate: -1 },
  }))]);
  assert.equal(run.code, 1);
  const lines = run.stderr.trim().split('\n');
  assert.match(lines[0]!, /^error: the job spec has 2 problems \(400 INVALID_SPEC\)$/);
  assert.deepEqual(lines.slice(1).map((l) => l.trim().split(':')[0]).sort(), ['/model/layers/0/units', '/optimizer/learningRate']);
});

test('a refused connection names the URL and how to start the service', async () => {
  // a port that was free a moment ago
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  const run = await cli(['list'], { TRAINYARD_URL: `http://127.0.0.1:${port}` });
  assert.equal(run.code, 1);
  assert.match(run.stderr, new RegExp(`cannot reach Trainyard at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
  assert.match(run.stderr, /npm start/);
});

test('the key from TRAINYARD_API_KEY goes in the Authorization header, never in the URL', async () => {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[],"nextCursor":null}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const run = await cli(['list'], { TRAINYARD_URL: `http://127.0.0.1:${(server.address() as { port: number }).port}`, TRAINYARD_API_KEY: 'k3y-for-test' });
    assert.equal(run.code, 0, run.stderr);
  } finally {
    server.close();
  }
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.headers.authorization, 'Bearer k3y-for-test');
  assert.ok(!seen[0]!.url.includes('k3y'), seen[0]!.url);
});
