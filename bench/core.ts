// Our training core against TensorFlow.js (wasm and pure-JS cpu backends) and, when
// Debian's python3-torch is installed, PyTorch — on the reference workload of
// BENCHMARKS.md (MNIST 60k, 784-256-256-10 ReLU, softmax cross-entropy, Adam 1e-3,
// batch 128, 3 epochs), in one run.
//
// Each contender trains in its own child process, one after another, so peak RSS is
// its own and none disturbs another; each prints one `RESULT <json>` line
// (core-workload.ts). samples/s is over epochs 2–3 (epoch 1 is warm-up) when there are
// ≥ 2 epochs. Wall-clock time: on a shared machine the load average and the CPU/wall
// column (how many cores the contender actually got) say how far to trust a row.
//
//   npm run bench:core                                   (builds, then the full workload)
//   node dist/bench/core.js [--epochs 3] [--limit 60000]
//        [--tfjs-cpu-limit 5000] [--tfjs-cpu-epochs 1]   the pure-JS backend runs ~500 samples/s
//        [--only ours,tfjs-wasm,tfjs-cpu,pytorch]
//
// PyTorch runs with libgomp's defaults. On a busy machine its 2-thread row collapses
// (~10× slower than 1 thread: OpenMP threads spin, then sleep, at every parallel op's
// barrier while the other thread is descheduled); `OMP_WAIT_POLICY=PASSIVE npm run
// bench:core` is passed through and restores it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { mnistDataDir } from '../src/data/mnist.js';
import { FLOP_PER_SAMPLE, LAYER_SHAPES, flags, intFlag, measuredRate, type ContenderResult } from './core-workload.js';

const PYTHON = '/usr/bin/python3';
const OPENBLAS_DIR = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
const GROUPS = ['ours', 'tfjs-wasm', 'tfjs-cpu', 'pytorch'];

const f = flags();
const epochs = intFlag(f, 'epochs', 3);
const limit = f.has('limit') ? intFlag(f, 'limit', 60000) : undefined;
const cpuLimit = intFlag(f, 'tfjs-cpu-limit', 5000);
const cpuEpochs = intFlag(f, 'tfjs-cpu-epochs', 1);
const only = new Set((f.get('only') ?? GROUPS.join(',')).split(','));
for (const g of only) if (!GROUPS.includes(g)) throw new Error(`--only: unknown contender "${g}"; known: ${GROUPS.join(', ')}`);

interface Run { label: string; result: ContenderResult | null; error?: string; load: [number, number] }

function workloadFlags(e: number, l: number | undefined): string[] {
  return ['--epochs', String(e), ...(l ? ['--limit', String(l)] : [])];
}

