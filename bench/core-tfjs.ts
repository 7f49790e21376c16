// Contender process for bench/core.ts: TensorFlow.js 4.22 on the reference workload,
// tf.sequential + model.fit, same MNIST arrays as ours (src/data, pixel/255 float32).
//
//   node dist/bench/core-tfjs.js --backend wasm|cpu [--epochs 3] [--limit 60000]
//
// wasm backend offline: setWasmPaths(<the package's dist folder>/) makes the backend
// read the .wasm binaries from node_modules with fs, nothing is fetched. Which binary
// it picks is decided by two env flags: WASM_HAS_SIMD_SUPPORT (true in Node 20) and
// WASM_HAS_MULTITHREAD_SUPPORT, which tfjs hard-wires to false under Node
// (tensorflow/tfjs#3830), so Node always gets tfjs-backend-wasm-simd.wasm, single
// threaded. `--wasm-threads` forces the threaded-simd binary anyway: in Node 20 it
// fails to initialise (emscripten starts its pthreads with `new Worker("blob:…")`,
// which Node refuses with ERR_WORKER_PATH).
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadDataset } from '../src/data/load.js';
import type { Split } from '../src/core/dataset.js';
import {
  BATCH_SIZE, CLASSES, INPUT, workloadHidden, LEARNING_RATE, cpuSeconds, emitResult, flags, intFlag, peakRssMB,
  type EpochTiming,
} from './core-workload.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type Tfl = typeof import('@tensorflow/tfjs-layers');

const f = flags();
const HIDDEN = workloadHidden(f);
const backend = f.get('backend') ?? 'wasm';
const epochs = intFlag(f, 'epochs', 3);
const limit = f.has('limit') ? intFlag(f, 'limit', 60000) : undefined;
if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`--backend must be wasm or cpu, got ${backend}`);

// the node bundles are CommonJS; their module.exports is the ESM default
const tf = (await import('@tensorflow/tfjs-core')).default as unknown as Tf;
const tfl = (await import('@tensorflow/tfjs-layers')).default as unknown as Tfl;
let info: string;
if (backend === 'wasm') {
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')).default as unknown as {
    setWasmPaths(prefix: string): void; getThreadsCount(): number;
  };
  const dir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(dir + path.sep);
  if (f.has('wasm-threads')) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialise');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const file = simd && mt ? 'tfjs-backend-wasm-threaded-simd.wasm' : simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
  info = `${file} (SIMD ${simd}, multithread ${mt}, XNNPACK threads ${wasm.getThreadsCount()})`;
} else {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs: the cpu backend failed to initialise');
  await tf.ready();
  info = 'pure-JS kernels';
}
process.stderr.write(`  tfjs ${tf.getBackend()}: ${info}\n`);

const data = loadDataset({ name: 'mnist', limit });
const tensors = (s: Split) => ({
  x: tf.tensor2d(s.x, [s.n, INPUT]),
  y: tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(s.labels!, 'int32'), CLASSES), 'float32')),
});
const trainT = tensors(data.train);

// same initialisation scheme as ours (he for ReLU layers, glorot for the softmax layer)
const model = tfl.sequential({
  layers: [
    ...HIDDEN.map((units, i) => tfl.layers.dense({
      units, activation: 'relu', kernelInitializer: 'heNormal', ...(i === 0 ? { inputShape: [INPUT] } : {}),
    })),
    tfl.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: 'glorotNormal' }),
  ],
});
model.compile({ optimizer: tf.train.adam(LEARNING_RATE), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

const timed: EpochTiming[] = [];
let t0 = 0, c0 = 0;
await model.fit(trainT.x, trainT.y, {
  epochs, batchSize: BATCH_SIZE, shuffle: true, verbose: 0,
  yieldEvery: 'never', // no setImmediate pauses inside the epoch: tfjs at its fastest
  callbacks: {
    onEpochBegin: async () => { t0 = performance.now(); c0 = cpuSeconds(); },
    onEpochEnd: async (epoch, logs) => {
      const seconds = (performance.now() - t0) / 1000;
      timed.push({ epoch: epoch + 1, samples: data.train.n, seconds, cpuSeconds: cpuSeconds() - c0 });
      process.stderr.write(`  tfjs-${backend} epoch ${epoch + 1}/${epochs}: ${Math.round(data.train.n / seconds)} samples/s, ` +
        `loss ${logs?.loss?.toFixed(4)}, acc ${(logs?.acc ?? logs?.accuracy)?.toFixed(4)}\n`);
    },
  },
});

const test = data.test!;
const testX = tf.tensor2d(test.x, [test.n, INPUT]);
const pred = tf.tidy(() => tf.argMax(model.predict(testX, { batchSize: 1000 }) as import('@tensorflow/tfjs-core').Tensor, -1));
const predicted = await pred.data();
let correct = 0;
for (let i = 0; i < test.n; i++) if (predicted[i] === test.labels![i]) correct++;

emitResult({
  name: `tfjs-${backend}`,
  trainSamples: data.train.n, epochs, epochsTimed: timed,
  testAccuracy: correct / test.n,
  peakRssMB: peakRssMB(),
  info,
});
