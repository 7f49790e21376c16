// The training loop: minibatches, shuffle, per-epoch metrics (DESIGN.md names),
// early stopping, divergence guard, checkpoints and resume, cancellation between
// batches. Forward/backward run in an Engine (one thread or a worker_threads pool);
// regularization, the optimizer step and the per-layer statistics run here over the
// flat parameter buffer.
import { decodeResume, encodeResume, encodeWeights, loadWeightsInto, type PartialEpoch, type ResumeState } from './checkpoint.js';
import { diagnose, type EpochMetrics } from './diagnosis.js';
import { EarlyStopping } from './early-stopping.js';
import { localEngine, type EngineFactory } from './engine.js';
import { DivergenceError } from './errors.js';
import { evaluateSplit, type InferenceOptions } from './evaluate.js';
import { Heap } from './memory.js';
import { initParams, planParams } from './model.js';
import { createOptimizer, type Optimizer } from './optimizers/index.js';
import { Stream, permute } from './rng.js';
import type { EpochEnd, TrainOptions, TrainProgress, TrainResult } from './train-types.js';
import type { EarlyStoppingDecision, MetricPoint } from './types.js';

export type { EngineFactory };

/** Yield to the event loop at least this often (ms) so timers, lock renewals and cancel messages get through. */
const YIELD_EVERY_MS = 20;

