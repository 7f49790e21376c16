// The WASM SIMD ceiling on this machine, now: GFLOP/s of the two mul+add streams of
// src/core/kernels/assembly/peak.ts (operands in L1), per CPU second of one thread.
// bench/kernels.ts prints each kernel as a share of it, bench/core.ts the training.
import type { Heap } from '../src/core/memory.js';
import { gemmModule, type WasmVariant } from '../src/core/kernels/index.js';

interface PeakExports {
  peakStream(buf: number, n: number, reps: number, s: number): number;
  peakTile(buf: number, n: number, reps: number): number;
}

function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The peak streams' instance and their operands: n rows, reps passes over them per call. */
function peakStreams(heap: Heap, variant: WasmVariant): { wasm: PeakExports; buf: Float32Array; n: number; reps: number } {
  const wasm = new WebAssembly.Instance(gemmModule(variant), { env: { memory: heap.memory } }).exports as unknown as PeakExports;
  const n = 128, reps = 200;
  const buf = heap.alloc(n * 12); // 6 KiB: n·16 bytes of splat rows + n·32 of panel rows
  for (let i = 0; i < buf.length; i++) buf[i] = 1 + ((i * 37) % 11) / 64;
  return { wasm, buf, n, reps };
}

/** Median seconds per call over `samples` samples of ≥ 40 ms CPU time (or wall time) each. */
function median(fn: () => void, samples: number, clock: () => number): number {
  const t0 = performance.now();
  let reps = 0;
  while (performance.now() - t0 < 40 || reps < 3) { fn(); reps++; }
  const per = Math.max(1, Math.round(reps * 40 / (performance.now() - t0)));
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t = clock();
    for (let r = 0; r < per; r++) fn();
    times.push((clock() - t) / per);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

export interface WasmPeak {
  /** 2 loads + 4 register splats per 8 mul+add (peakStream) */
  stream: number;
  /** the GEMM micro-kernel's loop on L1 data (peakTile) */
  tile: number;
  /** the larger of the two: the ceiling */
  best: number;
}

/** variant relaxed: the fused streams of the relaxed build (call relaxedSimdAvailable() first) */
/**
 * clock wall: elapsed seconds, for threads timed together (process.cpuUsage() is the
 * whole process's, so per CPU second would count every thread's time against each).
 */
export function measurePeak(heap: Heap, samples = 7, variant: WasmVariant = 'baseline', clock: 'cpu' | 'wall' = 'cpu'): WasmPeak {
  const now = clock === 'cpu' ? cpu : () => performance.now() / 1000;
  const { wasm, buf, n, reps } = peakStreams(heap, variant);
  let sink = 0;
  // FLOP per call: peakStream n/2 steps × 8 f32x4 mul+add; peakTile n steps × the same
  const stream = (n / 2) * 8 * 8 * reps / median(() => { sink += wasm.peakStream(buf.byteOffset, n, reps, 0.5); }, samples, now) / 1e9;
  const tile = n * 8 * 8 * reps / median(() => { sink += wasm.peakTile(buf.byteOffset, n, reps); }, samples, now) / 1e9;
  if (!Number.isFinite(sink)) throw new Error('peak streams overflowed');
  return { stream, tile, best: Math.max(stream, tile) };
}

/**
 * A quick reading of the same ceiling, for interleaving with other work (core-scaling.ts
 * times one between training blocks): each call times both streams for ~`ms` wall
 * milliseconds in all and answers the better one's GFLOP/s.
 */
export function peakProbe(heap: Heap, ms = 20): () => number {
  const { wasm, buf, n, reps } = peakStreams(heap, 'baseline');
  let sink = 0;
  const flop = (n / 2) * 8 * 8 * reps; // per call: peakStream's n/2 steps, peakTile's (given n/2) as many, × 8 f32x4 mul+add
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < 10) { sink += wasm.peakStream(buf.byteOffset, n, reps, 0.5); calls++; }
  const per = Math.max(1, Math.round((calls * ms) / 2 / (performance.now() - t0)));
  return () => {
    let t = performance.now();
    for (let i = 0; i < per; i++) sink += wasm.peakStream(buf.byteOffset, n, reps, 0.5);
    const stream = (per * flop) / ((performance.now() - t) / 1000) / 1e9;
    t = performance.now();
    for (let i = 0; i < per; i++) sink += wasm.peakTile(buf.byteOffset, n / 2, reps);
    const tile = (per * flop) / ((performance.now() - t) / 1000) / 1e9;
    if (!Number.isFinite(sink)) throw new Error('peak streams overflowed');
    return Math.max(stream, tile);
  };
}
