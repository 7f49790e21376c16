// dead_units/<i>: the fraction of a ReLU layer's units that were zero for every
// training sample of the epoch. One flag per unit ("was positive at least once this
// epoch") in the run's shared memory; every thread's replica sets the flags of the rows
// it trains (all writers only ever store 1, so concurrent stores cannot lose a 1), and
// the trainer counts and clears them at epoch boundaries, while no step runs.
// Cost: one load per unit and step once a unit has been alive this epoch (markAlive),
// at most one compare per activation of a ReLU layer before; no allocation; nothing in
// evaluation or prediction. (Comparing every activation, as this did before, was 7% of
// a 784-256-256-10 step on the WASM kernels: CPU profile of bench/core-ours.ts.)
// A run resumed inside an epoch counts that epoch's flags from the resume point on
// (the flags are not in the checkpoint); epoch-boundary resumes are exact.
import type { Heap } from './memory.js';
import type { ModelSpec } from './types.js';

export class DeadUnits {
  /** spec indices of the ReLU dense layers */
  readonly layers: number[] = [];
  private readonly at = new Map<number, [from: number, units: number]>();

  /** flags: one byte per ReLU unit, layers in spec order (see size()) */
  constructor(model: ModelSpec, readonly flags: Uint8Array) {
    let n = 0;
    model.layers.forEach((l, i) => {
      if (l.type !== 'dense' || l.activation !== 'relu') return;
      this.layers.push(i);
      this.at.set(i, [n, l.units]);
      n += l.units;
    });
  }

  /** ReLU units in the model (bytes of flags) */
  static size(model: ModelSpec): number {
    return model.layers.reduce((n, l) => n + (l.type === 'dense' && l.activation === 'relu' ? l.units : 0), 0);
  }

  /** Flags in `heap` (shared with the pool threads); null when the model has no ReLU layer. */
  static alloc(model: ModelSpec, heap: Heap): DeadUnits | null {
    const n = DeadUnits.size(model);
    if (n === 0) return null;
    const f = heap.alloc(Math.ceil(n / 4));
    return new DeadUnits(model, new Uint8Array(f.buffer, f.byteOffset, n));
  }

  /** layer i's flags, or null when it is not a ReLU layer */
  flagsOf(i: number): Uint8Array | null {
    const a = this.at.get(i);
    return a ? this.flags.subarray(a[0], a[0] + a[1]) : null;
  }

  reset(): void { this.flags.fill(0); }

  fraction(i: number): number {
    const f = this.flagsOf(i)!;
    let dead = 0;
    for (let j = 0; j < f.length; j++) if (f[j] === 0) dead++;
    return dead / f.length;
  }
}

// A (rows, units): alive[j] = 1 when some row has A[r, j] > 0. Column by column,
// stopping at the first positive row: a unit already alive this epoch (after the first
// steps, nearly all) costs one load per step.
export function markAlive(A: Float32Array, rows: number, units: number, alive: Uint8Array): void {
  const end = rows * units;
  for (let j = 0; j < units; j++) {
    if (alive[j] !== 0) continue;
    for (let o = j; o < end; o += units) if (A[o] > 0) { alive[j] = 1; break; }
  }
}