export async function train(opts: TrainOptions & { engine?: EngineFactory }): Promise<TrainResult> {
  const { spec, data } = opts;
  const t = spec.training;
  const { seed, batchLossEvery } = t;
  const plan = planParams(spec.model, data.inputSize);
  const factory = opts.engine ?? localEngine;
  const heap = factory.heap?.() ?? new Heap();
  const optimizerBuffers: Float32Array[] = [];
  const optimizer: Optimizer = createOptimizer(spec.optimizer, plan.size, (n) => {
    const b = heap.alloc(n);
    optimizerBuffers.push(b);
    return b;
  });
  const engine = await factory({ plan, spec, data, heap, optimizer, optimizerBuffers });
  try {
    return await run();
  } finally {
    await engine.close();
  }

  async function run(): Promise<TrainResult> {
    const { params, layerStats } = engine;
    const trainable = plan.weightOf.map((e, i) => (e ? i : -1)).filter((i) => i >= 0);
    const es = spec.earlyStopping;
    let stopper = es ? new EarlyStopping(es) : null;
    // without early stopping "best" still means something for keepBest checkpoints:
    // the lowest val_loss, else train_loss (EpochEnd.isBest)
    const bestMonitor = es ? es.monitor : data.validation ? 'val_loss' : 'train_loss';
    const bestMode = es ? es.mode : 'min';
    const restoreBest = es !== null && es.restoreBest;
    const bestParams = heap.alloc(plan.size);
    let haveBestParams = false;
    let best: { epoch: number; metrics: Record<string, number> } | null = null;
    const history: EpochMetrics[] = [];
    const infer: InferenceOptions = {
      mode: spec.model.dropoutInference, mcSamples: spec.model.mcSamples, seed,
    };
    const evalOut = heap.alloc(t.batchSize * plan.outputSize);

    let epoch0 = 0, step = 0;
    let partial: PartialEpoch | null = null;
    if (opts.resumeFrom) {
      const s = decodeResume(plan, opts.resumeFrom, opts.specHash, params, optimizer.state, bestParams);
      epoch0 = s.epoch; step = s.step; best = s.best; haveBestParams = s.hasBestWeights;
      partial = s.partial ?? null;
      history.push(...s.history);
      if (es && s.earlyStopping) stopper = EarlyStopping.fromJSON(es, s.earlyStopping);
    } else {
      initParams(params, plan, spec.model, seed);
      if (opts.initialWeights) loadWeightsInto(plan, params, opts.initialWeights);
    }

    const train = data.train;
    const batches = Math.ceil(train.n / t.batchSize);
    const order = new Int32Array(train.n);
    const stats = new Float64Array(2);
    const gradNormSum = new Float64Array(plan.weightOf.length);
    const updRatioSum = new Float64Array(plan.weightOf.length);
    const samplesPerSecond = { value: 0 };
    // one object, updated in place: onProgress must copy what it keeps
    const progress: TrainProgress = { epoch: 0, epochs: t.epochs, step: 0, batch: 0, batchesPerEpoch: batches, samplesPerSecond: 0, etaSeconds: 0 };
    let lastDecision: EarlyStoppingDecision | null = null;
    let status: TrainResult['status'] = 'succeeded';
    let stoppedEarly = false;
    let lastMetrics: Record<string, number> = history.at(-1)?.metrics ?? {};
    const runStart = performance.now();
    // across epochs, not per epoch: short epochs must not starve the event loop
    let lastYield = runStart;
    let samplesThisRun = 0;

    const resumeState = (epoch: number, inEpoch: PartialEpoch | null = null): ResumeState => ({
      specHash: opts.specHash ?? '', epoch, step, earlyStopping: stopper?.toJSON() ?? null, history, best,
      hasBestWeights: haveBestParams, partial: inEpoch,
    });

    for (let epoch = epoch0 + 1; epoch <= t.epochs; epoch++) {
      if (t.shuffle) permute(order, train.n, seed, Stream.shuffle, epoch);
      else for (let i = 0; i < train.n; i++) order[i] = i;
      let epochStart = performance.now();
      let lossSum = 0, correct = 0, seen = 0, ratioSteps = 0, b0 = 0;
      let points: MetricPoint[] = [];
      gradNormSum.fill(0); updRatioSum.fill(0);
      if (partial) {
        // resuming inside this epoch: same shuffle (keyed by epoch), continue at the next batch
        ({ lossSum, correct, seen, ratioSteps, points } = partial);
        b0 = partial.batch;
        gradNormSum.set(partial.gradNormSum); updRatioSum.set(partial.updRatioSum);
        epochStart -= partial.seconds * 1000;
        partial = null;
      }

      for (let b = b0; b < batches; b++) {
        if (opts.signal?.aborted) {
          status = 'cancelled';
          const inEpoch: PartialEpoch = {
            batch: b, lossSum, correct, seen, ratioSteps, points, seconds: (performance.now() - epochStart) / 1000,
            gradNormSum: Array.from(gradNormSum), updRatioSum: Array.from(updRatioSum),
          };
          return finish(epoch - 1, encodeResume(plan, params, optimizer.state, haveBestParams ? bestParams : null, resumeState(epoch - 1, inEpoch)));
        }
        const start = b * t.batchSize, rows = Math.min(t.batchSize, train.n - start);
        step++;
        stats[0] = 0; stats[1] = 0;
        // update_ratio ‖Δw‖/‖w‖ is sampled every batchLossEvery steps: it needs a copy of the weights
        const sampleRatio = step % batchLossEvery === 0 || b === batches - 1;
        engine.step(train, order, start, rows, seed, step, sampleRatio, stats);
        const batchLoss = stats[0] / rows;
        if (!Number.isFinite(batchLoss)) throw divergence(epoch, step, b + 1, batchLoss, lastMetrics);
        lossSum += stats[0]; correct += stats[1]; seen += rows;
        for (let l = 0; l < trainable.length; l++) {
          const i = trainable[l];
          gradNormSum[i] += Math.sqrt(layerStats[3 * l]);
          if (sampleRatio) updRatioSum[i] += Math.sqrt(layerStats[3 * l + 1]) / (Math.sqrt(layerStats[3 * l + 2]) || 1);
        }
        if (sampleRatio) ratioSteps++;
        if (step % batchLossEvery === 0) points.push({ name: 'batch_loss', step, epoch, value: batchLoss });

        samplesThisRun += rows;
        const now = performance.now();
        if (opts.hooks?.onProgress || now - lastYield > YIELD_EVERY_MS) {
          const elapsed = (now - runStart) / 1000;
          samplesPerSecond.value = samplesThisRun / Math.max(elapsed, 1e-9);
          const remaining = (t.epochs - epoch) * train.n + (train.n - seen);
          progress.epoch = epoch; progress.step = step; progress.batch = b + 1;
          progress.samplesPerSecond = samplesPerSecond.value;
          progress.etaSeconds = remaining / Math.max(samplesPerSecond.value, 1e-9);
          opts.hooks?.onProgress?.(progress);
        }
        if (now - lastYield > YIELD_EVERY_MS) { await new Promise<void>((r) => setImmediate(r)); lastYield = performance.now(); }
      }

      const epochSeconds = (performance.now() - epochStart) / 1000;
      const metrics: Record<string, number> = {};
      metrics.train_loss = lossSum / seen;
      if (data.task === 'classification') metrics.train_accuracy = correct / seen;
      if (data.validation && data.validation.n > 0) {
        const v = evaluateSplit(engine.replica, data.validation, infer, evalOut);
        metrics.val_loss = v.loss;
        if (v.accuracy !== null) metrics.val_accuracy = v.accuracy;
      }
      metrics.learning_rate = optimizer.learningRate;
      metrics.samples_per_second = seen / epochSeconds;
      metrics.epoch_seconds = epochSeconds;
      for (const i of trainable) {
        const e = plan.weightOf[i]!;
        metrics[`grad_norm/${i}`] = gradNormSum[i] / batches;
        metrics[`weight_norm/${i}`] = norm(params, e.offset, e.length);
        metrics[`update_ratio/${i}`] = updRatioSum[i] / Math.max(ratioSteps, 1);
        if (!Number.isFinite(metrics[`weight_norm/${i}`])) throw divergence(epoch, step, batches, NaN, lastMetrics, `the weights of layer ${i}`);
      }
      if (metrics.val_loss !== undefined && !Number.isFinite(metrics.val_loss)) throw divergence(epoch, step, batches, metrics.val_loss, lastMetrics, 'the validation loss');
      for (const [name, value] of Object.entries(metrics)) points.push({ name, step, epoch, value });

      const decision = stopper ? stopper.update(epoch, metrics) : null;
      lastDecision = decision;
      const monitored = metrics[bestMonitor];
      const isBest = best === null || (Number.isFinite(monitored) &&
        (bestMode === 'min' ? monitored < best.metrics[bestMonitor] : monitored > best.metrics[bestMonitor]));
      if (decision ? decision.decision === 'improved' : isBest) {
        best = { epoch, metrics: { ...metrics } };
        if (restoreBest) { bestParams.set(params.subarray(0, plan.size)); haveBestParams = true; }
      }
      history.push({ epoch, metrics });
      lastMetrics = metrics;
      const diagnosis = diagnose(history, diagnosisContext());
      const stop = decision?.decision === 'stop';
      const last = epoch === t.epochs || stop;
      const every = spec.checkpoints.everyEpochs;
      const end: EpochEnd = {
        epoch, step, points, metrics, decision,
        isBest: best?.epoch === epoch,
        checkpointDue: last || epoch % every === 0,
        checkpoint: () => encodeResume(plan, params, optimizer.state, haveBestParams ? bestParams : null, resumeState(epoch)),
        diagnosis,
      };
      await opts.hooks?.onEpochEnd?.(end);
      if (stop) { stoppedEarly = true; return finish(epoch, null); }
    }
    return finish(t.epochs, null);

    function finish(epochsDone: number, checkpoint: Uint8Array | null): TrainResult {
      const ck = checkpoint ?? encodeResume(plan, params, optimizer.state, haveBestParams ? bestParams : null, resumeState(epochsDone));
      if (restoreBest && haveBestParams && status !== 'cancelled') params.set(bestParams.subarray(0, plan.size));
      let testMetrics: Record<string, number> | null = null;
      const testPoints: MetricPoint[] = [];
      if (data.test && data.test.n > 0 && status !== 'cancelled') {
        const r = evaluateSplit(engine.replica, data.test, infer, evalOut);
        testMetrics = { test_loss: r.loss };
        if (r.accuracy !== null) testMetrics.test_accuracy = r.accuracy;
        for (const [name, value] of Object.entries(testMetrics)) testPoints.push({ name, step, epoch: epochsDone, value });
      }
      const finalMetrics = restoreBest && best && haveBestParams ? best.metrics : lastMetrics;
      return {
        status, epochs: epochsDone, step,
        stoppedEarly,
        stopDecision: stoppedEarly ? lastDecision : null,
        finalMetrics, best, testMetrics, testPoints,
        diagnosis: diagnose(history, diagnosisContext()),
        weights: encodeWeights(plan, params, { specHash: opts.specHash, epoch: restoreBest && best ? best.epoch : epochsDone, step, metrics: finalMetrics }),
        checkpoint: ck,
      };
    }
  }

  function diagnosisContext() {
    return {
      task: data.task, outputSize: data.outputSize,
      hasDropout: spec.model.layers.some((l) => l.type === 'dropout'),
      activations: spec.model.layers.map((l) => (l.type === 'dense' ? l.activation : l.type)),
    };
  }

  function divergence(epoch: number, step: number, batch: number, value: number, prev: Record<string, number>,
    what = 'the training loss'): DivergenceError {
    const lr = spec.optimizer.learningRate;
    const causes: string[] = [];
    if (lr >= 0.1 && spec.optimizer.type !== 'sgd') causes.push(`a learning rate of ${lr} is very high for ${spec.optimizer.type}`);
    else if (lr >= 1) causes.push(`a learning rate of ${lr} is very high`);
    if (spec.loss === 'mse') causes.push('unnormalised regression targets can blow up an MSE loss');
    const hint = causes.length ? causes.join('; ') : `the learning rate (${lr}) is the usual cause`;
    const prevLoss = prev.train_loss !== undefined ? ` (train_loss was ${prev.train_loss.toPrecision(4)} after the previous epoch)` : '';
    return new DivergenceError(
      `${what} became ${value} at epoch ${epoch}, step ${step} (batch ${batch})${prevLoss}: training diverged. Likely cause: ${hint}; try a learning rate 10× lower, gradient-friendly activations (relu) or adam.`,
      epoch, step, { batch, learningRate: lr });
  }
}

function norm(a: Float32Array, off: number, n: number): number {
  let s = 0;
  for (let i = off; i < off + n; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}


