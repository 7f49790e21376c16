// Adam (= RMSProp + momentum), torch.optim.Adam(betas=(0.9, 0.999), eps=1e-8, amsgrad=False):
//   m  ← β1·m + (1 − β1)·g           first moment (momentum)
//   v  ← β2·v + (1 − β2)·g²          second moment (RMSProp's running average)
//   m̂  = m / (1 − β1^t),  v̂ = v / (1 − β2^t)   bias correction for the zero start
//   p  ← p − lr·m̂ / (√v̂ + ε)
// Written the way PyTorch evaluates it, so ε lands in the same place:
//   step_size = lr / (1 − β1^t);  denom = √v / √(1 − β2^t) + ε;  p ← p − step_size·m / denom
import type { OptimizerSpec } from '../types.js';
import type { OptimizerKernels } from '../kernels/types.js';
import type { Optimizer, StateAlloc } from './types.js';

export type AdamOptions = Omit<Extract<OptimizerSpec, { type: 'adam' }>, 'type'>;

export class Adam implements Optimizer {
  readonly type = 'adam' as const;
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly state: { exp_avg: Float32Array; exp_avg_sq: Float32Array };
  kernels: OptimizerKernels | null = null;

  constructor(opts: AdamOptions, size: number, alloc: StateAlloc) {
    this.learningRate = opts.learningRate;
    this.beta1 = opts.beta1;
    this.beta2 = opts.beta2;
    this.epsilon = opts.epsilon;
    this.state = { exp_avg: alloc(size), exp_avg_sq: alloc(size) };
  }

  // params, grads, exp_avg (m), exp_avg_sq (v) (size); updates [from, to)
  step(params: Float32Array, grads: Float32Array, t: number, from: number, to: number): void {
    this.stepMeasured(params, grads, t, from, to);
  }

  stepMeasured(params: Float32Array, grads: Float32Array, t: number, from: number, to: number): number {
    const b1 = this.beta1, b2 = this.beta2;
    const biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
    const stepSize = this.learningRate / (1 - Math.pow(b1, t));
    if (this.kernels) {
      const { exp_avg: m, exp_avg_sq: v } = this.state;
      return this.kernels.adam(params, grads, m, v, from, to, b1, b2, stepSize, 1 / biasCorrection2Sqrt, this.epsilon);
    }
    let sq = 0;
    for (let i = from; i < to; i++) sq += grads[i] * grads[i];
    this.loop(params, grads, from, to, stepSize, biasCorrection2Sqrt);
    return sq;
  }

  private loop(params: Float32Array, grads: Float32Array, from: number, to: number, stepSize: number, biasCorrection2Sqrt: number): void {
    const b1 = this.beta1, b2 = this.beta2, eps = this.epsilon;
    const m = this.state.exp_avg, v = this.state.exp_avg_sq;
    for (let i = from; i < to; i++) {
      const g = grads[i];
      const mi = (m[i] = b1 * m[i] + (1 - b1) * g);
      const vi = (v[i] = b2 * v[i] + (1 - b2) * g * g);
      const denom = Math.sqrt(vi) / biasCorrection2Sqrt + eps;
      params[i] -= (stepSize * mi) / denom;
    }
  }
}
