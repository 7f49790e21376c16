// Contender process for bench/core.ts: Trainyard's own core on the reference workload,
// through the same path the worker and the CLI use (validateJobSpec → train() on a
// ThreadPool engine), so the per-step bookkeeping (grad norms, update ratios, batch
// loss points) is included, as in production.
//
// After training, PREDICT_ROWS test rows go through a Predictor (the /predict path:
// number[][] in, outputs out) for the inference figure.
//
// TRAINYARD_KERNELS=wasm-relaxed in its environment: the relaxed-SIMD build (bench/core.ts's ours-relaxed).
//
//   node dist/bench/core-ours.js --threads 1|2 [--epochs 3] [--limit 60000] [--workload reference|wide|deep]
import type { EngineFactory } from '../src/core/engine.js';
import { ThreadPool, threadEngine } from '../src/core/pool.js';
import { Predictor } from '../src/core/predict.js';
import { train } from '../src/core/trainer.js';
import { loadDataset } from '../src/data/load.js';
import { formatProblems, toTrainSpec, validateJobSpec } from '../src/spec/index.js';
import {
  PREDICT_ROWS, cpuSeconds, memoryBudgetMB, emitResult, flags, intFlag, peakRssMB, workloadHidden, workloadJobSpec, type EpochTiming,
} from './core-workload.js';

const f = flags();
const HIDDEN = workloadHidden(f);
const threads = intFlag(f, 'threads', 1);
const epochs = intFlag(f, 'epochs', 3);
const limit = f.has('limit') ? intFlag(f, 'limit', 60000) : undefined;

const v = validateJobSpec(workloadJobSpec(HIDDEN, threads, epochs, limit));
if (!v.ok) throw new Error(`benchmark spec rejected:\n${formatProblems(v.problems)}`);
const spec = v.spec;
const baseRssMB = process.memoryUsage().rss / 2 ** 20;
const data = loadDataset(spec.dataset);
// The budget counts the data the process holds: the loader keeps the whole parsed file
// (its per-process cache; a job's splits are views into it), so with --limit that is
// still all 70,000 images, not the limited rows.
const held = loadDataset({ name: spec.dataset.name });
const datasetFloats = [held.train, held.test].reduce((s, x) => s + (x ? x.x.length + x.n : 0), 0);
const trainSpec0 = toTrainSpec(spec);

const pool = new ThreadPool(threads - 1);
let kernelsSeen: string[] = [];
const timed: EpochTiming[] = [];
let cpuMark = cpuSeconds();
try {
  const factory = threadEngine(pool);
  const engine: EngineFactory = async (o) => { const e = await factory(o); kernelsSeen = [...new Set(e.kernels)]; return e; };
  engine.heap = factory.heap;
  const result = await train({
    spec: trainSpec0, data, engine,
    hooks: {
      onEpochEnd: (e) => {
        const cpu = cpuSeconds();
        const m = e.metrics;
        // the trainer's epoch_seconds covers the batches only; cpuSeconds spans hook to hook
        timed.push({ epoch: e.epoch, samples: data.train.n, seconds: m.epoch_seconds, cpuSeconds: cpu - cpuMark });
        process.stderr.write(`  ours ${threads}t epoch ${e.epoch}/${epochs}: ${Math.round(m.samples_per_second)} samples/s, ` +
          `train_loss ${m.train_loss.toFixed(4)}, train_acc ${m.train_accuracy.toFixed(4)}\n`);
        cpuMark = cpuSeconds();
      },
    },
  });
  const trainPeakRssMB = peakRssMB();
  const trainSpec = trainSpec0;
  const test = data.test ?? data.train;
  const d = test.x.length / test.n, rowsN = Math.min(PREDICT_ROWS, test.n);
  const rows: number[][] = [];
  for (let r = 0; r < rowsN; r++) rows.push(Array.from(test.x.subarray(r * d, (r + 1) * d)));
  const predictor = new Predictor(trainSpec, d, data.task, result.weights);
  const times: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    predictor.predict(rows);
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  emitResult({
    predictRowsPerSecond: rowsN / times[1],
    name: `${process.env.TRAINYARD_KERNELS === 'wasm-relaxed' ? 'ours-relaxed' : 'ours'}, ${threads} thread${threads > 1 ? 's' : ''}`,
    trainSamples: data.train.n, epochs, epochsTimed: timed,
    testAccuracy: result.testMetrics?.test_accuracy ?? null,
    peakRssMB: peakRssMB(),
    baseRssMB, trainPeakRssMB, memoryBudgetMB: memoryBudgetMB(HIDDEN, trainSpec0.training.batchSize, datasetFloats),
    info: `init ${spec.model.init ?? 'auto'}, shuffle per epoch, worker_threads data parallel, kernels ${kernelsSeen.join(' + ')}`,
  });
} finally {
  await pool.close();
}
