// Softmax cross-entropy, fused with the softmax output layer.
//   loss_r = −log softmax(z_r)[y_r] = logΣ_j e^{z_rj} − z_{r,y_r}   (max-subtracted)
//   ∂loss/∂z_rj = (p_rj − [j = y_r]) · scale, scale = 1/B for the mean over the batch
// Z (rows,C) logits, P (rows,C) softmax probabilities (already computed in forward).
// Adds the *sum* of per-sample losses and the count of arg-max hits to `stats` (LOSS_STATS).
import { LOSS_STATS } from '../step-stats.js';

export function crossEntropyForward(Z: Float32Array, rows: number, C: number, labels: Int32Array, labelOffset: number,
  stats: Float64Array): void {
  let loss = 0, correct = 0;
  for (let r = 0; r < rows; r++) {
    const z0 = r * C, y = labels[labelOffset + r];
    let m = -Infinity, arg = 0;
    for (let j = 0; j < C; j++) if (Z[z0 + j] > m) { m = Z[z0 + j]; arg = j; }
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(Z[z0 + j] - m);
    loss += Math.log(s) + m - Z[z0 + y];
    if (arg === y) correct++;
  }
  stats[LOSS_STATS.sum] += loss; stats[LOSS_STATS.correct] += correct;
}

export function crossEntropyBackward(P: Float32Array, rows: number, C: number, labels: Int32Array, labelOffset: number,
  scale: number, dZ: Float32Array): void {
  const n = rows * C;
  for (let i = 0; i < n; i++) dZ[i] = P[i] * scale;
  for (let r = 0; r < rows; r++) dZ[r * C + labels[labelOffset + r]] -= scale;
}
