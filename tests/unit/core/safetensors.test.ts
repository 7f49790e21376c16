import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type TensorInput } from '../../../src/core/safetensors.js';

const enc = new TextEncoder();

// Builds a file by hand from a header string and a data buffer (no padding added),
// so each corruption case controls every byte.
function rawFile(header: string, data: Uint8Array = new Uint8Array(0), declaredLength?: number): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

test('one F32 tensor [1, 2] encodes to the exact bytes of the reference writer', () => {
  const bytes = encodeSafetensors([{ name: 'x', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }]);
  const header = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes → padded to 56
  const expected = new Uint8Array(8 + 56 + 8);
  expected.set([56, 0, 0, 0, 0, 0, 0, 0], 0);
  expected.set(enc.encode(header + '  '), 8);
  expected.set([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40], 64); // 1.0f, 2.0f little-endian
  assert.deepEqual(bytes, expected);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, {});
  assert.deepEqual([...back.tensors.keys()], ['x']);
  assert.deepEqual(back.tensors.get('x'), { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) });
});

test('header is padded with spaces to a multiple of 8 and metadata comes first', () => {
  const bytes = encodeSafetensors(
    [{ name: 'layers.0.bias', dtype: 'F32', shape: [3], data: new Float32Array(3) }],
    { epoch: '3', spec_hash: 'abc' },
  );
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(header, /^\{"__metadata__":\{"epoch":"3","spec_hash":"abc"\},"layers\.0\.bias":/);
  assert.match(header, /\} *$/);
  assert.equal(bytes.length, 8 + n + 12);
});

test('several dtypes and shapes round-trip in the order given', () => {
  const tensors: TensorInput[] = [
    { name: 'layers.0.weight', dtype: 'F32', shape: [3, 2], data: new Float32Array([0.5, -1, 2.25, 3, 1e-8, -0]) },
    { name: 'byte', dtype: 'U8', shape: [3], data: new Uint8Array([0, 128, 255]) }, // leaves the next one misaligned
    { name: 'f64', dtype: 'F64', shape: [2, 1], data: new Float64Array([Math.PI, -1e300]) },
    { name: 'i32', dtype: 'I32', shape: [2, 2], data: new Int32Array([-2147483648, 2147483647, 0, -1]) },
    { name: 'i64', dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 62n + 7n]) },
    { name: 'half', dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0xc000]) }, // 1.0, -2.0 raw bits
    { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([42]) },
    { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  ];
  const meta = { note: 'ünïcode ✓', step: '1200' };
  const { tensors: back, metadata } = decodeSafetensors(encodeSafetensors(tensors, meta));
  assert.deepEqual(metadata, meta);
  assert.deepEqual([...back.keys()], tensors.map((t) => t.name));
  for (const t of tensors) {
    const d = back.get(t.name)!;
    assert.equal(d.dtype, t.dtype);
    assert.deepEqual(d.shape, t.shape);
    assert.equal(d.data.constructor, t.data.constructor, t.name);
    assert.deepEqual(d.data, t.data, t.name);
  }
  // F64 starting at an odd offset was copied into an aligned array; still exact.
  assert.equal(back.get('f64')!.data.byteOffset % 8, 0);
});

test('raw little-endian bytes are accepted for any dtype', () => {
  const raw = new Uint8Array(new Float32Array([1.5, -3]).buffer);
  const back = decodeSafetensors(encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: raw }]));
  assert.deepEqual(back.tensors.get('w')!.data, new Float32Array([1.5, -3]));
});

test('decoding works on a Uint8Array that is a view at an odd offset of a larger buffer', () => {
  const file = encodeSafetensors([{ name: 'w', dtype: 'F64', shape: [2], data: new Float64Array([1, 2]) }]);
  const big = new Uint8Array(file.length + 3);
  big.set(file, 3);
  assert.deepEqual(decodeSafetensors(big.subarray(3)).tensors.get('w')!.data, new Float64Array([1, 2]));
});

test('encoding rejects inconsistent tensors', () => {
  const f = new Float32Array(4);
  assert.throws(() => encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [3], data: f }]), /needs 12 bytes, data has 16/);
  assert.throws(() => encodeSafetensors([{ name: 'a', dtype: 'F64', shape: [4], data: f }]), /must be a Float64Array/);
  assert.throws(
    () => encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [4], data: f }, { name: 'a', dtype: 'F32', shape: [4], data: f }]),
    /duplicate tensor name "a"/,
  );
  assert.throws(() => encodeSafetensors([{ name: '__metadata__', dtype: 'F32', shape: [4], data: f }]), /reserved/);
  assert.throws(() => encodeSafetensors([{ name: 'a', dtype: 'F33' as never, shape: [4], data: f }]), /unknown dtype/);
  assert.throws(() => encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [-4], data: f }]), /shape/);
});

