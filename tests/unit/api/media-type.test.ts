import { test } from 'node:test';
import assert from 'node:assert/strict';
import { negotiate, parseAccept } from '../../../src/api/media-type.js';

const BOTH = ['application/json', 'text/csv'] as const;

test('q-values decide between JSON and CSV, whichever is listed first', () => {
  const cases: [string | undefined, string | null][] = [
    ['text/csv;q=0.1, application/json', 'application/json'],
    ['application/json;q=0, text/csv', 'text/csv'],
    ['application/json;q=0.5, text/csv;q=0.9', 'text/csv'],
    ['text/csv', 'text/csv'],
    ['application/json', 'application/json'],
    ['TEXT/CSV; Q=1', 'text/csv'],
    // equal quality: the route's own order (JSON first)
    ['text/csv, application/json', 'application/json'],
    ['*/*', 'application/json'],
    [undefined, 'application/json'],
    ['', 'application/json'],
  ];
  for (const [accept, expected] of cases) assert.equal(negotiate(accept, BOTH), expected, String(accept));
});

test('the most specific range sets a type\'s quality: text/csv;q=0 beats text/* and */*', () => {
  assert.equal(negotiate('*/*, text/csv;q=0', BOTH), 'application/json');
  assert.equal(negotiate('text/*, application/json;q=0.2', BOTH), 'text/csv');
  assert.equal(negotiate('text/*;q=0.3, */*;q=0.1', BOTH), 'text/csv');
  assert.equal(negotiate('application/*;q=0.3, text/csv;q=0.2', BOTH), 'application/json');
  // whatever the order of the ranges
  assert.equal(negotiate('text/*;q=0.1, text/csv;q=0.9, */*;q=0.5', BOTH), 'text/csv');
  assert.equal(negotiate('*/*;q=0.9, application/json;q=0.1', BOTH), 'text/csv');
});

test('an Accept that refuses every offered type negotiates nothing (a 406)', () => {
  assert.equal(negotiate('text/html', BOTH), null);
  assert.equal(negotiate('application/xml, text/html;q=0.9', BOTH), null);
  assert.equal(negotiate('application/json;q=0, text/csv;q=0', BOTH), null);
  assert.equal(negotiate('*/*;q=0', BOTH), null);
  assert.equal(negotiate('text/csv', ['application/json']), null);
});

test('invalid elements are skipped; a header with none valid accepts anything', () => {
  assert.deepEqual(parseAccept('text/csv;q=2, application/json;q=abc, */csv, junk, text/csv;q=0.25'), [
    { type: 'text', subtype: 'csv', q: 0.25 },
  ]);
  assert.equal(negotiate('junk, ;;;', BOTH), 'application/json');
  assert.equal(negotiate('text/csv;q=1.5, text/csv;q=0.5, application/json;q=0.4', BOTH), 'text/csv');
});
