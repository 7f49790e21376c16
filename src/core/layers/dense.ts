// Dense (nn.Linear + activation):
//   forward   Z = X·Wᵀ + b,  A = act(Z)       X (B,in), W (out,in), b (out), Z/A (B,out)
//   backward  dZ = dA ⊙ act'(Z)               (in place in dOut)
//             dW = dZᵀ·X,  db = Σ_rows dZ,  dX = dZ·W
import { activationBackward, activationForward } from '../activations.js';
import type { Heap } from '../memory.js';
import type { Kernels } from '../kernels/types.js';
import type { Activation } from '../types.js';
import { markAlive } from '../dead-units.js';
import type { ForwardContext, Layer } from './layer.js';

export interface DenseParams { W: Float32Array; b: Float32Array; alpha: Float32Array | null }

export class Dense implements Layer {
  readonly Z: Float32Array;
  readonly out: Float32Array;
  readonly dOut: Float32Array;
  /** when the loss already wrote ∂loss/∂Z into dOut (softmax + cross-entropy) */
  lossGivesDZ = false;
  /** ReLU only: this layer's dead_units flags, set for units positive in a training forward pass */
  alive: Uint8Array | null = null;

  constructor(readonly index: number, readonly inSize: number, readonly outSize: number,
    readonly activation: Activation, readonly alpha: number,
    readonly p: DenseParams, readonly g: DenseParams, heap: Heap, maxRows: number) {
    this.Z = heap.alloc(maxRows * outSize);
    this.out = activation === 'linear' ? this.Z : heap.alloc(maxRows * outSize);
    this.dOut = heap.alloc(maxRows * outSize);
  }

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

  backward(k: Kernels, rows: number, X: Float32Array, dX: Float32Array | null): void {
    const n = rows * this.outSize, units = this.outSize;
    const dZ = this.dOut;
    if (this.g.alpha) this.g.alpha.fill(0);
    if (this.lossGivesDZ) { /* dOut already holds dZ */ }
    else if (this.activation === 'relu') k.vector.reluBackward(this.Z, dZ, n);
    else activationBackward(this.activation, this.Z, this.out, dZ, n, units, this.alpha, this.p.alpha, this.g.alpha);
    k.gemmTN(units, this.inSize, rows, dZ, X, this.g.W, false);
    k.vector.columnSums(dZ, rows, units, this.g.b); // db = Σ_rows dZ
    if (dX) k.gemmNN(rows, this.inSize, units, dZ, this.p.W, dX, false);
  }
}
