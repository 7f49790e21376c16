// safetensors (https://github.com/huggingface/safetensors), the checkpoint format:
//   u64 LE  N, the header length
//   N bytes UTF-8 JSON: { "__metadata__": { str: str }?,
//                         "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ... }
//           padded with spaces to a multiple of 8 bytes, as the reference writer does
//   the byte buffer; offsets are relative to its start, tensors tile it exactly.
// Decoding validates as strictly as the reference (Rust) reader, because uploaded
// checkpoints come from users: a file it would reject, we reject, with a reason.
// Data is little-endian; typed arrays use the host's order, which is little-endian
// on every platform Node supports in practice (checked below, not assumed silently).

export type Dtype =
  | 'BOOL' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3'
  | 'I16' | 'U16' | 'F16' | 'BF16'
  | 'I32' | 'U32' | 'F32'
  | 'I64' | 'U64' | 'F64';

export type TensorData =
  | Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array
  | Int8Array | Uint8Array | BigInt64Array | BigUint64Array;

export interface TensorInput {
  name: string;
  dtype: Dtype;
  shape: number[];
  /**
   * The typed array of the dtype (F32 → Float32Array, I64 → BigInt64Array,
   * F16/BF16 → Uint16Array of raw bits, …), or a Uint8Array of raw little-endian
   * bytes for any dtype.
   */
  data: TensorData;
}

export interface DecodedTensor {
  dtype: Dtype;
  shape: number[];
  /**
   * The typed array of the dtype (see DTYPES). A view into the decoded bytes when
   * the tensor's offset is aligned for its element size, else an aligned copy.
   */
  data: TensorData;
}

export class SafetensorsError extends Error {
  /** the tensor the problem is about, when it is about one */
  readonly tensor: string | undefined;
  constructor(message: string, tensor?: string) {
    super(message);
    this.name = 'SafetensorsError';
    this.tensor = tensor;
  }
}

type ArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData; BYTES_PER_ELEMENT: number };

/** Element size in bytes and the typed array that holds each dtype. */
export const DTYPES: Record<Dtype, { size: number; array: ArrayCtor }> = {
  BOOL: { size: 1, array: Uint8Array },
  U8: { size: 1, array: Uint8Array },
  I8: { size: 1, array: Int8Array },
  F8_E5M2: { size: 1, array: Uint8Array },
  F8_E4M3: { size: 1, array: Uint8Array },
  I16: { size: 2, array: Int16Array },
  U16: { size: 2, array: Uint16Array },
  F16: { size: 2, array: Uint16Array },
  BF16: { size: 2, array: Uint16Array },
  I32: { size: 4, array: Int32Array },
  U32: { size: 4, array: Uint32Array },
  F32: { size: 4, array: Float32Array },
  I64: { size: 8, array: BigInt64Array },
  U64: { size: 8, array: BigUint64Array },
  F64: { size: 8, array: Float64Array },
};

const METADATA_KEY = '__metadata__';
// The reference reader refuses larger headers (a JSON bomb guard); so do we.
export const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkHost(dtype: Dtype): void {
  if (!LITTLE_ENDIAN && DTYPES[dtype].size > 1) {
    throw new SafetensorsError(`this host is big-endian; ${dtype} tensors would need byte swapping, which is not implemented`);
  }
}

function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, s);
}

/** Number of elements of a shape ([] is a scalar: 1), or undefined if not a valid shape. */
function numel(shape: unknown): number | undefined {
  if (!Array.isArray(shape)) return undefined;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return undefined;
    n *= d;
    if (!Number.isSafeInteger(n)) return undefined;
  }
  return n;
}

/**
 * The first key that appears twice at the top level of a JSON object text, or null.
 * JSON.parse keeps the last of duplicate keys silently, so a header naming a tensor
 * twice would decode to whichever came last; this looks at the text itself. The text
 * must already be valid JSON (it is scanned, not validated).
 */
export function duplicateTopLevelKey(json: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = depth === 1 && c === '{';
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return null;
}

/**
 * Encodes tensors, laid out contiguously in the order given, with optional string
 * metadata (written first in the header, omitted when empty).
 */
