// GFLOP/s of the three matrix products of a dense layer's step, at the reference
// workload's shapes (784-256-256-10, batch 128 on 1 thread or 64 per thread on 2):
//   forward  Z  = X·Wᵀ + b  gemmNT(B, out, in)    tf.matMul(X, W, false, true)
//   dW       dW = dZᵀ·X     gemmTN(out, in, B)    tf.matMul(dZ, X, true, false)
//   dX       dX = dZ·W      gemmNN(B, in, out)    tf.matMul(dZ, W, false, false)
// for the plain-JS kernels, the wasm SIMD kernels and TensorFlow.js' wasm backend
// (XNNPACK, SIMD, single-threaded in Node), one thread each. Median of several timed
// samples after warm-up. Each wasm row also shows its share of the WASM SIMD peak:
// the best f32x4 mul+add stream the toolchain emits with operands in L1
// (src/core/kernels/assembly/peak.ts), measured in the same process. Where relaxed
// SIMD can be turned on (Node 20: a V8 flag, set here for this process only), the
// relaxed build (fused multiply-add, TRAINYARD_KERNELS=wasm-relaxed) gets its own
// columns, against its own, fused, peak.
//
//   npm run bench:kernels                 (builds, then runs)
//   node dist/bench/kernels.js [--no-js] [--no-tf] [--samples 7] [--wall]
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Heap } from '../src/core/memory.js';
import { createWasmKernels, jsKernels, relaxedSimdAvailable } from '../src/core/kernels/index.js';
import { measurePeak } from './wasm-peak.js';
import { concurrentPeak, machineScaling } from './wasm-peak-cores.js';
import type { Kernels } from '../src/core/kernels/types.js';

type Form = 'NT' | 'TN' | 'NN';
const FORMS: Form[] = ['NT', 'TN', 'NN'];
const LAYERS: [number, number][] = [[784, 256], [256, 256], [256, 10]];
const BATCHES = [128, 64];

const argv = process.argv.slice(2);
const withJs = !argv.includes('--no-js');
const withTf = !argv.includes('--no-tf');
const si = argv.indexOf('--samples');
const SAMPLES = si >= 0 ? Number(argv[si + 1]) : 7;
const SAMPLE_MS = 40;

