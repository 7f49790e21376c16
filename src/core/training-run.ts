// One run of the training loop, as an object with its state in named parts: where the
// run is (epochs done, global step), early stopping and the best epoch (with its
// weights for restoreBest), the metric history, and the running totals of the epoch in
// progress. train() (trainer.ts) builds the engine and runs one of these.
//
// Per batch: shuffle order → engine.step (forward/backward, L1/L2, optimizer) →
// divergence guard → totals. Per epoch: metrics (DESIGN.md names), early stopping,
// best epoch, diagnosis, onEpochEnd. Cancellation is checked between batches.
import { decodeResume, encodeResume, encodeWeights, loadWeightsInto, type PartialEpoch } from './checkpoint.js';
import type { Dataset } from './dataset.js';
import { diagnose, type DiagnosisContext, type EpochMetrics } from './diagnosis.js';
import { EarlyStopping } from './early-stopping.js';
import type { Engine } from './engine.js';
import { EpochTotals } from './epoch-totals.js';
import { DivergenceError } from './errors.js';
import type { Heap } from './memory.js';
import { initParams, type ParamPlan } from './model.js';
import type { Optimizer } from './optimizers/index.js';
import { learningRateAt } from './optimizers/schedule.js';
import { applyMaxNorm, maxNormRows, type RowBlock } from './regularization.js';
import { Stream, permute } from './rng.js';
import { LOSS_STATS, gradNorm, updateRatio } from './step-stats.js';
import type { EpochEnd, TrainOptions, TrainProgress, TrainResult } from './train-types.js';
import type { EarlyStoppingDecision, MetricPoint, MonitorName, TrainSpec } from './types.js';

/** Yield to the event loop at least this often (ms) so timers, lock renewals and cancel messages get through. */
const YIELD_EVERY_MS = 20;

type Metrics = Record<string, number>;

export class TrainingRun {
  private readonly spec: TrainSpec;
  private readonly data: Dataset;
  /** spec layer indices that have weights (grad_norm/<i> and friends) */
  private readonly trainable: number[];
  private readonly batches: number;
  /** this epoch's sample order */
  private readonly order: Int32Array;
  /** the current step's loss sum and correct count (LOSS_STATS) */
  private readonly stepStats = new Float64Array(LOSS_STATS.size);
  private readonly diagnosisContext: DiagnosisContext;
  /** one object, updated in place: onProgress must copy what it keeps */
  private readonly progress: TrainProgress;
  /** the weight rows regularization.maxNorm constrains (empty without it) */
  private readonly maxNormRows: RowBlock[];

  // where the run is
  private epochsDone = 0;
  private step = 0;
  /** set when resuming inside epoch epochsDone + 1 */
  private partial: PartialEpoch | null = null;

  // early stopping and the best epoch
  private earlyStopping: EarlyStopping | null;
  /** without early stopping "best" still means something for keepBest checkpoints: the lowest val_loss, else train_loss */
  private readonly bestBy: { monitor: MonitorName; mode: 'min' | 'max' };
  private readonly restoreBest: boolean;
  private best: { epoch: number; metrics: Metrics } | null = null;
  private readonly bestParams: Float32Array;
  private hasBestParams = false;
  private lastDecision: EarlyStoppingDecision | null = null;

  // what has been measured
  private readonly history: EpochMetrics[] = [];
  private lastMetrics: Metrics;
  private readonly totals: EpochTotals;

  // time, for progress and for yielding: across epochs, so short epochs cannot starve the event loop
  private readonly runStart: number;
  private lastYield: number;
  private samplesThisRun = 0;

