// A dense network laid out for speed and for threads: every parameter lives in one
// flat Float32Array (weights, biases and PReLU slopes of all layers, in spec order),
// gradients in another of the same length, so the optimizer steps a range of it in one
// pass. A Replica owns the activations of one shard of a minibatch (its rows of
// buffers laid out for the whole batch, RowBlocks); each worker thread has its own
// Replica over the shared parameters and gradient.
import { alphaOf } from './activations.js';
import type { DeadUnits } from './dead-units.js';
import { initWeights, resolveInit } from './init.js';
import { Dense } from './layers/dense.js';
import { Dropout } from './layers/dropout.js';
import type { ForwardContext, Layer, ParamEntry, UnitBlock } from './layers/layer.js';
import { Maxout } from './layers/maxout.js';
import { crossEntropyBackward, crossEntropyForward } from './losses/cross-entropy.js';
import { mseBackward, mseForward } from './losses/mse.js';
import { Heap, RowBlocks } from './memory.js';
import type { Kernels } from './kernels/types.js';
import { LOSS_STATS } from './step-stats.js';
import type { Split, Task } from './dataset.js';
import type { LossName, ModelSpec } from './types.js';

export interface ParamPlan {
  entries: ParamEntry[];
  size: number;
  /** per spec layer: its weight entry (undefined for dropout) — the grad_norm/<i> view */
  weightOf: (ParamEntry | undefined)[];
  /** width of each layer's output */
  widths: number[];
  inputSize: number;
  outputSize: number;
}

export function planParams(model: ModelSpec, inputSize: number): ParamPlan {
  const entries: ParamEntry[] = [];
  const weightOf: (ParamEntry | undefined)[] = [];
  const widths: number[] = [];
  let size = 0, inSize = inputSize;
  const add = (layer: number, kind: ParamEntry['kind'], shape: number[]): ParamEntry => {
    const length = shape.reduce((a, b) => a * b, 1);
    const e: ParamEntry = { name: `layers.${layer}.${kind}`, layer, kind, shape, offset: size, length };
    // keep every tensor 16-float aligned (64 bytes) for SIMD kernels
    size += Math.ceil(length / 16) * 16;
    entries.push(e);
    return e;
  };
  model.layers.forEach((l, i) => {
    if (l.type === 'dense') {
      weightOf[i] = add(i, 'weight', [l.units, inSize]);
      add(i, 'bias', [l.units]);
      if (l.activation === 'prelu') add(i, 'alpha', [l.units]);
      inSize = l.units;
    } else if (l.type === 'maxout') {
      weightOf[i] = add(i, 'weight', [l.units * l.pieces, inSize]);
      add(i, 'bias', [l.units * l.pieces]);
      inSize = l.units;
    } else {
      weightOf[i] = undefined;
    }
    widths.push(inSize);
  });
  return { entries, size, weightOf, widths, inputSize, outputSize: inSize };
}

export function initParams(params: Float32Array, plan: ParamPlan, model: ModelSpec, seed: number): void {
  params.fill(0, 0, plan.size);
  for (const e of plan.entries) {
    const l = model.layers[e.layer];
    const v = params.subarray(e.offset, e.offset + e.length);
    if (e.kind === 'weight') {
      const act = l.type === 'dense' ? l.activation : 'maxout';
      initWeights(v, e.shape[0], e.shape[1], resolveInit(model.init, act), seed, e.layer);
    } else if (e.kind === 'alpha') {
      // only prelu layers have an alpha tensor: its initial slope
      v.fill(l.type === 'dense' ? alphaOf(l) : 0);
    }
  }
}

function view(buf: Float32Array, plan: ParamPlan, layer: number, kind: ParamEntry['kind']): Float32Array | null {
  const e = plan.entries.find((x) => x.layer === layer && x.kind === kind);
  return e ? buf.subarray(e.offset, e.offset + e.length) : null;
}

/**
 * Rows [from, to) of a weight matrix with n rows that thread k of T computes gradients
 * for and updates: contiguous, 4-row aligned (the GEMM's register tile), thread order.
 */
export function unitRange(n: number, k: number, T: number): [number, number] {
  const per = Math.ceil(n / T / 4) * 4;
  return [Math.min(n, k * per), Math.min(n, (k + 1) * per)];
}

/** One trainable layer's block of weight rows on one thread, and the flat-buffer ranges of its parameters. */
export interface ParamBlock {
  layer: number;
  block: UnitBlock;
  /** [from, to) of params/grads: the block's weight rows, then its biases (and slopes) */
  ranges: Array<[number, number]>;
}

export class Replica {
  readonly layers: Layer[];
  readonly X: Float32Array; // (maxRows, inputSize)
  readonly labels: Int32Array | null; // (maxRows)
  readonly targets: Float32Array | null; // (maxRows, outputSize)
  /** this shard's loss sum and correct predictions (LOSS_STATS) since the last reset */
  readonly stats = new Float64Array(LOSS_STATS.size);
  private readonly fusedSoftmaxCE: boolean;
  /** each layer's input over the whole batch (RowBlocks.whole) */
  private readonly wholeInputs: Float32Array[];
  /** every layer's weights as one block, for backward() */
  private readonly allBlocks: ParamBlock[];

