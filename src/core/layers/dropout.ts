// Inverted dropout (Srivastava et al. 2014):
//   train  m_j ~ Bernoulli(1 − p) drawn fresh at every update, A = X ⊙ m / (1 − p)
//   test   A = X (nothing dropped)
// Scaling kept units by 1/(1 − p) during training makes the expected activation equal
// its test-time value, so the stored weights already are the weight-scaling rule's
// "multiply by (1 − p)" weights and behave identically in PyTorch's eval mode.
//
// Why weight scaling is exact only for linear networks: a dropout net averages over
// 2^M thinned sub-networks. The test-time network computes f(E[mask ⊙ x]); the true
// ensemble mean is E[f(mask ⊙ x)]. These agree when f is linear (expectation commutes
// with linear maps) and differ for nonlinear f (Jensen's inequality): for sigmoid
// layers the weight-scaled output is only an approximation of the geometric-mean
// ensemble. `mc` mode estimates E[f(mask ⊙ x)] by sampling masks (Monte-Carlo dropout).
import { Stream, hash32 } from '../rng.js';
import type { Kernels } from '../kernels/types.js';
import type { ForwardContext, Layer, LayerBuffers, UnitBlock } from './layer.js';

export class Dropout implements Layer {
  readonly mask: Float32Array; // (B, width): 0 or 1/(1 − p)
  readonly out: Float32Array;
  readonly dOut: Float32Array;
  private readonly threshold: number; // drop when 32-bit hash < p·2^32
  private active = false;

  readonly paramRows = 0;

  constructor(readonly index: number, readonly inSize: number, readonly rate: number, buffers: LayerBuffers, maxRows: number) {
    this.mask = buffers.alloc(maxRows * inSize);
    this.out = buffers.alloc(maxRows * inSize);
    this.dOut = buffers.alloc(maxRows * inSize);
    this.threshold = Math.floor(rate * 4294967296);
  }

  get outSize(): number { return this.inSize; }

  forward(_k: Kernels, rows: number, X: Float32Array, ctx: ForwardContext): void {
    const n = rows * this.inSize, w = this.inSize;
    this.active = ctx.dropout !== 'infer' && this.rate > 0;
    if (!this.active) { this.out.set(X.subarray(0, n)); return; }
    const keep = 1 / (1 - this.rate), t = this.threshold;
    const stream = ctx.dropout === 'train' ? Stream.dropout : Stream.mc;
    const base = ctx.rowOffset * w;
    for (let i = 0; i < n; i++) {
      const m = keep * +(hash32(ctx.seed, stream, ctx.key, this.index, base + i) >= t);
      this.mask[i] = m;
      this.out[i] = X[i] * m;
    }
  }

  block(from: number, to: number): UnitBlock { return { from, to }; }

  paramGrads(): void { /* no parameters */ }

  backwardData(_k: Kernels, rows: number, dX: Float32Array | null): void {
    if (!dX) return;
    const n = rows * this.inSize;
    if (!this.active) { dX.set(this.dOut.subarray(0, n)); return; }
    for (let i = 0; i < n; i++) dX[i] = this.dOut[i] * this.mask[i];
  }
}
