import { test } from 'node:test';
import assert from 'node:assert/strict';
import Type from 'typebox';
import { integerProblems } from '../../../src/api/query-integers.js';

const Query = Type.Object({
  maxPoints: Type.Optional(Type.Integer({ minimum: 4, maximum: 100_000 })),
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
  from: Type.Optional(Type.Integer()),
  name: Type.Optional(Type.Array(Type.String())),
});

test('a value not written as a decimal integer is refused with the schema\'s bounds, before any conversion truncates it', () => {
  assert.deepEqual(integerProblems(Query, { maxPoints: '1.5', limit: '0x10', from: ' 7', name: ['1.5'] }), [
    { pointer: '/maxPoints', message: 'must be an integer (from 4 to 100000)' },
    { pointer: '/limit', message: 'must be an integer (>= 1)' },
    { pointer: '/from', message: 'must be an integer' },
  ]);
  assert.deepEqual(integerProblems(Query, { maxPoints: ['5', '6'] }), [
    { pointer: '/maxPoints', message: 'must be an integer (from 4 to 100000), given once' },
  ]);
});

test('decimal integers pass whatever their size (the schema checks the bounds)', () => {
  assert.deepEqual(integerProblems(Query, { maxPoints: '3', limit: '007', from: '-12', name: 'x' }), []);
  assert.deepEqual(integerProblems(Query, {}), []);
});
