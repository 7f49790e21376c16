// Adagrad, torch.optim.Adagrad(lr_decay=0, initial_accumulator_value=0, eps=1e-10):
//   sum ← sum + g²
//   p   ← p − lr·g / (√sum + ε)
// Every parameter's step shrinks with the whole history of its squared gradients.
import type { OptimizerSpec } from '../types.js';
import type { OptimizerKernels } from '../kernels/types.js';
import type { Optimizer, StateAlloc } from './types.js';

export type AdagradOptions = Omit<Extract<OptimizerSpec, { type: 'adagrad' }>, 'type'>;

export class Adagrad implements Optimizer {
  readonly type = 'adagrad' as const;
  learningRate: number;
  readonly epsilon: number;
  readonly state: { sum: Float32Array };
  kernels: OptimizerKernels | null = null;

  constructor(opts: AdagradOptions, size: number, alloc: StateAlloc) {
    this.learningRate = opts.learningRate;
    this.epsilon = opts.epsilon;
    this.state = { sum: alloc(size) };
  }

  // params, grads, sum (size); updates [from, to)
  step(params: Float32Array, grads: Float32Array, _t: number, from: number, to: number): void {
    const lr = this.learningRate, eps = this.epsilon;
    const sum = this.state.sum;
    if (this.kernels) { this.kernels.adagrad(params, grads, sum, from, to, lr, eps); return; }
    for (let i = from; i < to; i++) {
      const g = grads[i];
      const s = (sum[i] = sum[i] + g * g);
      params[i] -= (lr * g) / (Math.sqrt(s) + eps);
    }
  }
}
