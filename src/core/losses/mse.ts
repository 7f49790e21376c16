// Mean squared error, mean over all elements (PyTorch's MSELoss(reduction='mean')):
//   loss = 1/(B·C) Σ_r Σ_j (a_rj − t_rj)²,   ∂loss/∂a_rj = 2 (a_rj − t_rj) / (B·C)
// A (rows,C) outputs, T targets (n,C) at row offset targetOffset.
// stats (LOSS_STATS): sum += Σ_r per-sample loss (1/C Σ_j (a − t)²), so sum/B is the
// batch loss; for classification targets (one-hot of labels) correct counts arg-max hits.
import { LOSS_STATS } from '../step-stats.js';

export function mseForward(A: Float32Array, rows: number, C: number, T: Float32Array | null, labels: Int32Array | null,
  offset: number, stats: Float64Array): void {
  let loss = 0, correct = 0;
  for (let r = 0; r < rows; r++) {
    const a0 = r * C;
    let s = 0;
    if (T) {
      const t0 = (offset + r) * C;
      for (let j = 0; j < C; j++) { const d = A[a0 + j] - T[t0 + j]; s += d * d; }
    } else {
      const y = labels![offset + r];
      let arg = 0;
      for (let j = 0; j < C; j++) {
        const d = A[a0 + j] - (j === y ? 1 : 0); s += d * d;
        if (A[a0 + j] > A[a0 + arg]) arg = j;
      }
      if (arg === y) correct++;
    }
    loss += s / C;
  }
  stats[LOSS_STATS.sum] += loss; stats[LOSS_STATS.correct] += correct;
}

export function mseBackward(A: Float32Array, rows: number, C: number, T: Float32Array | null, labels: Int32Array | null,
  offset: number, batch: number, dA: Float32Array): void {
  const k = 2 / (batch * C);
  for (let r = 0; r < rows; r++) {
    const a0 = r * C;
    for (let j = 0; j < C; j++) {
      const t = T ? T[(offset + r) * C + j] : (j === labels![offset + r] ? 1 : 0);
      dA[a0 + j] = k * (A[a0 + j] - t);
    }
  }
}
