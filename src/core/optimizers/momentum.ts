// SGD with momentum, torch.optim.SGD(momentum=μ, dampening=0, nesterov):
//   buf ← μ·buf + g                 (PyTorch's first step sets buf = g; with buf
//                                     starting at zero and dampening 0 that is the
//                                     same value, so no first-step flag is needed
//                                     and a resumed run only needs the buffer)
//   d   ← g + μ·buf   if nesterov, else buf
//   p   ← p − lr·d
import type { OptimizerSpec } from '../types.js';
import type { OptimizerKernels } from '../kernels/types.js';
import type { Optimizer, StateAlloc } from './types.js';

export type MomentumOptions = Omit<Extract<OptimizerSpec, { type: 'momentum' }>, 'type'>;

export class Momentum implements Optimizer {
  readonly type = 'momentum' as const;
  learningRate: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly state: { momentum_buffer: Float32Array };
  kernels: OptimizerKernels | null = null;

  constructor(opts: MomentumOptions, size: number, alloc: StateAlloc) {
    this.learningRate = opts.learningRate;
    this.momentum = opts.momentum;
    this.nesterov = opts.nesterov;
    this.state = { momentum_buffer: alloc(size) };
  }

  // params, grads, momentum_buffer (size); updates [from, to)
  step(params: Float32Array, grads: Float32Array, _t: number, from: number, to: number): void {
    const lr = this.learningRate, mu = this.momentum;
    const buf = this.state.momentum_buffer;
    if (this.nesterov) {
      for (let i = from; i < to; i++) {
        const g = grads[i];
        const b = (buf[i] = mu * buf[i] + g);
        params[i] -= lr * (g + mu * b);
      }
    } else {
      for (let i = from; i < to; i++) {
        const b = (buf[i] = mu * buf[i] + grads[i]);
        params[i] -= lr * b;
      }
    }
  }
}