  /**
   * `buffers`: where the replica's per-row tensors live, a Heap for a replica of its own or
   * this thread's RowBlocks when the batch is split over threads.
   */
  constructor(readonly plan: ParamPlan, readonly model: ModelSpec, readonly loss: LossName, readonly task: Task,
    params: Float32Array, grads: Float32Array, buffers: Heap | RowBlocks, readonly maxRows: number, readonly kernels: Kernels) {
    const rb = buffers instanceof Heap ? new RowBlocks(buffers, 1, 0) : buffers;
    this.X = rb.alloc(maxRows * plan.inputSize);
    if (task === 'classification') {
      const l = rb.alloc(maxRows);
      this.labels = new Int32Array(l.buffer, l.byteOffset, maxRows);
      this.targets = null;
    } else {
      this.labels = null;
      this.targets = rb.alloc(maxRows * plan.outputSize);
    }
    let inSize = plan.inputSize;
    this.layers = model.layers.map((l, i): Layer => {
      let layer: Layer;
      if (l.type === 'dense') {
        layer = new Dense(i, inSize, l.units, l.activation, alphaOf(l),
          { W: view(params, plan, i, 'weight')!, b: view(params, plan, i, 'bias')!, alpha: view(params, plan, i, 'alpha') },
          { W: view(grads, plan, i, 'weight')!, b: view(grads, plan, i, 'bias')!, alpha: view(grads, plan, i, 'alpha') },
          rb, maxRows);
      } else if (l.type === 'maxout') {
        layer = new Maxout(i, inSize, l.units, l.pieces,
          { W: view(params, plan, i, 'weight')!, b: view(params, plan, i, 'bias')! },
          { W: view(grads, plan, i, 'weight')!, b: view(grads, plan, i, 'bias')! }, rb, maxRows);
      } else {
        layer = new Dropout(i, inSize, l.rate, rb, maxRows);
      }
      inSize = layer.outSize;
      return layer;
    });
    const last = this.layers[this.layers.length - 1];
    this.fusedSoftmaxCE = loss === 'cross-entropy' && last instanceof Dense && last.activation === 'softmax';
    if (this.fusedSoftmaxCE) (last as Dense).lossGivesDZ = true;
    this.wholeInputs = this.layers.map((_, i) => rb.whole(i === 0 ? this.X : this.layers[i - 1].out));
    this.allBlocks = this.blocks(0, 1);
  }

  /**
   * Thread k of T's blocks of every trainable layer's weight rows (unitRange), each with
   * the ranges of its weights, biases and slopes in the flat buffers: what paramGrads
   * computes and the update then steps. Made once per run. Even threads take the layers
   * first to last, odd ones last to first, so that two threads' memory-bound optimizer
   * passes (the big layer's above all) mostly do not run at the same time: 784-256-256-10
   * on 2 threads, 7 interleaved pairs of bench/core-scaling.ts runs, 2t/1t median of
   * per-block ratios 1.856 → 1.871, better in every pair.
   */
  blocks(k: number, T: number): ParamBlock[] {
    const out: ParamBlock[] = [];
    this.layers.forEach((l, i) => {
      if (l.paramRows === 0) return;
      const [from, to] = unitRange(l.paramRows, k, T);
      const ranges: Array<[number, number]> = [];
      for (const e of this.plan.entries) {
        if (e.layer !== i) continue;
        const per = e.kind === 'weight' ? l.inSize : 1; // floats per weight row
        if (to > from) ranges.push([e.offset + from * per, e.offset + to * per]);
      }
      out.push({ layer: i, block: l.block(from, to), ranges });
    });
    return k % 2 === 1 ? out.reverse() : out;
  }

  /** The parameter gradients of one block over the batch's first `rows` rows, once every thread's backwardData is done. */
  paramGrads(rows: number, b: ParamBlock): void {
    this.layers[b.layer].paramGrads(this.kernels, rows, this.maxRows, this.wholeInputs[b.layer], b.block);
  }

  get output(): Float32Array { return this.layers[this.layers.length - 1].out; }

  /** Training forward passes of this replica set the run's dead_units flags from now on. */
  trackAlive(dead: DeadUnits | null): void {
    if (!dead) return;
    for (const l of this.layers) if (l instanceof Dense) l.alive = dead.flagsOf(l.index);
  }

  /** Copy rows order[start .. start+rows) of `split` (or start.. when order is null) into X and labels/targets. */
  load(split: Split, order: Int32Array | null, start: number, rows: number): void {
    gatherRows(this.X, split.x, this.plan.inputSize, order, start, rows);
    const c = this.plan.outputSize;
    for (let r = 0; r < rows; r++) {
      const s = order ? order[start + r] : start + r;
      if (this.labels) this.labels[r] = split.labels![s];
      else for (let j = 0, T = split.targets!, a = s * c, b = r * c; j < c; j++) this.targets![b + j] = T[a + j];
    }
  }

