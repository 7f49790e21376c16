// The progress throttle, on a clock the test moves: at most one write per interval,
// at most one in flight, the newest report written, the interval restarted by the
// epoch-end write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressThrottle, type JobProgress } from '../../../workers/progress-throttle.js';
import type { TrainProgress } from '../../../src/core/train-types.js';

function step(n: number): TrainProgress {
  return { epoch: 1, epochs: 5, step: n, batch: n, batchesPerEpoch: 100, samplesPerSecond: 10, etaSeconds: 1 };
}

/** A write that stays in flight until the test releases it. */
function recorder() {
  const written: JobProgress[] = [];
  const pending: Array<() => void> = [];
  const write = (p: JobProgress) => {
    written.push(p);
    return new Promise<void>((resolve) => pending.push(resolve));
  };
  const release = async () => {
    for (const r of pending.splice(0)) r();
    await new Promise((r) => setImmediate(r)); // let .finally() clear the in-flight write
  };
  return { written, write, release };
}

test('reports inside the interval are not written; the first one after it is, with the newest progress', async () => {
  let now = 1_000_000;
  const r = recorder();
  const t = new ProgressThrottle(r.write, 2_000, () => now);
  t.report(step(1));
  assert.deepEqual(r.written.map((p) => p.step), [1], 'the first report is written at once');
  await r.release();
  for (const [ms, n] of [[1, 2], [500, 3], [1_999, 4]] as const) {
    now = 1_000_000 + ms;
    t.report(step(n));
  }
  assert.deepEqual(r.written.map((p) => p.step), [1], 'nothing within 2000 ms of the last write');
  assert.equal(t.latest?.step, 4, 'the newest report is kept for the epoch-end write');
  now = 1_002_000;
  t.report(step(5));
  assert.deepEqual(r.written.map((p) => p.step), [1, 5]);
});

test('at most one write is in flight, however much time passes', async () => {
  let now = 5_000_000;
  const r = recorder();
  const t = new ProgressThrottle(r.write, 100, () => now);
  t.report(step(1));
  now += 10_000;
  t.report(step(2));
  assert.equal(r.written.length, 1, 'the slow first write blocks the second');
  let settled = false;
  const settling = t.settle().then(() => { settled = true; });
  await new Promise((res) => setImmediate(res));
  assert.equal(settled, false, 'settle() waits for the write in flight');
  await r.release();
  await settling;
  now += 1;
  t.report(step(3));
  assert.deepEqual(r.written.map((p) => p.step), [1, 3], 'once it landed and the interval has passed, the next report goes out');
});

test('touched() (the epoch-end write) restarts the interval', async () => {
  let now = 9_000_000;
  const r = recorder();
  const t = new ProgressThrottle(r.write, 2_000, () => now);
  t.report(step(1));
  await r.release();
  now += 1_500;
  t.touched();
  now += 1_000; // 2500 ms after the last progress write, 1000 after the epoch-end write
  t.report(step(2));
  assert.equal(r.written.length, 1);
  now += 1_000;
  t.report(step(3));
  assert.deepEqual(r.written.map((p) => p.step), [1, 3]);
});

test('a report is copied: the trainer reuses one progress object, and what it changes later is not what was reported', () => {
  const r = recorder();
  const t = new ProgressThrottle(r.write, 2_000, () => 1_000_000);
  const p = step(1);
  t.report(p);
  p.step = 99; // the trainer's next step, not reported yet
  assert.equal(t.latest?.step, 1);
  assert.equal(r.written[0].step, 1);
  p.step = 2;
  t.report(p);
  assert.equal(t.latest?.step, 2);
  assert.equal(r.written[0].step, 1, 'a written report stays as it was');
});
