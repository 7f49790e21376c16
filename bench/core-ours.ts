// Contender process for bench/core.ts: Trainyard's own core on the reference workload,
// through the same path the worker and the CLI use (validateJobSpec → train() on a
// ThreadPool engine), so the per-step bookkeeping (grad norms, update ratios, batch
// loss points) is included, as in production.
//
//   node dist/bench/core-ours.js --threads 1|2 [--epochs 3] [--limit 60000]
import { ThreadPool, threadEngine } from '../src/core/pool.js';
import { train } from '../src/core/trainer.js';
import { loadDataset } from '../src/data/load.js';
import { formatProblems, toTrainSpec, validateJobSpec } from '../src/spec/index.js';
import {
  BATCH_SIZE, CLASSES, HIDDEN, LEARNING_RATE, SEED, cpuSeconds, emitResult, flags, intFlag, peakRssMB,
  type EpochTiming,
} from './core-workload.js';

const f = flags();
const threads = intFlag(f, 'threads', 1);
const epochs = intFlag(f, 'epochs', 3);
const limit = f.has('limit') ? intFlag(f, 'limit', 60000) : undefined;

const v = validateJobSpec({
  name: 'bench-core',
  dataset: { name: 'mnist', ...(limit ? { limit } : {}) },
  model: {
    layers: [
      ...HIDDEN.map((units) => ({ type: 'dense', units, activation: 'relu' })),
      { type: 'dense', units: CLASSES, activation: 'softmax' },
    ],
  },
  loss: 'cross-entropy',
  optimizer: { type: 'adam', learningRate: LEARNING_RATE },
  training: { epochs, batchSize: BATCH_SIZE, shuffle: true, seed: SEED, threads },
});
if (!v.ok) throw new Error(`benchmark spec rejected:\n${formatProblems(v.problems)}`);
const spec = v.spec;
const data = loadDataset(spec.dataset);

const pool = new ThreadPool(threads - 1);
const timed: EpochTiming[] = [];
let cpuMark = cpuSeconds();
try {
  const result = await train({
    spec: toTrainSpec(spec), data, engine: threadEngine(pool),
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
  emitResult({
    name: `ours, ${threads} thread${threads > 1 ? 's' : ''}`,
    trainSamples: data.train.n, epochs, epochsTimed: timed,
    testAccuracy: result.testMetrics?.test_accuracy ?? null,
    peakRssMB: peakRssMB(),
    info: `init ${spec.model.init ?? 'auto'}, shuffle per epoch, worker_threads data parallel`,
  });
} finally {
  await pool.close();
}
