import type { Kernels } from '../kernels/types.js';
import type { RowBlocks } from '../memory.js';

/** Where a layer's per-row buffers come from: this thread's rows of tensors laid out for the whole batch. */
export type LayerBuffers = Pick<RowBlocks, 'alloc' | 'whole'>;

/**
 * Per-step context, one mutable object per replica (no allocation per step).
 * Dropout keys its mask by (seed, key, layer, batchRow·width + j), where batchRow is
 * the row's position in the whole minibatch (rowOffset + local row), so masks do not
 * depend on how the batch was split across threads.
 */
export interface ForwardContext {
  /** 'train': fresh dropout masks; 'infer': weight-scaling rule (identity for inverted dropout); 'mc': sampled masks */
  dropout: 'train' | 'infer' | 'mc';
  seed: number;
  /** global optimizer step while training; MC sample index while sampling */
  key: number;
  rowOffset: number;
}

/** One layer of spec.model.layers on one replica. Buffers are (maxRows, width) row-major. */
export interface Layer {
  readonly index: number;
  readonly inSize: number;
  readonly outSize: number;
  /** activations A (rows, outSize) */
  readonly out: Float32Array;
  /** ∂loss/∂A (rows, outSize): written by the next layer's backward, or by the loss */
  readonly dOut: Float32Array;
  forward(k: Kernels, rows: number, X: Float32Array, ctx: ForwardContext): void;
  /**
   * The row-wise half of backprop on this thread's rows: consumes dOut (may overwrite
   * it), leaves ∂loss/∂Z for paramGrads and writes dX (if not null).
   */
  backwardData(k: Kernels, rows: number, dX: Float32Array | null, ctx: ForwardContext): void;
  /** rows of the weight matrix (units, or units·pieces); 0 for a layer without parameters */
  readonly paramRows: number;
  /** the views paramGrads needs for rows [from, to) of the weight matrix, made once (a step allocates nothing) */
  block(from: number, to: number): UnitBlock;
  /**
   * The other half, after every thread's backwardData: the gradients of one block of
   * the weight matrix's rows (and of their biases and slopes), summed over the first
   * `rows` rows of the whole batch (LayerBuffers.whole); X is the layer's whole input.
   * `maxRows` is each thread's share of rows (the threads with data are ⌈rows / maxRows⌉).
   */
  paramGrads(k: Kernels, rows: number, maxRows: number, X: Float32Array, b: UnitBlock): void;
}

/** A block [from, to) of a layer's weight-matrix rows (with layer-specific views). */
export interface UnitBlock {
  from: number;
  to: number;
}

/** A block of the rows of a linear map Z = X·Wᵀ + b: dZ's columns from `from` on (whole batch), dW's and db's rows. */
export interface LinearBlock extends UnitBlock { dZ: Float32Array; dW: Float32Array; db: Float32Array }

/** The views of rows [from, to) of W(·, inSize) and b, given dZ over the whole batch and their gradient buffers. */
export function linearBlock(wholeDZ: Float32Array, g: { W: Float32Array; b: Float32Array }, inSize: number,
  from: number, to: number): LinearBlock {
  return { from, to, dZ: wholeDZ.subarray(from), dW: g.W.subarray(from * inSize, to * inSize), db: g.b.subarray(from, to) };
}

/** dW = dZ[:, from:to]ᵀ·X and db = Σ_rows dZ[:, from:to] over the batch's first `rows` rows; dZ's rows are `width` floats. */
export function linearGrads(k: Kernels, rows: number, X: Float32Array, b: LinearBlock, inSize: number, width: number): void {
  k.gemmTN(b.to - b.from, inSize, rows, b.dZ, X, b.dW, false, width);
  k.vector.columnSums(b.dZ, rows, b.to - b.from, b.db, width); // rows summed in order
}

/** A trainable tensor inside the flat parameter buffer, named as in PyTorch's state_dict. */
export interface ParamEntry {
  name: string; // layers.<i>.weight | layers.<i>.bias | layers.<i>.alpha
  layer: number;
  kind: 'weight' | 'bias' | 'alpha';
  shape: number[];
  offset: number; // in floats, into params / grads
  length: number;
}