  constructor(private readonly opts: TrainOptions, private readonly plan: ParamPlan, heap: Heap,
    private readonly optimizer: Optimizer, private readonly engine: Engine) {
    const { spec, data } = opts;
    const t = spec.training;
    this.spec = spec;
    this.data = data;
    this.trainable = plan.weightOf.map((e, i) => (e ? i : -1)).filter((i) => i >= 0);
    const es = spec.earlyStopping;
    this.earlyStopping = es ? new EarlyStopping(es) : null;
    this.bestBy = es ? { monitor: es.monitor, mode: es.mode } : { monitor: data.validation ? 'val_loss' : 'train_loss', mode: 'min' };
    this.restoreBest = es !== null && es.restoreBest;
    this.bestParams = heap.alloc(plan.size);
    this.diagnosisContext = {
      task: data.task, outputSize: data.outputSize,
      hasDropout: spec.model.layers.some((l) => l.type === 'dropout'),
      activations: spec.model.layers.map((l) => (l.type === 'dense' ? l.activation : l.type)),
      layers: spec.model.layers, init: spec.model.init,
      optimizer: { type: spec.optimizer.type, learningRate: spec.optimizer.learningRate },
      regularization: spec.regularization, earlyStopping: spec.earlyStopping, epochs: t.epochs,
    };

    if (opts.resumeFrom) {
      const s = decodeResume(plan, opts.resumeFrom, opts.specHash, engine.params, optimizer.state, this.bestParams);
      this.epochsDone = s.epoch; this.step = s.step;
      this.best = s.best; this.hasBestParams = s.hasBestWeights;
      this.partial = s.partial ?? null;
      this.history.push(...s.history);
      if (es && s.earlyStopping) this.earlyStopping = EarlyStopping.fromJSON(es, s.earlyStopping);
    } else {
      initParams(engine.params, plan, spec.model, t.seed);
      if (opts.initialWeights) loadWeightsInto(plan, engine.params, opts.initialWeights);
    }

    this.maxNormRows = spec.regularization.maxNorm !== undefined ? maxNormRows(plan) : [];
    this.batches = Math.ceil(data.train.n / t.batchSize);
    this.order = new Int32Array(data.train.n);
    this.totals = new EpochTotals(plan.weightOf.length);
    this.progress = { epoch: 0, epochs: t.epochs, step: 0, batch: 0, batchesPerEpoch: this.batches, samplesPerSecond: 0, etaSeconds: 0 };
    this.lastMetrics = this.history.at(-1)?.metrics ?? {};
    this.runStart = performance.now();
    this.lastYield = this.runStart;
  }

  async run(): Promise<TrainResult> {
    const { epochs } = this.spec.training;
    for (let epoch = this.epochsDone + 1; epoch <= epochs; epoch++) {
      const ended = await this.trainEpoch(epoch);
      if (ended) return ended;
    }
    return this.finish(epochs, 'succeeded', false, null);
  }

  /** Trains one epoch; answers the run's result when the run ends with it (cancel, early stop). */
  private async trainEpoch(epoch: number): Promise<TrainResult | null> {
    const { shuffle, seed } = this.spec.training;
    const n = this.data.train.n, order = this.order, totals = this.totals;
    if (shuffle) permute(order, n, seed, Stream.shuffle, epoch);
    else for (let i = 0; i < n; i++) order[i] = i;
    let epochStart = performance.now();
    let first = 0;
    totals.reset();
    // the schedule's rate depends on the epoch alone: a resumed run picks it up unchanged
    this.optimizer.learningRate = learningRateAt(this.spec.optimizer.schedule, this.spec.optimizer.learningRate, epoch);
    this.engine.deadUnits?.reset();
    if (this.partial) {
      // resuming inside this epoch: same shuffle (keyed by epoch), continue at the next batch
      totals.restore(this.partial);
      first = this.partial.batch;
      epochStart -= this.partial.seconds * 1000;
      this.partial = null;
    }

    for (let b = first; b < this.batches; b++) {
      if (this.opts.signal?.aborted) {
        const inEpoch = totals.save(b, (performance.now() - epochStart) / 1000);
        return this.finish(epoch - 1, 'cancelled', false, this.resumeCheckpoint(epoch - 1, inEpoch));
      }
      this.trainBatch(epoch, b);
      const now = performance.now();
      this.reportProgress(epoch, b, now);
      if (now - this.lastYield > YIELD_EVERY_MS) { await new Promise<void>((r) => setImmediate(r)); this.lastYield = performance.now(); }
    }

    const metrics = this.epochMetrics(epoch, (performance.now() - epochStart) / 1000);
    return this.endEpoch(epoch, metrics);
  }

