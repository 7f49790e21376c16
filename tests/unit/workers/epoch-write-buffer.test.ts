// The worker's epoch-write buffer (workers/epoch-write-buffer.ts): while the database
// is "down" (the write throws a retryable error) writes are held in order and training
// goes on; past maxHeld, submit waits (training pauses); when it is back, each held
// write commits exactly once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EpochWriteBuffer } from '../../../workers/epoch-write-buffer.js';
import { silentLogger } from '../../../src/logger.js';

class Unreachable extends Error {}

function fakeDatabase() {
  const db = { down: false, committed: [] as number[], attempts: 0 };
  const write = (n: number) => async () => {
    db.attempts++;
    await Promise.resolve();
    if (db.down) throw new Unreachable('connection refused');
    db.committed.push(n);
  };
  return { db, write };
}

const buffer = (maxHeld: number) =>
  new EpochWriteBuffer({ maxHeld, initialBackoffMs: 1, maxBackoffMs: 4, isRetryable: (e) => e instanceof Unreachable, logger: silentLogger() });

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
}

test('while the database answers, submit resolves after its write committed', async () => {
  const { db, write } = fakeDatabase();
  const b = buffer(4);
  await b.submit(write(1));
  assert.deepEqual(db.committed, [1]);
  await b.submit(write(2));
  assert.deepEqual(db.committed, [1, 2]);
  assert.equal(b.held, 0);
});

test('while it is down, writes are held (training goes on) and commit once each, in order, when it is back', async () => {
  const { db, write } = fakeDatabase();
  const b = buffer(4);
  await b.submit(write(1));
  db.down = true;
  for (const n of [2, 3, 4]) await b.submit(write(n));
  assert.equal(b.held, 3);
  assert.deepEqual(db.committed, [1]);
  await until(() => db.attempts >= 8); // it kept retrying
  db.down = false;
  await b.flush();
  assert.deepEqual(db.committed, [1, 2, 3, 4]);
  assert.equal(b.held, 0);
});

test('past maxHeld, submit waits until a held write commits: training pauses, nothing is dropped', async () => {
  const { db, write } = fakeDatabase();
  const b = buffer(2);
  db.down = true;
  await b.submit(write(1));
  await b.submit(write(2));
  let third = false;
  const pending = b.submit(write(3)).then(() => { third = true; });
  await until(() => db.attempts >= 10);
  assert.equal(third, false, 'the third epoch is not accepted while two wait');
  assert.equal(b.held, 3);
  db.down = false;
  await pending;
  await b.flush();
  assert.deepEqual(db.committed, [1, 2, 3]);
});

test('a write that fails for another reason fails the submit and every later one, without retries', async () => {
  const b = buffer(4);
  let attempts = 0;
  await assert.rejects(b.submit(async () => { attempts++; throw new Error('constraint violated'); }), /constraint violated/);
  assert.equal(attempts, 1);
  await assert.rejects(b.flush(), /constraint violated/);
});

test('writeAfterHeld runs the final write after every held one, retrying it while the database is down', async () => {
  const { db, write } = fakeDatabase();
  const b = buffer(4);
  db.down = true;
  await b.submit(write(1));
  const final = b.writeAfterHeld(write(99));
  await until(() => db.attempts >= 5);
  db.down = false;
  await final;
  assert.deepEqual(db.committed, [1, 99]);
});
