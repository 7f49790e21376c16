// The optimizer contract. All model parameters (weights, biases, PReLU slopes) live in
// ONE flat Float32Array `params` with a matching flat `grads`; an optimizer keeps its
// state in flat Float32Arrays of the same length. Worker threads may each call step()
// on a disjoint range [from, to) of the same buffers at the same time, so step() reads
// and writes only that range and keeps no per-step scalar state on the object.
import type { OptimizerKernels } from '../kernels/types.js';
import type { OptimizerSpec } from '../types.js';

export type OptimizerType = OptimizerSpec['type'];

/**
 * Hands out an optimizer state buffer of n floats. It must be zero-filled (a fresh
 * Heap.alloc or `new Float32Array(n)` is): PyTorch starts every state tensor at zero,
 * and the optimizer does not clear it itself, so a thread can attach to state that
 * another thread (or a checkpoint load) already filled.
 */
export type StateAlloc = (n: number) => Float32Array;

export interface Optimizer {
  readonly type: OptimizerType;
  /** learning rate in use (a scheduler may change it between steps) */
  learningRate: number;
  /** named state buffers (checkpointed), e.g. { exp_avg, exp_avg_sq } — PyTorch's state names */
  readonly state: Record<string, Float32Array>;
  /**
   * SIMD update passes of this rule for the calling thread (set by the engine; each thread has
   * its own Optimizer object over the shared state). Null: the JS loop below runs.
   */
  kernels: OptimizerKernels | null;
  /** one update of params[from,to) from grads[from,to); t = 1-based global step count (Adam bias correction) */
  step(params: Float32Array, grads: Float32Array, t: number, from: number, to: number): void;
  /**
   * step() answering Σgrads² over [from, to) (for grad_norm), measured in the same pass.
   * Present where a rule has such a pass (update.ts uses it when it can).
   */
  stepMeasured?(params: Float32Array, grads: Float32Array, t: number, from: number, to: number): number;
}