// Median seconds per call of fn, each sample long enough to dwarf timer noise. With
// --wall, elapsed time; by default this process's CPU time, which stays honest when
// other work shares the machine's two cores (everything measured here is single-threaded).
const WALL = argv.includes('--wall');
function clock(): number {
  if (WALL) return performance.now() / 1000;
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
function measure(fn: () => void): number {
  const t0 = performance.now();
  let reps = 0;
  while (performance.now() - t0 < SAMPLE_MS || reps < 3) { fn(); reps++; } // warm-up and calibration
  const perSample = Math.max(1, Math.round(reps * SAMPLE_MS / (performance.now() - t0)));
  const times: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const t = clock();
    for (let r = 0; r < perSample; r++) fn();
    times.push((clock() - t) / perSample);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

function fillRandom(v: Float32Array, seed: number): void {
  let s = seed | 0;
  for (let i = 0; i < v.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) | 0;
    v[i] = ((s >>> 8) / 16777216) * 2 - 1;
  }
}

interface TfLike {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  env(): { getAsync(flag: string): Promise<unknown> };
  tensor2d(values: Float32Array, shape: [number, number]): unknown;
  matMul(a: unknown, b: unknown, transposeA: boolean, transposeB: boolean): { dispose(): void };
}

// TensorFlow.js wasm backend, loaded from node_modules only (no network): the .wasm
// binaries sit in the package's dist/, and setWasmPaths takes that folder as a plain path.
async function loadTf(): Promise<TfLike | null> {
  try {
    const tf = (await import('@tensorflow/tfjs-core')).default as unknown as TfLike;
    const wasmBackend = (await import('@tensorflow/tfjs-backend-wasm')).default as unknown as {
      setWasmPaths(prefix: string): void;
    };
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasmBackend.setWasmPaths(dir + path.sep);
    if (!(await tf.setBackend('wasm'))) return null;
    await tf.ready();
    return tf;
  } catch (e) {
    console.error(`tfjs-wasm unavailable: ${(e as Error).message}`);
    return null;
  }
}

interface Row { shape: string; form: Form; js: number; wasm: number; relaxed: number; tf: number }

async function main(): Promise<void> {
  const heap = new Heap();
  const wasm = createWasmKernels(heap);
  const tf = withTf ? await loadTf() : null;
  if (tf) {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    console.log(`tfjs backend: ${tf.getBackend()} (SIMD ${simd}, multithread ${threads})`);
  }
  const peak = measurePeak(heap, SAMPLES);
  const best = peak.best;
  console.log(`WASM SIMD peak (f32x4 mul+add, operands in L1): register stream ${peak.stream.toFixed(1)} GFLOP/s, ` +
    `micro-kernel loop ${peak.tile.toFixed(1)} GFLOP/s; "% peak" is against ${best.toFixed(1)}`);
  const cores = os.availableParallelism();
  if (cores > 1) {
    const [alone] = await concurrentPeak(1), together = await concurrentPeak(cores);
    const each = together.reduce((a, b) => a + b, 0) / together.length;
    console.log(`the same peak on ${cores} threads at once: ${together.map((x) => x.toFixed(1)).join(', ')} GFLOP/s per elapsed second ` +
      `(alone, in a worker: ${alone.toFixed(1)}); ${cores} threads do ${(together.reduce((a, b) => a + b, 0) / alone).toFixed(2)}× the ` +
      `arithmetic of one (${(100 * each / alone).toFixed(0)}% per thread): the ceiling for any ${cores}-thread speed-up of SIMD-bound code`);
    const m = await machineScaling(cores, 5);
    console.log(`  over 5 more trials: ${m.trials.map((x) => `${x.toFixed(2)}×`).join(', ')} (median ${m.median.toFixed(2)}×; a VM's ` +
      'neighbours take a core now and then, so single trials scatter)');
  }
  const relaxed = relaxedSimdAvailable() ? createWasmKernels(heap, 'relaxed') : null;
  const rpeak = relaxed ? measurePeak(heap, SAMPLES, 'relaxed') : null;
  if (rpeak) {
    console.log(`relaxed-SIMD peak (f32x4.relaxed_madd): register stream ${rpeak.stream.toFixed(1)} GFLOP/s, ` +
      `micro-kernel loop ${rpeak.tile.toFixed(1)} GFLOP/s; "% rpeak" is against ${rpeak.best.toFixed(1)}`);
  } else console.log('relaxed SIMD: not available in this runtime (no relaxed columns)');
  console.log(`node ${process.version}; load average ${os.loadavg()[0].toFixed(2)} on ${os.availableParallelism()} cores; ` +
    `GFLOP/s per ${WALL ? 'elapsed' : 'CPU'} second, one thread, median of ${SAMPLES} samples of ≥${SAMPLE_MS} ms\n`);

  const rows: Row[] = [];
  for (const Bn of BATCHES) {
    for (const [nin, nout] of LAYERS) {
      const X = heap.alloc(Bn * nin), W = heap.alloc(nout * nin), b = heap.alloc(nout);
      const dZ = heap.alloc(Bn * nout), Z = heap.alloc(Bn * nout), dW = heap.alloc(nout * nin), dX = heap.alloc(Bn * nin);
      fillRandom(X, 1); fillRandom(W, 2); fillRandom(b, 3); fillRandom(dZ, 4);
      const tX = tf?.tensor2d(X, [Bn, nin]), tW = tf?.tensor2d(W, [nout, nin]), tdZ = tf?.tensor2d(dZ, [Bn, nout]);
      const flops = 2 * Bn * nin * nout;
      for (const form of FORMS) {
        const call = (k: Kernels) =>
          form === 'NT' ? () => k.gemmNT(Bn, nout, nin, X, W, Z, b, false)
            : form === 'TN' ? () => k.gemmTN(nout, nin, Bn, dZ, X, dW, false)
              : () => k.gemmNN(Bn, nin, nout, dZ, W, dX, false);
        const gf = (sec: number) => flops / sec / 1e9;
        const row: Row = { shape: `${Bn}x${nin}->${nout}`, form, js: NaN, wasm: NaN, relaxed: NaN, tf: NaN };
        row.wasm = gf(measure(call(wasm)));
        if (relaxed) row.relaxed = gf(measure(call(relaxed)));
        if (withJs) row.js = gf(measure(call(jsKernels)));
        if (tf) {
          const [a, bb, ta, tb] = form === 'NT' ? [tX, tW, false, true] : form === 'TN' ? [tdZ, tX, true, false] : [tdZ, tW, false, false];
          row.tf = gf(measure(() => tf.matMul(a, bb, ta as boolean, tb as boolean).dispose()));
        }
        rows.push(row);
      }
      for (const t of [tX, tW, tdZ]) (t as { dispose(): void } | undefined)?.dispose();
    }
  }

  const f = (x: number, d = 1) => (Number.isNaN(x) ? '-' : x.toFixed(d));
  const header = ['B x in->out', 'form', 'product', 'js', 'wasm', '% peak', 'relaxed', '% rpeak', 'tfjs-wasm', 'wasm/js', 'wasm/tfjs'];
  const what: Record<Form, string> = { NT: 'Z=X·Wᵀ+b', TN: 'dW=dZᵀ·X', NN: 'dX=dZ·W' };
  const table = rows.map((r) => [r.shape, r.form, what[r.form], f(r.js, 2), f(r.wasm), `${(100 * r.wasm / best).toFixed(0)}%`,
    f(r.relaxed), rpeak ? `${(100 * r.relaxed / rpeak.best).toFixed(0)}%` : '-', f(r.tf), f(r.wasm / r.js) + '×', f(r.wasm / r.tf) + '×']);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const t of table) console.log(line(t));
}

await main();
