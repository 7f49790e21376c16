import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatherRows } from '../../../src/core/model.js';

// The batch's rows, copied eight at a time (and the rest one by one), must be exactly
// the rows the order names, for any count of rows and any row width.
test('gatherRows copies rows order[start ..] (or start.. without an order) and nothing past them', () => {
  const n = 40;
  for (const d of [1, 5, 8, 13]) {
    const x = new Float32Array(n * d).map((_, i) => i + 0.5);
    const order = new Int32Array(n).map((_, i) => (i * 17 + 3) % n); // a permutation: 17 and 40 are coprime
    for (const rows of [0, 1, 7, 8, 9, 16, 19]) {
      for (const [ord, start] of [[order, 0], [order, 11], [null, 0], [null, 6]] as const) {
        const X = new Float32Array((rows + 1) * d).fill(-1);
        gatherRows(X, x, d, ord, start, rows);
        for (let r = 0; r < rows; r++) {
          const s = ord ? ord[start + r] : start + r;
          for (let j = 0; j < d; j++) {
            assert.equal(X[r * d + j], s * d + j + 0.5, `d ${d}, rows ${rows}, start ${start}, ${ord ? 'shuffled' : 'in order'}: X[${r}][${j}]`);
          }
        }
        for (let i = rows * d; i < X.length; i++) assert.equal(X[i], -1, `wrote past row ${rows}`);
      }
    }
  }
});
