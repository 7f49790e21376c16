// RMSProp, torch.optim.RMSprop(alpha=0.99, eps=1e-8, centered=False, momentum=0):
//   σ² ← α·σ² + (1 − α)·g²          running average of squared gradients
//   p  ← p − lr·g / (√σ² + ε)
// Unlike Adagrad, old gradients fade out, so the step size can grow again.
import type { OptimizerSpec } from '../types.js';
import type { OptimizerKernels } from '../kernels/types.js';
import type { Optimizer, StateAlloc } from './types.js';

export type RMSpropOptions = Omit<Extract<OptimizerSpec, { type: 'rmsprop' }>, 'type'>;

export class RMSprop implements Optimizer {
  readonly type = 'rmsprop' as const;
  learningRate: number;
  readonly alpha: number;
  readonly epsilon: number;
  readonly state: { square_avg: Float32Array };
  kernels: OptimizerKernels | null = null;

  constructor(opts: RMSpropOptions, size: number, alloc: StateAlloc) {
    this.learningRate = opts.learningRate;
    this.alpha = opts.alpha;
    this.epsilon = opts.epsilon;
    this.state = { square_avg: alloc(size) };
  }

  // params, grads, square_avg (size); updates [from, to)
  step(params: Float32Array, grads: Float32Array, _t: number, from: number, to: number): void {
    const lr = this.learningRate, alpha = this.alpha, eps = this.epsilon;
    const sq = this.state.square_avg;
    if (this.kernels) { this.kernels.rmsprop(params, grads, sq, from, to, alpha, lr, eps); return; }
    for (let i = from; i < to; i++) {
      const g = grads[i];
      const s = (sq[i] = alpha * sq[i] + (1 - alpha) * g * g);
      params[i] -= (lr * g) / (Math.sqrt(s) + eps);
    }
  }
}
