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
    const d = this.plan.inputSize, c = this.plan.outputSize;
    const X = this.X, x = split.x;
    // plain copies (subarray() would allocate a view per row), four floats a turn: on
    // shuffled MNIST rows, 128 of them in a median 235 µs instead of 355 µs one by one
    const d4 = d & ~3;
    for (let r = 0; r < rows; r++) {
      const s = order ? order[start + r] : start + r;
      let a = s * d, b = r * d;
      for (const e = b + d4; b < e; b += 4, a += 4) { X[b] = x[a]; X[b + 1] = x[a + 1]; X[b + 2] = x[a + 2]; X[b + 3] = x[a + 3]; }
      for (const e = r * d + d; b < e; b++, a++) X[b] = x[a];
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
