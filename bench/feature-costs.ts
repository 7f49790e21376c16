// What dead_units and maxNorm cost per training step, next to the step itself
// (784-256-256-10 ReLU net, batch 128, one thread). `node dist/bench/feature-costs.js`.
// Noisy on a shared machine: the numbers are medians of repeated runs in the same process.
import { loadavg } from 'node:os';
import { markAlive } from '../src/core/dead-units.js';
import { applyMaxNorm } from '../src/core/regularization.js';
import { train } from '../src/core/trainer.js';
import { loadDataset } from '../src/data/load.js';
import { normalizeJobSpec, toTrainSpec } from '../src/spec/index.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const data = loadDataset({ name: 'mnist', limit: 2560 });
const spec = (maxNorm?: number) => toTrainSpec(normalizeJobSpec({
  name: 'cost', dataset: { name: 'mnist' },
  model: { layers: [{ type: 'dense', units: 256, activation: 'relu' }, { type: 'dense', units: 256, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] },
  loss: 'cross-entropy', optimizer: { type: 'sgd', learningRate: 0.01 }, regularization: maxNorm ? { maxNorm } : {},
  training: { epochs: 1, batchSize: 128, seed: 1 },
}));
const stepMs = async (maxNorm?: number) => {
  const r = await train({ spec: spec(maxNorm), data });
  return (r.finalMetrics.epoch_seconds * 1000) / 20;
};
const base: number[] = [], withMax: number[] = [];
for (let k = 0; k < 5; k++) { base.push(await stepMs()); withMax.push(await stepMs(3)); }

const A = new Float32Array(128 * 256).map(() => Math.random() - 0.5), alive = new Uint8Array(256);
const W = new Float32Array(256 * 784 + 256 * 256 + 10 * 256).map(() => Math.random() * 0.01);
const blocks = [{ offset: 0, rows: 256, cols: 784 }, { offset: 256 * 784, rows: 256, cols: 256 }, { offset: 256 * 784 + 65536, rows: 10, cols: 256 }];
const time = (f: () => void) => { const xs = []; for (let k = 0; k < 50; k++) { const t = performance.now(); f(); xs.push(performance.now() - t); } return median(xs); };
const markMs = 2 * time(() => markAlive(A, 128, 256, alive)); // two ReLU layers per step
const maxMs = time(() => applyMaxNorm(W, blocks, 3));
console.log(JSON.stringify({
  loadAverage: loadavg().map((v) => +v.toFixed(2)),
  stepMsMedian: +median(base).toFixed(3), stepMsWithMaxNormMedian: +median(withMax).toFixed(3),
  deadUnitsMsPerStep: +markMs.toFixed(4), deadUnitsShareOfStep: +(markMs / median(base)).toFixed(4),
  maxNormMsPerStep: +maxMs.toFixed(4), maxNormShareOfStep: +(maxMs / median(base)).toFixed(4),
}, null, 1));
