// Sweep benchmark: `npm run bench:sweep`. One search space on an MNIST subset, run
// three times through the real system (API + worker, fresh database, real Redis) with
// pruner none (exhaustive), median and ASHA: total epochs trained, wall time and the
// best objective, side by side. Target (issue 11): ASHA within 0.5 percentage points
// of the exhaustive search's best val_accuracy with at most 1/3 of its epochs.
// Trials run one at a time by default (--parallelism 1), so the three runs see the
// same trials in the same order and the pruners' decisions do not depend on timing.
// 27 trials by default (3^3 for η = 3): asynchronous ASHA promotes the first trials at
// each rung with few rivals (max(1, ⌊n/η⌋) of n), so its savings grow with the number
// of trials; on 2026-12-01 12 trials gave ASHA 0.44× of the exhaustive epochs, 27 gave 0.27×.
//   node dist/bench/sweep.js [--trials 27] [--epochs 9] [--limit 6000] [--parallelism 1] [--seed 1]
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { buildApp } from '../src/api/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { createRedis } from '../src/queue/connection.js';
import { createTrainQueue } from '../src/queue/train-queue.js';
import { TrainingWorker } from '../workers/training-worker.js';
import { createTestDatabase } from '../tests/helpers/db.js';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '27' },
    epochs: { type: 'string', default: '9' },
    limit: { type: 'string', default: '6000' },
    parallelism: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
  },
});
const trials = Number(values.trials), epochs = Number(values.epochs), parallelism = Number(values.parallelism);

const spec = {
  name: 'bench-sweep',
  dataset: { name: 'mnist', limit: Number(values.limit), validationSplit: 0.1 },
  model: {
    layers: [
      { type: 'dense', units: 64, activation: 'relu' },
      { type: 'dense', units: 64, activation: 'relu' },
      { type: 'dense', units: 10, activation: 'softmax' },
    ],
  },
  loss: 'cross-entropy',
  optimizer: { type: 'sgd', learningRate: 0.01 },
  training: { epochs, batchSize: 64, seed: 7, threads: 1 },
  checkpoints: { everyEpochs: epochs, keepLast: 1, keepBest: false },
};
const space = {
  '/optimizer/type': { values: ['sgd', 'momentum', 'adam'] },
  '/optimizer/learningRate': { distribution: 'log-uniform', min: 0.0001, max: 0.3 },
  '/model/layers/0/activation': { values: ['relu', 'sigmoid', 'tanh'] },
  '/model/layers/1/activation': { values: ['relu', 'sigmoid', 'tanh'] },
};
const pruners = [
  { type: 'none' },
  { type: 'median', minEpochs: 1 },
  { type: 'asha', minEpochs: 1, reductionFactor: 3 },
] as const;

const db = await createTestDatabase('bench-sweep');
const config = { ...loadConfig({ ...process.env, LOG_LEVEL: 'silent' }), databaseUrl: db.url, queuePrefix: `trainyard-bench-sweep-${process.pid}`, trainerThreads: 1 };
const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1, connectionName: 'trainyard-bench' });
const queue = createTrainQueue(redis, config.queuePrefix);
const app = await buildApp({ config, prisma: db.prisma, queue, redis, logger: silentLogger() });
const worker = await TrainingWorker.start({ config, prisma: db.prisma, logger: silentLogger(), concurrency: parallelism, sweepReconcileMs: 1000 });

interface Row { pruner: string; trials: number; pruned: number; epochs: number; seconds: number; best: number; bestTrial: number }
const rows: Row[] = [];
const load = [loadavg()[0]!];
try {
  // warm-up, not reported: the first sweep would pay for reading MNIST and for the JIT
  await app.inject({ method: 'POST', url: '/v1/sweeps', payload: { name: 'warm-up', spec: { ...spec, training: { ...spec.training, epochs: 1 } }, parameters: { '/optimizer/learningRate': { values: [0.01] } }, method: 'grid', objective: { metric: 'val_accuracy' } } });
  while ((await db.prisma.sweep.count({ where: { status: 'running' } })) > 0) await new Promise((r) => setTimeout(r, 250));
  for (const pruner of pruners) {
    const t0 = performance.now();
    const res = await app.inject({
      method: 'POST', url: '/v1/sweeps',
      payload: { name: `bench-${pruner.type}`, spec, parameters: space, method: 'random', maxTrials: trials, parallelism, seed: Number(values.seed), objective: { metric: 'val_accuracy' }, pruner },
    });
    if (res.statusCode !== 201) throw new Error(`POST /v1/sweeps answered ${res.statusCode}: ${res.body}`);
    const id = (res.json() as { id: string }).id;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let sweep: any;
    for (;;) {
      sweep = (await app.inject({ method: 'GET', url: `/v1/sweeps/${id}` })).json();
      if (sweep.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const seconds = (performance.now() - t0) / 1000;
    const epochsTrained = await db.prisma.metricPoint.count({ where: { name: 'val_accuracy', job: { sweepId: id } } });
    const bestJob = sweep.best ? await db.prisma.job.findUnique({ where: { id: sweep.best.jobId }, select: { trialIndex: true } }) : null;
    rows.push({ pruner: pruner.type, trials, pruned: sweep.counts.pruned, epochs: epochsTrained, seconds, best: sweep.best?.value ?? NaN, bestTrial: bestJob?.trialIndex ?? -1 });
    load.push(loadavg()[0]!);
    process.stderr.write(`${pruner.type}: ${sweep.status}, ${epochsTrained} epochs, ${seconds.toFixed(1)} s, best ${sweep.best?.value}\n`);
  }
} finally {
  await worker.close();
  await app.close();
  await queue.obliterate({ force: true }).catch(() => {});
  await queue.close();
  redis.disconnect();
  await db.drop();
}

const exhaustive = rows[0]!;
console.log(`\nSweep benchmark: MNIST limit ${values.limit} (10% validation), ${trials} random trials × ${epochs} epochs, parallelism ${parallelism}, seed ${values.seed}`);
console.log(`space: optimizer ∈ {sgd, momentum, adam}, learningRate log-uniform [1e-4, 0.3], two hidden activations ∈ {relu, sigmoid, tanh}; objective val_accuracy`);
console.log(`load average (1 min) during the run: ${load.map((l) => l.toFixed(2)).join(' → ')} on a shared 2-core machine: wall times are noisy\n`);
console.log('| pruner | pruned | epochs trained | vs exhaustive | wall s | best val_accuracy | Δ vs exhaustive (pp) | best trial |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.pruner} | ${r.pruned}/${r.trials} | ${r.epochs} | ${(r.epochs / exhaustive.epochs).toFixed(2)}× | ${r.seconds.toFixed(1)} | ${r.best.toFixed(4)} | ${((r.best - exhaustive.best) * 100).toFixed(2)} | #${r.bestTrial} |`);
}
const asha = rows[2]!;
const within = (exhaustive.best - asha.best) * 100 <= 0.5;
const cheap = asha.epochs <= exhaustive.epochs / 3;
console.log(`\ntarget (ASHA within 0.5 pp of exhaustive with ≤ 1/3 of its epochs): ${within && cheap ? 'met' : 'NOT met'} ` +
  `(${((exhaustive.best - asha.best) * 100).toFixed(2)} pp behind, ${(asha.epochs / exhaustive.epochs).toFixed(2)} of the epochs)`);
console.log('epochs trained = epochs with a stored val_accuracy; a pruned trial also trains the first batch of the epoch after its decision (not counted).');
