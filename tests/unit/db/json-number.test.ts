import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonNumber, jsonNumberReplacer } from '../../../src/db/json-number.js';

test('NaN and ±Infinity are spelled as strings, finite numbers stay numbers, nested too', () => {
  assert.deepEqual([NaN, Infinity, -Infinity, 0.5, -0].map(jsonNumber), ['NaN', 'Infinity', '-Infinity', 0.5, -0]);
  const text = JSON.stringify({ metrics: { val_loss: NaN, train_loss: 0.25 }, list: [Infinity, 1] }, jsonNumberReplacer);
  assert.equal(text, '{"metrics":{"val_loss":"NaN","train_loss":0.25},"list":["Infinity",1]}');
});