  /** One optimizer step on batch b, added to the epoch's totals. */
  private trainBatch(epoch: number, b: number): void {
    const { batchSize, batchLossEvery, seed } = this.spec.training;
    const train = this.data.train, stats = this.stepStats, totals = this.totals;
    const start = b * batchSize, rows = Math.min(batchSize, train.n - start);
    const step = ++this.step;
    stats.fill(0);
    // update_ratio ‖Δw‖/‖w‖ is sampled every batchLossEvery steps: it needs a copy of the weights
    const sampleRatio = step % batchLossEvery === 0 || b === this.batches - 1;
    this.engine.step(train, this.order, start, rows, seed, step, sampleRatio, stats);
    // after the whole step (every thread's slice): each row rescaled once, by this thread
    if (this.maxNormRows.length) applyMaxNorm(this.engine.params, this.maxNormRows, this.spec.regularization.maxNorm!);
    const batchLoss = stats[LOSS_STATS.sum] / rows;
    if (!Number.isFinite(batchLoss)) throw this.divergence(epoch, b + 1, batchLoss);
    // the untrained network's loss, which the diagnosis compares epoch 1 with (a blow-up); not kept across a resume
    if (step === 1) this.diagnosisContext.initialLoss = batchLoss;
    totals.lossSum += stats[LOSS_STATS.sum]; totals.correct += stats[LOSS_STATS.correct]; totals.seen += rows;
    const layerStats = this.engine.layerStats, trainable = this.trainable;
    for (let l = 0; l < trainable.length; l++) {
      const i = trainable[l];
      totals.gradNormSum[i] += gradNorm(layerStats, l);
      if (sampleRatio) totals.updRatioSum[i] += updateRatio(layerStats, l);
    }
    if (sampleRatio) totals.ratioSteps++;
    if (step % batchLossEvery === 0) totals.points.push({ name: 'batch_loss', step, epoch, value: batchLoss });
    this.samplesThisRun += rows;
  }

  private reportProgress(epoch: number, b: number, now: number): void {
    const onProgress = this.opts.hooks?.onProgress;
    if (!onProgress && !(now - this.lastYield > YIELD_EVERY_MS)) return;
    const n = this.data.train.n, p = this.progress;
    const samplesPerSecond = this.samplesThisRun / Math.max((now - this.runStart) / 1000, 1e-9);
    const remaining = (this.spec.training.epochs - epoch) * n + (n - this.totals.seen);
    p.epoch = epoch; p.step = this.step; p.batch = b + 1;
    p.samplesPerSecond = samplesPerSecond;
    p.etaSeconds = remaining / Math.max(samplesPerSecond, 1e-9);
    onProgress?.(p);
  }

  /** The epoch's metrics by DESIGN.md's names, added to its points; refuses NaN/Inf weights or validation loss. */
  private epochMetrics(epoch: number, epochSeconds: number): Metrics {
    const { data, totals, plan, batches } = this;
    const params = this.engine.params;
    const metrics: Metrics = {};
    metrics.train_loss = totals.lossSum / totals.seen;
    if (data.task === 'classification') metrics.train_accuracy = totals.correct / totals.seen;
    if (data.validation && data.validation.n > 0) {
      const v = this.engine.evaluate('validation');
      metrics.val_loss = v.loss;
      if (v.accuracy !== null) metrics.val_accuracy = v.accuracy;
    }
    metrics.learning_rate = this.optimizer.learningRate;
    metrics.samples_per_second = totals.seen / epochSeconds;
    metrics.epoch_seconds = epochSeconds;
    for (const i of this.trainable) {
      const e = plan.weightOf[i]!;
      metrics[`grad_norm/${i}`] = totals.gradNormSum[i] / batches;
      metrics[`weight_norm/${i}`] = norm(params, e.offset, e.length);
      metrics[`update_ratio/${i}`] = totals.updRatioSum[i] / Math.max(totals.ratioSteps, 1);
      if (!Number.isFinite(metrics[`weight_norm/${i}`])) throw this.divergence(epoch, batches, NaN, `the weights of layer ${i}`);
    }
    const dead = this.engine.deadUnits;
    if (dead) for (const i of dead.layers) metrics[`dead_units/${i}`] = dead.fraction(i);
    if (metrics.val_loss !== undefined && !Number.isFinite(metrics.val_loss)) throw this.divergence(epoch, batches, metrics.val_loss, 'the validation loss');
    for (const [name, value] of Object.entries(metrics)) totals.points.push({ name, step: this.step, epoch, value });
    return metrics;
  }

