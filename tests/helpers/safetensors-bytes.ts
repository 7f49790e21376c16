// A few-line safetensors reader and writer for tests, written from the format's
// definition and independent of src/core/safetensors.ts, so tests that check our
// files (or build hostile ones) do not share code with what they check:
//   u64 LE header length N | N bytes JSON header | data (offsets relative to its start)

export interface F32Tensor { shape: number[]; data: Float32Array }

/** Reads the F32 tensors of a file and its __metadata__. */
export function readF32Tensors(bytes: Uint8Array): { tensors: Map<string, F32Tensor>; metadata: Record<string, string> } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')) as Record<string, any>;
  const tensors = new Map<string, F32Tensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__' || e.dtype !== 'F32') continue;
    const [begin, end] = e.data_offsets as [number, number];
    const data = new Float32Array((end - begin) / 4);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(8 + n + begin + 4 * i, true);
    tensors.set(name, { shape: e.shape, data });
  }
  return { tensors, metadata: header.__metadata__ ?? {} };
}

export interface RawTensor { name: string; shape: number[]; values: number[] | Float32Array; dtype?: 'F32' | 'F64' }

/**
 * Writes tensors contiguously. `header` may rewrite the JSON text before it is
 * framed (to smuggle in a duplicate key, for instance).
 */
export function writeTensors(tensors: RawTensor[], header?: (json: string) => string): Uint8Array {
  const entries: string[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const dtype = t.dtype ?? 'F32';
    const size = dtype === 'F32' ? 4 : 8;
    const chunk = Buffer.alloc(t.values.length * size);
    for (let i = 0; i < t.values.length; i++) {
      if (dtype === 'F32') chunk.writeFloatLE(t.values[i]!, 4 * i);
      else chunk.writeDoubleLE(t.values[i]!, 8 * i);
    }
    entries.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype, shape: t.shape, data_offsets: [offset, offset + chunk.length] })}`);
    chunks.push(chunk);
    offset += chunk.length;
  }
  let json = `{${entries.join(',')}}`;
  if (header) json = header(json);
  const text = Buffer.from(json, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  return new Uint8Array(Buffer.concat([length, text, ...chunks]));
}
