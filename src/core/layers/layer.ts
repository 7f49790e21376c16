import type { Kernels } from '../kernels/types.js';

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
  /** consumes dOut (may overwrite it), writes this layer's parameter gradients and dX (if not null) */
  backward(k: Kernels, rows: number, X: Float32Array, dX: Float32Array | null, ctx: ForwardContext): void;
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