  /** Early stopping, the best epoch, history, diagnosis and onEpochEnd; answers the result when early stopping ends the run. */
  private async endEpoch(epoch: number, metrics: Metrics): Promise<TrainResult | null> {
    const decision = this.earlyStopping ? this.earlyStopping.update(epoch, metrics) : null;
    this.lastDecision = decision;
    const { monitor, mode } = this.bestBy;
    const monitored = metrics[monitor];
    const isBest = this.best === null || (Number.isFinite(monitored) &&
      (mode === 'min' ? monitored < this.best.metrics[monitor] : monitored > this.best.metrics[monitor]));
    if (decision ? decision.decision === 'improved' : isBest) {
      this.best = { epoch, metrics: { ...metrics } };
      if (this.restoreBest) { this.bestParams.set(this.engine.params.subarray(0, this.plan.size)); this.hasBestParams = true; }
    }
    this.history.push({ epoch, metrics });
    this.lastMetrics = metrics;
    this.epochsDone = epoch;
    const stop = decision?.decision === 'stop';
    const last = epoch === this.spec.training.epochs || stop;
    const end: EpochEnd = {
      epoch, step: this.step, points: this.totals.points, metrics, decision,
      isBest: this.best?.epoch === epoch,
      checkpointDue: last || epoch % this.spec.checkpoints.everyEpochs === 0,
      checkpoint: () => this.resumeCheckpoint(epoch),
      diagnosis: diagnose(this.history, this.diagnosisContext),
    };
    await this.opts.hooks?.onEpochEnd?.(end);
    return stop ? this.finish(epoch, 'succeeded', true, null) : null;
  }

  /** A resume checkpoint after `epoch` full epochs (and `inEpoch` of the next one). */
  private resumeCheckpoint(epoch: number, inEpoch: PartialEpoch | null = null): Uint8Array {
    return encodeResume(this.plan, this.engine.params, this.optimizer.state, this.hasBestParams ? this.bestParams : null, {
      specHash: this.opts.specHash ?? '', epoch, step: this.step, earlyStopping: this.earlyStopping?.toJSON() ?? null,
      history: this.history, best: this.best, hasBestWeights: this.hasBestParams, partial: inEpoch,
    });
  }

  /** Restores the best weights (restoreBest), evaluates the test split and encodes the final weights. */
  private finish(epochsDone: number, status: TrainResult['status'], stoppedEarly: boolean, checkpoint: Uint8Array | null): TrainResult {
    const { plan, best, data } = this;
    const params = this.engine.params;
    // the resume checkpoint holds where training stopped, before restoreBest rewinds the weights
    const ck = checkpoint ?? this.resumeCheckpoint(epochsDone);
    const cancelled = status === 'cancelled';
    // A cancelled run keeps the weights it stopped with (they resume); the metadata and
    // finalMetrics must then name that epoch, not the best one.
    const restored = this.restoreBest && this.hasBestParams && !cancelled ? best : null;
    if (restored) params.set(this.bestParams.subarray(0, plan.size));
    let testMetrics: Metrics | null = null;
    const testPoints: MetricPoint[] = [];
    if (data.test && data.test.n > 0 && !cancelled) {
      const r = this.engine.evaluate('test');
      testMetrics = { test_loss: r.loss };
      if (r.accuracy !== null) testMetrics.test_accuracy = r.accuracy;
      for (const [name, value] of Object.entries(testMetrics)) testPoints.push({ name, step: this.step, epoch: epochsDone, value });
    }
    const finalMetrics = restored ? restored.metrics : this.lastMetrics;
    return {
      status, epochs: epochsDone, step: this.step,
      stoppedEarly,
      stopDecision: stoppedEarly ? this.lastDecision : null,
      finalMetrics, best, testMetrics, testPoints,
      diagnosis: diagnose(this.history, this.diagnosisContext),
      weights: encodeWeights(plan, params, {
        specHash: this.opts.specHash, epoch: restored ? restored.epoch : epochsDone, step: this.step, metrics: finalMetrics,
      }),
      checkpoint: ck,
    };
  }

  private divergence(epoch: number, batch: number, value: number, what = 'the training loss'): DivergenceError {
    const { optimizer, loss } = this.spec;
    const lr = optimizer.learningRate, prev = this.lastMetrics;
    const causes: string[] = [];
    if (lr >= 0.1 && optimizer.type !== 'sgd') causes.push(`a learning rate of ${lr} is very high for ${optimizer.type}`);
    else if (lr >= 1) causes.push(`a learning rate of ${lr} is very high`);
    if (loss === 'mse') causes.push('unnormalised regression targets can blow up an MSE loss');
    const hint = causes.length ? causes.join('; ') : `the learning rate (${lr}) is the usual cause`;
    const prevLoss = prev.train_loss !== undefined ? ` (train_loss was ${prev.train_loss.toPrecision(4)} after the previous epoch)` : '';
    return new DivergenceError(
      `${what} became ${value} at epoch ${epoch}, step ${this.step} (batch ${batch})${prevLoss}: training diverged. Likely cause: ${hint}; try a learning rate 10× lower, gradient-friendly activations (relu) or adam.`,
      epoch, this.step, { batch, learningRate: lr });
  }
}

function norm(a: Float32Array, off: number, n: number): number {
  let s = 0;
  for (let i = off; i < off + n; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}
