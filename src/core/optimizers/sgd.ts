// Vanilla gradient descent, torch.optim.SGD(momentum=0, dampening=0):
//   p ← p − lr·g
import type { OptimizerSpec } from '../types.js';
import type { OptimizerKernels } from '../kernels/types.js';
import type { Optimizer } from './types.js';

export type SGDOptions = Omit<Extract<OptimizerSpec, { type: 'sgd' }>, 'type'>;

export class SGD implements Optimizer {
  readonly type = 'sgd' as const;
  learningRate: number;
  readonly state: Record<string, Float32Array> = {};
  kernels: OptimizerKernels | null = null;

  constructor(opts: SGDOptions) {
    this.learningRate = opts.learningRate;
  }

  // params, grads (size); updates [from, to)
  step(params: Float32Array, grads: Float32Array, _t: number, from: number, to: number): void {
    const lr = this.learningRate;
    for (let i = from; i < to; i++) params[i] -= lr * grads[i];
  }
}
