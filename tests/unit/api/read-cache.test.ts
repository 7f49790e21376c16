// The API's micro-cache (src/api/read-cache.ts): concurrent reads of one key share one
// load, an answer lives ttlMs, a failed load is not kept, invalidate drops a job's keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadCache } from '../../../src/api/read-cache.js';

function counter() {
  const c = { loads: 0, load: async () => { c.loads++; await new Promise((r) => setImmediate(r)); return `v${c.loads}`; } };
  return c;
}

test('concurrent misses of one key share a single load; later reads within ttl are hits', async () => {
  const cache = new ReadCache({ ttlMs: 60_000 });
  const c = counter();
  const answers = await Promise.all(Array.from({ length: 20 }, () => cache.get('job:*:a', c.load)));
  assert.equal(c.loads, 1);
  assert.deepEqual(new Set(answers), new Set(['v1']));
  assert.equal(await cache.get('job:*:a', c.load), 'v1');
  assert.equal(await cache.get('job:*:b', c.load), 'v2', 'another key loads on its own');
});

test('an expired answer is loaded again', async () => {
  const cache = new ReadCache({ ttlMs: 5 });
  const c = counter();
  assert.equal(await cache.get('k', c.load), 'v1');
  const t = Date.now();
  while (Date.now() - t <= 5) await new Promise((r) => setTimeout(r, 1));
  assert.equal(await cache.get('k', c.load), 'v2');
});

test('ttl 0 is off: every read loads', async () => {
  const cache = new ReadCache({ ttlMs: 0 });
  const c = counter();
  await Promise.all([cache.get('k', c.load), cache.get('k', c.load)]);
  assert.equal(c.loads, 2);
});

test('a failed load is not kept; invalidate drops every key naming the job', async () => {
  const cache = new ReadCache({ ttlMs: 60_000 });
  await assert.rejects(cache.get('job:*:x', async () => { throw new Error('404'); }), /404/);
  assert.equal(await cache.get('job:*:x', async () => 'found'), 'found');
  const c = counter();
  await cache.get('job:*:x1', c.load);
  await cache.get('metrics:*:x1:{"maxPoints":10}', c.load);
  await cache.get('job:*:y', c.load);
  cache.invalidate('x1');
  await cache.get('job:*:x1', c.load);
  await cache.get('metrics:*:x1:{"maxPoints":10}', c.load);
  await cache.get('job:*:y', c.load);
  assert.equal(c.loads, 5, 'x1 twice loaded again, y a hit');
});

test('at most maxEntries are kept, the oldest go first', async () => {
  const cache = new ReadCache({ ttlMs: 60_000, maxEntries: 2 });
  const c = counter();
  for (const k of ['a', 'b', 'c']) await cache.get(k, c.load);
  await cache.get('c', c.load);
  await cache.get('b', c.load);
  assert.equal(c.loads, 3);
  await cache.get('a', c.load);
  assert.equal(c.loads, 4, 'a was dropped');
});
