// Dense (nn.Linear + activation):
//   forward   Z = X·Wᵀ + b,  A = act(Z)       X (B,in), W (out,in), b (out), Z/A (B,out)
//   backward  dZ = dA ⊙ act'(Z)               (in place in dOut)   backwardData, per thread
//             dX = dZ·W
//             dW = dZᵀ·X,  db = Σ_rows dZ                        paramGrads, per block of units
// PReLU's dα is a sum over rows taken while dA is at hand: each thread sums its rows
// into its own alphaGrad, and paramGrads adds the threads' sums in thread order.
import { activationBackward, activationForward } from '../activations.js';
import type { Kernels } from '../kernels/types.js';
import type { Activation } from '../types.js';
import { markAlive } from '../dead-units.js';
import { linearBlock, linearGrads, type ForwardContext, type Layer, type LayerBuffers, type LinearBlock, type UnitBlock } from './layer.js';

interface DenseBlock extends LinearBlock { dAlpha: Float32Array | null }

export interface DenseParams { W: Float32Array; b: Float32Array; alpha: Float32Array | null }

export class Dense implements Layer {
  readonly Z: Float32Array;
  readonly out: Float32Array;
  readonly dOut: Float32Array;
  /** PReLU: this thread's Σ over its rows of ∂loss/∂α (units) */
  private readonly alphaGrad: Float32Array | null;
  private readonly wholeDZ: Float32Array;
  private readonly wholeAlphaGrad: Float32Array | null;
  /** when the loss already wrote ∂loss/∂Z into dOut (softmax + cross-entropy) */
  lossGivesDZ = false;
  /** ReLU only: this layer's dead_units flags, set for units positive in a training forward pass */
  alive: Uint8Array | null = null;

  constructor(readonly index: number, readonly inSize: number, readonly outSize: number,
    readonly activation: Activation, readonly alpha: number,
    readonly p: DenseParams, readonly g: DenseParams, buffers: LayerBuffers, maxRows: number) {
    this.Z = buffers.alloc(maxRows * outSize);
    this.out = activation === 'linear' ? this.Z : buffers.alloc(maxRows * outSize);
    this.dOut = buffers.alloc(maxRows * outSize);
    this.wholeDZ = buffers.whole(this.dOut);
    this.alphaGrad = g.alpha ? buffers.alloc(outSize) : null;
    this.wholeAlphaGrad = this.alphaGrad ? buffers.whole(this.alphaGrad) : null;
  }

  get paramRows(): number { return this.outSize; }

  forward(k: Kernels, rows: number, X: Float32Array, ctx: ForwardContext): void {
    if (this.activation === 'relu') {
      // ReLU rides in the product's epilogue (A = max(Z, 0) while the tile is in registers)
      k.gemmNT(rows, this.outSize, this.inSize, X, this.p.W, this.Z, this.p.b, false, this.out);
    } else {
      k.gemmNT(rows, this.outSize, this.inSize, X, this.p.W, this.Z, this.p.b, false);
      activationForward(this.activation, this.Z, this.out, rows * this.outSize, this.outSize, this.alpha, this.p.alpha);
    }
    if (this.alive && ctx.dropout === 'train') markAlive(this.out, rows, this.outSize, this.alive);
  }

  backwardData(k: Kernels, rows: number, dX: Float32Array | null): void {
    const n = rows * this.outSize, units = this.outSize;
    const dZ = this.dOut;
    if (this.alphaGrad) this.alphaGrad.fill(0);
    if (this.lossGivesDZ) { /* dOut already holds dZ */ }
    else if (this.activation === 'relu') k.vector.reluBackward(this.Z, dZ, n);
    else activationBackward(this.activation, this.Z, this.out, dZ, n, units, this.alpha, this.p.alpha, this.alphaGrad);
    if (dX) k.gemmNN(rows, this.inSize, units, dZ, this.p.W, dX, false);
  }

  block(from: number, to: number): DenseBlock {
    return { ...linearBlock(this.wholeDZ, this.g, this.inSize, from, to), dAlpha: this.g.alpha ? this.g.alpha.subarray(from, to) : null };
  }

  paramGrads(k: Kernels, rows: number, maxRows: number, X: Float32Array, b: UnitBlock): void {
    const { from, to, dAlpha } = b as DenseBlock, units = this.outSize;
    if (to <= from) return;
    linearGrads(k, rows, X, b as DenseBlock, this.inSize, units);
    if (dAlpha) {
      const parts = this.wholeAlphaGrad!, threads = Math.ceil(rows / maxRows);
      for (let j = from; j < to; j++) {
        let s = 0;
        for (let t = 0; t < threads; t++) s += parts[t * units + j];
        dAlpha[j - from] = s;
      }
    }
  }
}
