// Does the second core add a second core's worth of WASM SIMD arithmetic? The peak
// streams of wasm-peak.ts, timed alone on one thread, then on N worker threads at the
// same moment (each thread its own Heap and instance, started together by a shared
// counter), timed in elapsed seconds. The per-thread figure at N threads over the 1-thread figure is the scaling
// the machine itself allows for register-bound SIMD code: on a VM whose two vCPUs are
// hyperthreads of one physical core it is well below 1 even though nothing is shared
// in memory, and no training core can scale better than it (bench:core's 2t/1t).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Heap } from '../src/core/memory.js';
import { median } from './core-workload.js';
import { measurePeak } from './wasm-peak.js';

interface Job { start: Int32Array; threads: number; samples: number }

if (!isMainThread) {
  const { start, threads, samples } = workerData as Job;
  const heap = new Heap();
  measurePeak(heap, 1, 'baseline', 'wall'); // compile and warm up before the start line
  Atomics.add(start, 0, 1);
  Atomics.notify(start, 0);
  while (Atomics.load(start, 0) < threads) Atomics.wait(start, 0, Atomics.load(start, 0), 5);
  parentPort!.postMessage(measurePeak(heap, samples, 'baseline', 'wall').best);
}

/** GFLOP/s per elapsed second of each of `threads` threads running the peak streams at once. */
export async function concurrentPeak(threads: number, samples = 5): Promise<number[]> {
  const start = new Int32Array(new SharedArrayBuffer(4));
  const workers = Array.from({ length: threads }, () => new Worker(new URL(import.meta.url), { workerData: { start, threads, samples } }));
  try {
    return await Promise.all(workers.map((w) => new Promise<number>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * The arithmetic `threads` threads do at once over what one does alone, as the median of
 * `trials` back-to-back trials (a VM's neighbours take a core for a moment now and then,
 * so one trial can say anything from 1.0× to more than 2×), with every trial's ratio.
 */
export async function machineScaling(threads: number, trials = 3): Promise<{ median: number; trials: number[] }> {
  const ratios: number[] = [];
  for (let i = 0; i < trials; i++) {
    const [alone] = await concurrentPeak(1), together = await concurrentPeak(threads);
    ratios.push(together.reduce((a, b) => a + b, 0) / alone);
  }
  return { median: median(ratios), trials: ratios };
}
