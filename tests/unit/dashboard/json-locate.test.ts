import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locatePointers, spanFor } from '../../../src/dashboard/json-locate.js';

const TEXT = '{\n  "name": "x",\n  "model": { "layers": [ { "units": 0 }, {"a/b~c": [1, 2.5e3]} ] },\n  "ok": true, "n": null\n}';

function at(pointer: string): string {
  const s = spanFor(locatePointers(TEXT), pointer);
  return s ? TEXT.slice(s.start, s.end) : '(none)';
}

test('each pointer maps to the exact text of its value', () => {
  assert.equal(at('/name'), '"x"');
  assert.equal(at('/model/layers/0/units'), '0');
  assert.equal(at('/model/layers/1/a~1b~0c/1'), '2.5e3');
  assert.equal(at('/ok'), 'true');
  assert.equal(at('/n'), 'null');
  assert.equal(at('/model/layers/0'), '{ "units": 0 }');
  assert.equal(at(''), TEXT);
});

test('a pointer to a missing field selects its nearest existing parent', () => {
  assert.equal(at('/model/layers/0/activation'), '{ "units": 0 }');
  assert.equal(at('/training/epochs'), TEXT);
});

test('text after a syntax error is not located, text before it is', () => {
  const spans = locatePointers('{"a": 1, "b": [1, 2');
  assert.deepEqual(spans.get('/a'), { start: 6, end: 7 });
  assert.equal(spans.has('/b'), false);
});