/** Runs one contender; its stderr (progress) passes through, stdout carries the RESULT line. */
function contender(label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const loadBefore = os.loadavg()[0];
  process.stderr.write(`\n${label}: ${[cmd, ...args].join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    child.on('error', (err) => resolve({ label, result: null, error: err.message, load: [loadBefore, os.loadavg()[0]] }));
    child.on('close', (code, signal) => {
      const load: [number, number] = [loadBefore, os.loadavg()[0]];
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) resolve({ label, result: null, error: `exited with ${signal ?? code}`, load });
      else resolve({ label, result: JSON.parse(line.slice('RESULT '.length)) as ContenderResult, load });
    });
  });
}

function pytorchAvailable(env: NodeJS.ProcessEnv): Promise<boolean> {
  if (!existsSync(PYTHON)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const p = spawn(PYTHON, ['-c', 'import torch'], { stdio: 'ignore', env });
    p.on('error', () => resolve(false));
    p.on('close', (code) => resolve(code === 0));
  });
}

async function main(): Promise<void> {
  const node = process.execPath;
  const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
  const runs: Run[] = [];
  const notes: string[] = [];

  console.log(`Reference workload: MNIST ${limit ?? 60000} × ${epochs} epoch${epochs > 1 ? 's' : ''}, ` +
    `${[LAYER_SHAPES[0][0], ...LAYER_SHAPES.map(([, o]) => o)].join('-')} ReLU, softmax cross-entropy, Adam 1e-3, batch 128; ` +
    `${(FLOP_PER_SAMPLE / 1e6).toFixed(3)} MFLOP per training sample (forward 2·Σ in·out, backward twice that)`);
  console.log(`node ${process.version}, ${os.availableParallelism()} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at start`);

  if (only.has('ours')) {
    for (const threads of [1, 2]) {
      runs.push(await contender(`ours, ${threads} thread${threads > 1 ? 's' : ''}`, node,
        [here('./core-ours.js'), '--threads', String(threads), ...workloadFlags(epochs, limit)]));
    }
  }
  if (only.has('tfjs-wasm')) {
    runs.push(await contender('tfjs-wasm', node, [here('./core-tfjs.js'), '--backend', 'wasm', ...workloadFlags(epochs, limit)]));
  }
  if (only.has('tfjs-cpu')) {
    const l = Math.min(cpuLimit, limit ?? cpuLimit);
    runs.push(await contender('tfjs-cpu', node, [here('./core-tfjs.js'), '--backend', 'cpu', ...workloadFlags(cpuEpochs, l)]));
  }
  if (only.has('pytorch')) {
    // Debian's torch links the reference BLAS unless the OpenMP OpenBLAS is put first (18× apart)
    const env = { ...process.env };
    if (existsSync(OPENBLAS_DIR)) env.LD_LIBRARY_PATH = [OPENBLAS_DIR, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    else notes.push(`PyTorch: ${OPENBLAS_DIR} is missing, so torch runs on the reference BLAS (apt-get install libopenblas0-openmp)`);
    if (await pytorchAvailable(env)) {
      for (const threads of [1, 2]) {
        runs.push(await contender(`pytorch, ${threads} thread${threads > 1 ? 's' : ''}`, PYTHON,
          [here('../../bench/pytorch_reference.py'), '--data-dir', mnistDataDir(), '--threads', String(threads),
            ...workloadFlags(epochs, limit)],
          { ...env, OMP_NUM_THREADS: String(threads) }));
      }
    } else {
      notes.push('PyTorch: not installed (apt-get install python3-torch libopenblas0-openmp)');
    }
    if (runs.some((r) => r.label.startsWith('pytorch')) && !process.env.OMP_WAIT_POLICY) {
      notes.push('PyTorch ran with the libgomp default wait policy; with other work on the cores its 2-thread row can ' +
        'collapse — compare with OMP_WAIT_POLICY=PASSIVE.');
    }
  }

  report(runs, notes);
}

function report(runs: Run[], notes: string[]): void {
  const rate = (r: Run | undefined) => (r?.result ? measuredRate(r.result.epochsTimed).samplesPerSecond : NaN);
  // ratios are against full-size runs only: a subset run (tfjs-cpu) is not a reference
  const torch1 = runs.find((r) => r.label === 'pytorch, 1 thread');
  const tfWasm = runs.find((r) => r.label === 'tfjs-wasm');
  const header = ['contender', 'trained on', 'timed', 'samples/s', 'GFLOP/s', 'test acc', 'peak RSS MB',
    'CPU/wall', 'samples/CPU-s', 'vs PyTorch 1t', 'vs tfjs-wasm', 'load 1m (start→end)'];
  const rows: string[][] = [];
  for (const r of runs) {
    const load = `${r.load[0].toFixed(2)}→${r.load[1].toFixed(2)}`;
    if (!r.result) { rows.push([r.label, `FAILED: ${r.error}`, '', '', '', '', '', '', '', '', '', load]); continue; }
    const m = measuredRate(r.result.epochsTimed);
    const sps = m.samplesPerSecond;
    const ratio = (ref: Run | undefined) => (ref?.result && ref !== r ? `${(sps / rate(ref)).toFixed(2)}×` : ref === r ? '1.00×' : '-');
    rows.push([
      r.result.name,
      `${r.result.trainSamples} × ${r.result.epochs}`,
      m.which,
      Math.round(sps).toLocaleString('en-US'),
      (sps * FLOP_PER_SAMPLE / 1e9).toFixed(1),
      r.result.testAccuracy === null ? '-' : `${(r.result.testAccuracy * 100).toFixed(2)}%`,
      r.result.peakRssMB.toFixed(0),
      m.cpuPerWall === null ? '-' : m.cpuPerWall.toFixed(2),
      m.cpuPerWall === null ? '-' : Math.round(sps / m.cpuPerWall).toLocaleString('en-US'),
      ratio(torch1), ratio(tfWasm), load,
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log('');
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  console.log('');

  const ours1 = runs.find((r) => r.label === 'ours, 1 thread'), ours2 = runs.find((r) => r.label === 'ours, 2 threads');
  if (ours1?.result && ours2?.result) console.log(`ours: 2 threads / 1 thread = ${(rate(ours2) / rate(ours1)).toFixed(2)}× speed-up`);
  const torch2 = runs.find((r) => r.label === 'pytorch, 2 threads');
  if (torch1?.result && torch2?.result) console.log(`pytorch: 2 threads / 1 thread = ${(rate(torch2) / rate(torch1)).toFixed(2)}×`);
  for (const r of runs) if (r.result?.info) console.log(`${r.result.name}: ${r.result.info}`);
  const cpuRun = runs.find((r) => r.label === 'tfjs-cpu');
  if (cpuRun?.result) {
    console.log(`tfjs-cpu trains on a ${cpuRun.result.trainSamples}-sample subset for ${cpuRun.result.epochs} epoch(s) ` +
      '(its pure-JS kernels are too slow for the full workload): its samples/s is comparable, its test accuracy is not.');
  }
  for (const n of notes) console.log(n);
  console.log(`GFLOP/s = samples/s × ${FLOP_PER_SAMPLE.toLocaleString('en-US')} FLOP / 1e9. CPU/wall = process CPU seconds per ` +
    'wall second over the timed epochs (1.0 = one core fully used); a value below the thread count means the ' +
    'contender was starved by other work. samples/CPU-s = samples/s ÷ CPU/wall: work per core-second, steadier ' +
    'than samples/s on a busy machine (for 2 threads it is efficiency, not speed). ' +
    `load average at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}.`);
}

await main();