const F32x2 = new Uint8Array(new Float32Array([1, 2]).buffer);
const corruptions: Array<[string, Uint8Array, RegExp]> = [
  ['a file shorter than 8 bytes', new Uint8Array(5), /shorter than the 8-byte header length/],
  ['a header length beyond the file', rawFile('{}', new Uint8Array(0), 1000), /header length 1000 goes beyond the end of the file/],
  ['a header that is not JSON', rawFile('{"x":', F32x2), /not valid UTF-8 JSON/],
  ['a header that is not UTF-8', (() => { const f = rawFile('{"x" }'); f[12] = 0xff; return f; })(), /not valid UTF-8 JSON/],
  ['a header that does not start with {', rawFile(' {}'), /does not start with "\{"/],
  ['a header that is an array', rawFile('[]'), /does not start with|must be a JSON object/],
  ['an unknown dtype', rawFile('{"x":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}}', F32x2), /tensor "x": unknown dtype "F17"/],
  ['a shape/offset size mismatch', rawFile('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', F32x2), /needs 12 bytes, data_offsets \[0, 8\] give 8/],
  ['a negative dimension', rawFile('{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', F32x2), /shape must be non-negative integers/],
  ['offsets that end before they begin', rawFile('{"x":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}}', F32x2), /end before they begin/],
  ['malformed offsets', rawFile('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0]}}', F32x2), /data_offsets must be two non-negative integers/],
  [
    'overlapping offsets',
    rawFile('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', F32x2),
    /tensor "b": data_offsets \[4, 8\] overlap the previous tensor/,
  ],
  [
    'a gap between tensors',
    rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}}', F32x2),
    /tensor "b": data_offsets \[6, 8\] leave a gap after byte 4/,
  ],
  ['a first tensor not at offset 0', rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', F32x2), /leave a gap after byte 0/],
  ['data outside the buffer', rawFile('{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', F32x2), /lie outside the 8-byte data buffer/],
  ['trailing bytes no tensor covers', rawFile('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', F32x2), /buffer has 8 bytes but the tensors cover 4/],
  ['a metadata value that is not a string', rawFile('{"__metadata__":{"epoch":3}}'), /metadata "epoch" must be a string/],
  ['metadata that is not an object', rawFile('{"__metadata__":"x"}'), /"__metadata__" must be an object of strings/],
  ['a tensor entry that is not an object', rawFile('{"x":5}'), /tensor "x": entry must be an object/],
];
for (const [what, bytes, message] of corruptions) {
  test(`decoding rejects ${what}`, () => {
    assert.throws(() => decodeSafetensors(bytes), (err: unknown) => err instanceof SafetensorsError && message.test(err.message));
  });
}

test('tensors listed out of offset order in the header are accepted, as by the reference reader', () => {
  const file = rawFile('{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', F32x2);
  const { tensors } = decodeSafetensors(file);
  assert.deepEqual(tensors.get('a')!.data, new Float32Array([1]));
  assert.deepEqual(tensors.get('b')!.data, new Float32Array([2]));
});

test('a tensor named __proto__ stays an ordinary tensor', () => {
  const file = encodeSafetensors([{ name: '__proto__', dtype: 'U8', shape: [1], data: new Uint8Array([7]) }], { __proto__x: 'y' });
  assert.deepEqual(decodeSafetensors(file).tensors.get('__proto__')!.data, new Uint8Array([7]));
});

test('a header naming a tensor twice is refused with that name (JSON.parse alone would keep the last)', () => {
  // two entries for "w" whose offsets tile the buffer either way: only the text shows the duplicate
  const dup = rawFile('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4));
  assert.throws(() => decodeSafetensors(dup), (err: unknown) =>
    err instanceof SafetensorsError && err.tensor === 'w' && /names "w" twice/.test(err.message));
  // the same name spelt with an escape is the same key
  const escaped = rawFile('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\\u0077":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4));
  assert.throws(() => decodeSafetensors(escaped), (err: unknown) => err instanceof SafetensorsError && err.tensor === 'w');
});

test('keys repeated below the top level, and names holding quotes, braces and commas, are not duplicates', () => {
  const header = '{"__metadata__":{"a":"x","b":"{\\"a\\":1,"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
    '"b\\",{":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
  const file = decodeSafetensors(rawFile(header, new Uint8Array(8)));
  assert.deepEqual([...file.tensors.keys()], ['a', 'b",{']);
  assert.deepEqual(file.metadata, { a: 'x', b: '{"a":1,' });
});

test('a per-tensor problem names its tensor', () => {
  const bad = rawFile('{"layers.0.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', new Uint8Array(4));
  assert.throws(() => decodeSafetensors(bad), (err: unknown) => err instanceof SafetensorsError && err.tensor === 'layers.0.weight');
});
