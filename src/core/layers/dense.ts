// Dense (nn.Linear + activation):
//   forward   Z = X·Wᵀ + b,  A = act(Z)       X (B,in), W (out,in), b (out), Z/A (B,out)
//   backward  dZ = dA ⊙ act'(Z)               (in place in dOut)
//             dW = dZᵀ·X,  db = Σ_rows dZ,  dX = dZ·W
import { activationBackward, activationForward } from '../activations.js';
import type { Heap } from '../memory.js';
import type { Kernels } from '../kernels/types.js';
import type { Activation } from '../types.js';
import type { Layer } from './layer.js';

export interface DenseParams { W: Float32Array; b: Float32Array; alpha: Float32Array | null }

export class Dense implements Layer {
  readonly Z: Float32Array;
  readonly out: Float32Array;
  readonly dOut: Float32Array;
  /** when the loss already wrote ∂loss/∂Z into dOut (softmax + cross-entropy) */
  lossGivesDZ = false;

  constructor(readonly index: number, readonly inSize: number, readonly outSize: number,
    readonly activation: Activation, readonly alpha: number,
    readonly p: DenseParams, readonly g: DenseParams, heap: Heap, maxRows: number) {
    this.Z = heap.alloc(maxRows * outSize);
    this.out = activation === 'linear' ? this.Z : heap.alloc(maxRows * outSize);
    this.dOut = heap.alloc(maxRows * outSize);
  }

  forward(k: Kernels, rows: number, X: Float32Array): void {
    // ReLU rides in the product's epilogue (A = max(Z, 0) while the tile is in registers)
    if (this.activation === 'relu') { k.gemmNT(rows, this.outSize, this.inSize, X, this.p.W, this.Z, this.p.b, false, this.out); return; }
    k.gemmNT(rows, this.outSize, this.inSize, X, this.p.W, this.Z, this.p.b, false);
    activationForward(this.activation, this.Z, this.out, rows * this.outSize, this.outSize, this.alpha, this.p.alpha);
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
