import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, type SseEvent } from '../../../src/client/sse-parser.js';

function parse(chunks: string[]): { events: SseEvent[]; parser: SseParser } {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  for (const c of chunks) parser.push(c);
  return { events, parser };
}

const STREAM = 'retry: 1000\n\n: heartbeat\n\nid: 7\nevent: epoch\ndata: {"a":1}\n\nid: 8\nevent: succeeded\ndata: line one\ndata: line two\n\n';

test('events with id, type and multi-line data, comments and retry as the WHATWG rules say', () => {
  const { events, parser } = parse([STREAM]);
  assert.deepEqual(events, [
    { id: '7', event: 'epoch', data: '{"a":1}' },
    { id: '8', event: 'succeeded', data: 'line one\nline two' },
  ]);
  assert.equal(parser.lastEventId, '8');
  assert.equal(parser.retryMs, 1000);
});

test('the same events whatever the chunking, one character at a time included', () => {
  const whole = parse([STREAM]).events;
  assert.deepEqual(parse(STREAM.split('')).events, whole);
  for (let cut = 1; cut < STREAM.length; cut += 7) assert.deepEqual(parse([STREAM.slice(0, cut), STREAM.slice(cut)]).events, whole);
});

test('\\r\\n and \\r line ends, also split between chunks; no space after the colon; no event line = message', () => {
  const { events } = parse(['id:1\r', '\ndata:x\r\n\r', '\ndata: y\r\r']);
  assert.deepEqual(events, [{ id: '1', event: 'message', data: 'x' }, { id: '1', event: 'message', data: 'y' }]);
  // a \r\n split after a data line is one line end, not an end and a blank line (which would dispatch early)
  assert.deepEqual(parse(['data: a\r', '\ndata: b\r\n\r\n']).events, [{ id: null, event: 'message', data: 'a\nb' }]);
});

test('an event without a closing blank line is not dispatched (the connection dropped mid-event)', () => {
  const { events, parser } = parse(['id: 3\nevent: epoch\ndata: {"half":']);
  assert.deepEqual(events, []);
  assert.equal(parser.lastEventId, '3');
});
