// Contender process for bench/core.ts: 2 threads over 1 thread on the reference workload
// (or --workload wide|deep), both engines in this one process and timed in alternating
// blocks of steps (1t, 2t, 1t, 2t, … about a quarter of a second each), so the drift of
// a shared machine — 2× within a minute on these VMs — hits both alike instead of
// whichever whole run it happened to fall on.
//
// Each engine is the one train() builds (threadEngine over its own ThreadPool, the
// spec's optimizer, dead_units tracking) and runs engine.step, the whole parallel step:
// forward and the row-wise backward on every thread's rows, barrier, then on each
// thread's block of every layer's units the weight gradients, grad_norm and Adam, and
// update_ratio on the trainer's sampled steps. Not timed: the trainer's
// few microseconds of per-step bookkeeping and the per-epoch work (shuffle, evaluation),
// the same for both thread counts.
//
//   node dist/bench/core-scaling.js [--seconds 20] [--block-steps 32] [--workload reference|wide|deep]
//   (--seconds: the blocks of both engines, in all)
//
// Prints `RESULT {...}` with both rates, the overall ratio and the median of the
// per-block ratios (each 2t block over the two 1t blocks either side of it, together);
// and the 1-thread share of the WASM SIMD peak, the peak timed on this thread right
// after each 1t block (~20 ms), so the two figures see the same machine.
import type { Engine } from '../src/core/engine.js';
import { Heap } from '../src/core/memory.js';
import { initParams } from '../src/core/model.js';
import { ThreadPool, threadEngine } from '../src/core/pool.js';
import { Stream, permute } from '../src/core/rng.js';
import { LOSS_STATS } from '../src/core/step-stats.js';
import { buildEngine } from '../src/core/trainer.js';
import type { TrainSpec } from '../src/core/types.js';
import { loadDataset } from '../src/data/load.js';
import { formatProblems, toTrainSpec, validateJobSpec } from '../src/spec/index.js';
import { arithmeticPerSample, flags, intFlag, median, workloadHidden, workloadJobSpec } from './core-workload.js';
import { peakProbe } from './wasm-peak.js';

export interface ScalingResult {
  seconds1: number; steps1: number; seconds2: number; steps2: number;
  samplesPerSecond1: number; samplesPerSecond2: number;
  /** samplesPerSecond2 / samplesPerSecond1 over all blocks */
  ratio: number;
  /** median over 2t blocks of (2t block rate) / (rate of the two 1t blocks before and after it, taken together) */
  blockRatioMedian: number;
  blocks: number;
  /** the WASM SIMD peak (wasm-peak.ts peakProbe), timed right after each 1t block, GFLOP/s: median */
  peakMedian: number;
  /** median over 1t blocks of the block's GFLOP/s over the peak timed right after it */
  peakShareMedian: number;
}

const f = flags();
const hidden = workloadHidden(f);
const seconds = intFlag(f, 'seconds', 20);
const blockSteps = intFlag(f, 'block-steps', 32);

function specFor(threads: number): TrainSpec {
  const v = validateJobSpec(workloadJobSpec(hidden, threads, 1));
  if (!v.ok) throw new Error(`benchmark spec rejected:\n${formatProblems(v.problems)}`);
  return toTrainSpec(v.spec);
}

const data = loadDataset({ name: 'mnist' });

interface Side { engine: Engine; pool: ThreadPool; step: number; spec: TrainSpec }

/** The engine train() builds for `threads` (trainer.ts buildEngine), on a pool of its own. */
async function side(threads: number): Promise<Side> {
  const spec = specFor(threads);
  const pool = new ThreadPool(threads - 1);
  const { plan, engine } = await buildEngine(spec, data, threadEngine(pool));
  initParams(engine.params, plan, spec.model, spec.training.seed);
  return { engine, pool, step: 0, spec };
}

const one = await side(1), two = await side(2);
const n = data.train.n, { batchSize: batch, seed } = one.spec.training, batches = Math.floor(n / batch);
const order = new Int32Array(n);
permute(order, n, seed, Stream.shuffle, 1);

const stats = new Float64Array(LOSS_STATS.size);
/** `steps` training steps on s; the seconds they took */
function run(s: Side, steps: number): number {
  const every = s.spec.training.batchLossEvery;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const b = s.step % batches, t = ++s.step;
    stats.fill(0);
    s.engine.step(data.train, order, b * batch, batch, seed, t, t % every === 0, stats);
  }
  return (performance.now() - t0) / 1000;
}

const peak = peakProbe(new Heap());
try {
  // warm-up: compile, tier up, touch every buffer
  run(one, blockSteps); run(two, blockSteps); peak();
  const t1: number[] = [], t2: number[] = [], peaks: number[] = [];
  let spent = 0;
  while (spent < seconds) {
    const a = run(one, blockSteps);
    peaks.push(peak()); // the ceiling at the moment the 1t block ran, on the same thread
    const b = run(two, blockSteps);
    t1.push(a); t2.push(b); spent += a + b;
  }
  t1.push(run(one, blockSteps)); // a 1t block after the last 2t block, for its neighbours' mean
  peaks.push(peak());
  const gflop = (blockSteps * batch * arithmeticPerSample(hidden)) / 1e9; // what a block really computes
  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  const seconds1 = sum(t1), seconds2 = sum(t2);
  const steps1 = t1.length * blockSteps, steps2 = t2.length * blockSteps;
  // a 2t block against its neighbours: the 1t blocks either side, their steps over their time together
  const blockRatios = t2.map((b, i) => (t1[i] + t1[i + 1]) / 2 / b);
  const r: ScalingResult = {
    seconds1, steps1, seconds2, steps2,
    samplesPerSecond1: (steps1 * batch) / seconds1, samplesPerSecond2: (steps2 * batch) / seconds2,
    ratio: (steps2 / seconds2) / (steps1 / seconds1),
    blockRatioMedian: median(blockRatios),
    blocks: t2.length,
    peakMedian: median(peaks),
    peakShareMedian: median(t1.map((t, i) => gflop / t / peaks[i])),
  };
  process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
} finally {
  await one.engine.close(); await two.engine.close();
  await one.pool.close(); await two.pool.close();
}
