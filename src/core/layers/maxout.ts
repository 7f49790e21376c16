// Maxout (Goodfellow et al. 2013): a learned piecewise-linear convex activation.
//   forward   Z = X·Wᵀ + b  with units·pieces rows, piece k of unit u at row u·pieces + k
//             A[u] = max_k Z[u·pieces + k]   (first maximum on ties)
//   backward  only the selected piece receives the gradient: dZ[u·pieces + k*] = dA[u]
//   X (B,in), W (units·pieces, in), b (units·pieces), Z (B, units·pieces), A (B, units)
import type { Heap } from '../memory.js';
import type { Kernels } from '../kernels/types.js';
import type { Layer } from './layer.js';

export interface MaxoutParams { W: Float32Array; b: Float32Array }

export class Maxout implements Layer {
  readonly Z: Float32Array;
  readonly dZ: Float32Array;
  readonly argmax: Int32Array; // (B, units): chosen piece per unit
  readonly out: Float32Array;
  readonly dOut: Float32Array;
  private readonly zWidth: number;

  constructor(readonly index: number, readonly inSize: number, readonly outSize: number, readonly pieces: number,
    readonly p: MaxoutParams, readonly g: MaxoutParams, heap: Heap, maxRows: number) {
    this.zWidth = outSize * pieces;
    this.Z = heap.alloc(maxRows * this.zWidth);
    this.dZ = heap.alloc(maxRows * this.zWidth);
    const idx = heap.alloc(maxRows * outSize);
    this.argmax = new Int32Array(idx.buffer, idx.byteOffset, idx.length);
    this.out = heap.alloc(maxRows * outSize);
    this.dOut = heap.alloc(maxRows * outSize);
  }

  forward(k: Kernels, rows: number, X: Float32Array): void {
    const P = this.pieces, U = this.outSize, zw = this.zWidth;
    k.gemmNT(rows, zw, this.inSize, X, this.p.W, this.Z, this.p.b, false);
    for (let r = 0; r < rows; r++) {
      for (let u = 0; u < U; u++) {
        const z0 = r * zw + u * P;
        let best = 0, m = this.Z[z0];
        for (let q = 1; q < P; q++) if (this.Z[z0 + q] > m) { m = this.Z[z0 + q]; best = q; }
        this.out[r * U + u] = m;
        this.argmax[r * U + u] = best;
      }
    }
  }

  backward(k: Kernels, rows: number, X: Float32Array, dX: Float32Array | null): void {
    const P = this.pieces, U = this.outSize, zw = this.zWidth;
    const dZ = this.dZ;
    dZ.fill(0, 0, rows * zw);
    for (let r = 0; r < rows; r++) for (let u = 0; u < U; u++) dZ[r * zw + u * P + this.argmax[r * U + u]] = this.dOut[r * U + u];
    k.gemmTN(zw, this.inSize, rows, dZ, X, this.g.W, false);
    const db = this.g.b;
    db.fill(0);
    for (let r = 0; r < rows; r++) for (let j = 0; j < zw; j++) db[j] += dZ[r * zw + j];
    if (dX) k.gemmNN(rows, this.inSize, zw, dZ, this.p.W, dX, false);
  }
}
