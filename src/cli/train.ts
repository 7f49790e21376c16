// Train a job spec locally, no Postgres or Redis: `npm run train -- examples/mnist-relu-adam.json`
//   --out FILE     write the final weights (.safetensors, loadable by PyTorch)
//   --epochs N     override training.epochs
//   --threads N    override training.threads
//   --json         print one JSON line per epoch instead of the table
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { formatDiagnosis } from '../core/diagnosis.js';
import { ThreadPool, threadEngine } from '../core/pool.js';
import { train } from '../core/trainer.js';
import type { EpochEnd, TrainProgress } from '../core/train-types.js';
import { DatasetError } from '../data/errors.js';
import { loadDataset } from '../data/load.js';
import { formatProblems, specHash, toTrainSpec, validateJobSpec } from '../spec/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string' }, epochs: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' },
    'data-dir': { type: 'string' },
  },
});

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

if (positionals.length !== 1) fail('usage: npm run train -- <spec.json> [--out weights.safetensors] [--epochs N] [--threads N] [--json]');
let raw: unknown;
try { raw = JSON.parse(readFileSync(positionals[0], 'utf8')); } catch (err) { fail(`cannot read ${positionals[0]}: ${(err as Error).message}`); }
// a labelled diagnosis scenario (examples/diagnosis/*.json) wraps its spec: { expect, spec }
if (raw !== null && typeof raw === 'object' && 'expect' in raw && 'spec' in raw) raw = (raw as { spec: unknown }).spec;
const r0 = raw as { training?: Record<string, unknown> };
if (values.epochs) r0.training = { ...r0.training, epochs: Number(values.epochs) };
if (values.threads) r0.training = { ...r0.training, threads: Number(values.threads) };
const v = validateJobSpec(raw);
if (!v.ok) fail(`${positionals[0]} is not a valid job spec:\n${formatProblems(v.problems)}`);
const spec = v.spec;

let data;
try {
  const t0 = performance.now();
  data = loadDataset(spec.dataset, { dataDir: values['data-dir'] ?? process.env.DATA_DIR });
  process.stderr.write(`${spec.dataset.name}: ${data.train.n} train, ${data.validation?.n ?? 0} validation, ${data.test?.n ?? 0} test samples (${Math.round(performance.now() - t0)} ms)\n`);
} catch (err) {
  fail(err instanceof DatasetError ? err.message : String(err));
}

// like a worker: without training.threads, TRAINER_THREADS (default: the machine's cores)
const threads = spec.training.threads ?? loadConfig().trainerThreads;
const pool = new ThreadPool(Math.max(0, threads - 1));
const tty = process.stderr.isTTY;
const cols = ['epoch', 'train_loss', 'train_acc', 'val_loss', 'val_acc', 'samples/s', 'early stopping'];
const widths = [5, 10, 9, 10, 9, 9, 0];
const fmt = (cells: string[]) => cells.map((c, i) => (widths[i] ? c.padStart(widths[i]) : c)).join('  ');
if (!values.json) process.stdout.write(`${fmt(cols)}\n`);

function progress(p: TrainProgress): void {
  if (!tty) return;
  const frac = p.batch / p.batchesPerEpoch, w = 30, done = Math.round(frac * w);
  process.stderr.write(`\r  epoch ${p.epoch}/${p.epochs} [${'='.repeat(done)}${' '.repeat(w - done)}] ${Math.round(p.samplesPerSecond)} samples/s, ETA ${Math.round(p.etaSeconds)} s  `);
}

function epochEnd(e: EpochEnd): void {
  if (tty) process.stderr.write('\r\x1b[K');
  const m = e.metrics;
  if (values.json) { process.stdout.write(`${JSON.stringify({ epoch: e.epoch, step: e.step, metrics: m, decision: e.decision })}\n`); return; }
  const f = (x: number | undefined, d = 4) => (x === undefined ? '-' : x.toFixed(d));
  process.stdout.write(`${fmt([String(e.epoch), f(m.train_loss), f(m.train_accuracy), f(m.val_loss), f(m.val_accuracy),
    String(Math.round(m.samples_per_second)), e.decision ? `${e.decision.decision}: ${e.decision.reason}` : ''])}\n`);
}

try {
  const result = await train({
    spec: toTrainSpec(spec, threads), data, specHash: specHash(spec), engine: threadEngine(pool),
    hooks: { onEpochEnd: epochEnd, onProgress: progress },
  });
  const lines: string[] = [];
  if (result.stoppedEarly) lines.push(`stopped early at epoch ${result.epochs}: ${result.stopDecision?.reason}`);
  if (result.best) lines.push(`best epoch ${result.best.epoch}`);
  if (result.testMetrics) lines.push(`test: ${Object.entries(result.testMetrics).map(([k, x]) => `${k} ${x.toFixed(4)}`).join(', ')}`);
  lines.push(...formatDiagnosis(result.diagnosis));
  if (values.out) { writeFileSync(values.out, result.weights); lines.push(`weights written to ${values.out} (${result.weights.length} bytes)`); }
  process.stdout.write(`\n${lines.join('\n')}\n`);
} catch (err) {
  if (tty) process.stderr.write('\n');
  fail(`training failed: ${(err as Error).message}`);
} finally {
  await pool.close();
}
