import { test } from 'node:test';
import assert from 'node:assert/strict';
import { differingFields, flatten } from '../../../src/dashboard/spec-diff.js';

test('flatten gives a JSON pointer per leaf, escaping ~ and /, and counts long data arrays as one value', () => {
  const flat = flatten({ a: { 'b/c': 1, 'd~': [true, 'x'] }, data: { features: [[1, 2], [3, 4]], labels: Array.from({ length: 20 }, (_, i) => i) }, e: [] });
  assert.deepEqual(Object.fromEntries(flat), {
    '/a/b~1c': '1', '/a/d~0/0': 'true', '/a/d~0/1': '"x"',
    '/data/features': '[2 items]', '/data/labels': '[20 items]', '/e': '[]',
  });
});

test('differingFields lists the pointers whose values are not all equal, a missing field counting as a difference; names are ignored', () => {
  const a = { name: 'a', optimizer: { type: 'adam', learningRate: 0.01 }, training: { epochs: 5 } };
  const b = { name: 'b', optimizer: { type: 'adam', learningRate: 0.1 }, training: { epochs: 5, seed: 1 } };
  assert.deepEqual(differingFields([a, b]), [
    { pointer: '/optimizer/learningRate', values: ['0.01', '0.1'] },
    { pointer: '/training/seed', values: [undefined, '1'] },
  ]);
  assert.deepEqual(differingFields([a, structuredClone(a)]), []);
});