  /**
   * The gradient of one shard: the minibatch is samples order[start, start+batch) of
   * split, this shard its rows [first, first+rows) (dropout masks are keyed by that
   * position in the batch), and the loss is the mean over all `batch` rows. Runs the
   * row-wise part of backprop (backwardData); the parameter gradients are paramGrads'
   * once every shard is done. Its loss sum and correct count are left in `stats`.
   */
  trainShard(split: Split, order: Int32Array | null, start: number, first: number, rows: number, batch: number,
    seed: number, step: number, ctx: ForwardContext): void {
    ctx.dropout = 'train'; ctx.seed = seed; ctx.key = step; ctx.rowOffset = first;
    this.load(split, order, start + first, rows);
    this.stats.fill(0);
    this.forward(rows, ctx);
    this.accumulateLoss(rows);
    this.backwardData(rows, batch, ctx);
  }

  forward(rows: number, ctx: ForwardContext): Float32Array {
    let X = this.X;
    for (const l of this.layers) { l.forward(this.kernels, rows, X, ctx); X = l.out; }
    return X;
  }

  /** Adds this shard's loss sum and correct count to stats (forward must have run). */
  accumulateLoss(rows: number): void {
    const last = this.layers[this.layers.length - 1];
    const C = this.plan.outputSize;
    if (this.fusedSoftmaxCE) crossEntropyForward((last as Dense).Z, rows, C, this.labels!, 0, this.stats);
    else mseForward(last.out, rows, C, this.targets, this.labels, 0, this.stats);
  }

  /** Backprop of the batch-mean loss, all of it, for a replica that holds the whole batch; `batch` is its size. */
  backward(rows: number, batch: number, ctx: ForwardContext): void {
    this.backwardData(rows, batch, ctx);
    for (const b of this.allBlocks) this.paramGrads(rows, b);
  }

  /** The row-wise part of backprop on this shard's rows: ∂loss/∂Z of every layer; `batch` is the whole minibatch size (all shards). */
  backwardData(rows: number, batch: number, ctx: ForwardContext): void {
    const last = this.layers[this.layers.length - 1];
    const C = this.plan.outputSize;
    if (this.fusedSoftmaxCE) crossEntropyBackward(last.out, rows, C, this.labels!, 0, 1 / batch, last.dOut);
    else mseBackward(last.out, rows, C, this.targets, this.labels, 0, batch, last.dOut);
    for (let i = this.layers.length - 1; i >= 0; i--) {
      this.layers[i].backwardData(this.kernels, rows, i === 0 ? null : this.layers[i - 1].dOut, ctx);
    }
  }
}

/**
 * Copies rows order[start], order[start + 1], … (start, start + 1, … when order is null)
 * of x, d floats each, into X's first `rows` rows. Eight rows at a time, interleaved: a
 * shuffled batch's rows are scattered over a data set far bigger than the caches, and
 * one row at a time waits for each row's misses in turn, where eight rows have eight in
 * flight. In training steps of 784-256-256-10 (per-phase timers, ~1,450 steps each),
 * loading 128 shuffled MNIST rows took 139 µs against 222 µs one row at a time, 64 rows
 * 71–77 against 117–127; bench/core-scaling.ts, 4 interleaved pairs: 1 thread +2.3%,
 * 2 threads +2.0%. A loop over the eight rows inside the loop over j was several times
 * slower; sixteen rows at a time were no faster than eight. Plain element copies:
 * subarray() would allocate a view per row.
 */
export function gatherRows(X: Float32Array, x: Float32Array, d: number, order: Int32Array | null, start: number, rows: number): void {
  let r = 0;
  for (; r + 8 <= rows; r += 8) {
    const i = start + r;
    const a0 = (order ? order[i] : i) * d, a1 = (order ? order[i + 1] : i + 1) * d;
    const a2 = (order ? order[i + 2] : i + 2) * d, a3 = (order ? order[i + 3] : i + 3) * d;
    const a4 = (order ? order[i + 4] : i + 4) * d, a5 = (order ? order[i + 5] : i + 5) * d;
    const a6 = (order ? order[i + 6] : i + 6) * d, a7 = (order ? order[i + 7] : i + 7) * d;
    const b = r * d;
    for (let j = 0; j < d; j++) {
      X[b + j] = x[a0 + j]; X[b + d + j] = x[a1 + j]; X[b + 2 * d + j] = x[a2 + j]; X[b + 3 * d + j] = x[a3 + j];
      X[b + 4 * d + j] = x[a4 + j]; X[b + 5 * d + j] = x[a5 + j]; X[b + 6 * d + j] = x[a6 + j]; X[b + 7 * d + j] = x[a7 + j];
    }
  }
  for (; r < rows; r++) {
    const a = (order ? order[start + r] : start + r) * d, b = r * d;
    for (let j = 0; j < d; j++) X[b + j] = x[a + j];
  }
}