export function encodeSafetensors(tensors: TensorInput[], metadata?: Record<string, string>): Uint8Array {
  // Null prototype: a tensor named "__proto__" must become a key, not a prototype.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`metadata "${k}" must be a string, got ${typeof v}`);
    }
    header[METADATA_KEY] = metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (t.name === METADATA_KEY) throw new SafetensorsError(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (Object.prototype.hasOwnProperty.call(header, t.name)) throw new SafetensorsError(`duplicate tensor name "${t.name}"`);
    if (!isDtype(t.dtype)) throw new SafetensorsError(`tensor "${t.name}": unknown dtype ${JSON.stringify(t.dtype)}`);
    checkHost(t.dtype);
    const n = numel(t.shape);
    if (n === undefined) throw new SafetensorsError(`tensor "${t.name}": shape must be non-negative integers, got ${JSON.stringify(t.shape)}`);
    const { size, array } = DTYPES[t.dtype];
    const raw = t.data instanceof Uint8Array;
    if (!raw && !(t.data instanceof array)) {
      throw new SafetensorsError(`tensor "${t.name}": ${t.dtype} data must be a ${array.name} (or raw bytes in a Uint8Array), got ${t.data.constructor.name}`);
    }
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (bytes.length !== n * size) {
      throw new SafetensorsError(
        `tensor "${t.name}": shape [${t.shape.join(', ')}] of ${t.dtype} needs ${n * size} bytes, data has ${bytes.length}`,
      );
    }
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

interface Entry { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }

function parseHeader(bytes: Uint8Array): { n: number; entries: Entry[]; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new SafetensorsError(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) {
    throw new SafetensorsError(`header length ${n64} goes beyond the end of the file (${bytes.length} bytes)`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER_BYTES) throw new SafetensorsError(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (n < 2 || bytes[8] !== 0x7b /* { */) throw new SafetensorsError('header does not start with "{"');
  let header: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
    header = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON: ${(err as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError('header must be a JSON object');
  }
  const duplicate = duplicateTopLevelKey(text);
  if (duplicate !== null) {
    throw new SafetensorsError(`the header names "${duplicate}" twice; which of the two is meant is ambiguous`, duplicate);
  }

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (info === null) continue;
      if (typeof info !== 'object' || Array.isArray(info)) throw new SafetensorsError(`"${METADATA_KEY}" must be an object of strings`);
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsError(`metadata "${k}" must be a string, got ${JSON.stringify(v)}`);
        // defineProperty, not assignment: a "__proto__" key stays a plain key.
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    if (typeof info !== 'object' || info === null || Array.isArray(info)) {
      throw new SafetensorsError(`tensor "${name}": entry must be an object with dtype, shape and data_offsets`, name);
    }
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (!isDtype(dtype)) throw new SafetensorsError(`tensor "${name}": unknown dtype ${JSON.stringify(dtype)}`, name);
    const count = numel(shape);
    if (count === undefined) throw new SafetensorsError(`tensor "${name}": shape must be non-negative integers, got ${JSON.stringify(shape)}`, name);
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    ) {
      throw new SafetensorsError(`tensor "${name}": data_offsets must be two non-negative integers, got ${JSON.stringify(offsets)}`, name);
    }
    const [begin, end] = offsets as number[];
    if (end < begin) throw new SafetensorsError(`tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`, name);
    const size = DTYPES[dtype].size;
    if (end - begin !== count * size) {
      throw new SafetensorsError(
        `tensor "${name}": shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${count * size} bytes, data_offsets [${begin}, ${end}] give ${end - begin}`, name);
    }
    entries.push({ name, dtype, shape: (shape as number[]).slice(), begin, end });
  }
  return { n, entries, metadata };
}

/**
 * Decodes and validates a safetensors file. Tensors are views into `bytes` where
 * alignment allows, so keep `bytes` unmodified while the tensors are in use.
 */
export function decodeSafetensors(bytes: Uint8Array): { tensors: Map<string, DecodedTensor>; metadata: Record<string, string> } {
  const { n, entries, metadata } = parseHeader(bytes);
  const bufferStart = 8 + n;
  const bufferLength = bytes.length - bufferStart;

  // Like the reference reader: sorted by offset, the tensors must tile the buffer
  // exactly — no gap (hidden bytes), no overlap (aliased tensors), nothing past the end.
  const byOffset = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of byOffset) {
    if (e.begin < expected) {
      throw new SafetensorsError(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap the previous tensor, which ends at ${expected}`, e.name);
    }
    if (e.begin > expected) {
      throw new SafetensorsError(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] leave a gap after byte ${expected}`, e.name);
    }
    if (e.end > bufferLength) {
      throw new SafetensorsError(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] lie outside the ${bufferLength}-byte data buffer`, e.name);
    }
    expected = e.end;
  }
  if (expected !== bufferLength) {
    throw new SafetensorsError(`the data buffer has ${bufferLength} bytes but the tensors cover ${expected}`);
  }

  const tensors = new Map<string, DecodedTensor>();
  for (const e of entries) {
    checkHost(e.dtype);
    const { size, array } = DTYPES[e.dtype];
    const at = bytes.byteOffset + bufferStart + e.begin;
    const length = (e.end - e.begin) / size;
    let data: TensorData;
    if (at % size === 0) {
      data = new array(bytes.buffer, at, length);
    } else {
      const copy = new ArrayBuffer(e.end - e.begin);
      new Uint8Array(copy).set(bytes.subarray(bufferStart + e.begin, bufferStart + e.end));
      data = new array(copy, 0, length);
    }
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}
