// Builders for small IDX files, so parser tests control every byte.

export function idxImages(n: number, rows: number, cols: number, pixel: (i: number) => number): Uint8Array {
  const out = new Uint8Array(16 + n * rows * cols);
  const v = new DataView(out.buffer);
  v.setUint32(0, 2051, false);
  v.setUint32(4, n, false);
  v.setUint32(8, rows, false);
  v.setUint32(12, cols, false);
  for (let i = 0; i < n * rows * cols; i++) out[16 + i] = pixel(i);
  return out;
}

export function idxLabels(labels: number[]): Uint8Array {
  const out = new Uint8Array(8 + labels.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, 2049, false);
  v.setUint32(4, labels.length, false);
  out.set(labels, 8);
  return out;
}
