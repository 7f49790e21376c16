import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, csvLine } from '../../../src/api/csv.js';
import { numberText } from '../../../src/db/json-number.js';

// Fixed vectors: the spelling JSON.parse reads back as the same float64 (the
// shortest round-trip decimal), written once by hand from ECMAScript's rules.
test('a number is spelled in CSV exactly as in JSON: shortest round-trip decimal, no Postgres exponent style', () => {
  const vectors: [number, string][] = [
    [0.45520916459044136, '0.45520916459044136'],
    [5.27e-5, '0.0000527'],
    [5.27e-7, '5.27e-7'],
    [1e21, '1e+21'],
    [123456789012345680000, '123456789012345680000'],
    [-0, '0'],
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
  ];
  for (const [v, text] of vectors) {
    assert.equal(numberText(v), text, String(v));
    if (Number.isFinite(v)) assert.equal(JSON.stringify(v), text);
  }
});

test('a CSV line quotes only the fields that need it and writes time as ISO 8601 UTC', () => {
  const time = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
  assert.equal(csvLine('odd,"name"', { step: 7, epoch: 1, value: 5.27e-5, time }), '"odd,""name""",7,1,0.0000527,2026-01-02T03:04:05.006Z\n');
  assert.equal(csvField('grad_norm/0'), 'grad_norm/0');
  assert.equal(csvField('a\nb'), '"a\nb"');
});
