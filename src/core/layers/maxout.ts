// Maxout (Goodfellow et al. 2013): a learned piecewise-linear convex activation.
//   forward   Z = X·Wᵀ + b  with units·pieces rows, piece k of unit u at row u·pieces + k
//             A[u] = max_k Z[u·pieces + k]   (first maximum on ties)
//   backward  only the selected piece receives the gradient: dZ[u·pieces + k*] = dA[u]
//             dX = dZ·W (backwardData, per thread); dW = dZᵀ·X, db = Σ_rows dZ
//             (paramGrads, per block of W's units·pieces rows)
//   X (B,in), W (units·pieces, in), b (units·pieces), Z (B, units·pieces), A (B, units)
import type { Kernels } from '../kernels/types.js';
import { linearBlock, linearGrads, type Layer, type LayerBuffers, type LinearBlock, type UnitBlock } from './layer.js';

export interface MaxoutParams { W: Float32Array; b: Float32Array }

export class Maxout implements Layer {
  readonly Z: Float32Array;
  readonly dZ: Float32Array;
  readonly argmax: Int32Array; // (B, units): chosen piece per unit
  readonly out: Float32Array;
  readonly dOut: Float32Array;
  private readonly zWidth: number;
  private readonly wholeDZ: Float32Array;

  constructor(readonly index: number, readonly inSize: number, readonly outSize: number, readonly pieces: number,
    readonly p: MaxoutParams, readonly g: MaxoutParams, buffers: LayerBuffers, maxRows: number) {
    this.zWidth = outSize * pieces;
    this.Z = buffers.alloc(maxRows * this.zWidth);
    this.dZ = buffers.alloc(maxRows * this.zWidth);
    this.wholeDZ = buffers.whole(this.dZ);
    const idx = buffers.alloc(maxRows * outSize);
    this.argmax = new Int32Array(idx.buffer, idx.byteOffset, idx.length);
    this.out = buffers.alloc(maxRows * outSize);
    this.dOut = buffers.alloc(maxRows * outSize);
  }

  get paramRows(): number { return this.zWidth; }

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

  backwardData(k: Kernels, rows: number, dX: Float32Array | null): void {
    const P = this.pieces, U = this.outSize, zw = this.zWidth;
    const dZ = this.dZ;
    dZ.fill(0, 0, rows * zw);
    for (let r = 0; r < rows; r++) for (let u = 0; u < U; u++) dZ[r * zw + u * P + this.argmax[r * U + u]] = this.dOut[r * U + u];
    if (dX) k.gemmNN(rows, this.inSize, zw, dZ, this.p.W, dX, false);
  }

  block(from: number, to: number): LinearBlock {
    return linearBlock(this.wholeDZ, this.g, this.inSize, from, to);
  }

  paramGrads(k: Kernels, rows: number, _maxRows: number, X: Float32Array, b: UnitBlock): void {
    if (b.to > b.from) linearGrads(k, rows, X, b as LinearBlock, this.inSize, this.zWidth);
  }
}
