// GET /v1/jobs/:id is served from a micro-cache (read-cache.ts) that may be a little
// old. A client that was sent an event must not then read a status older than it: the
// CLI's `watch` reads the job right after the terminal event, and with a job that
// trained in under the cache's lifetime it read "running" and exited 1. The events
// route drops the job's cached answers before it sends events.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, submitJob, tinySpec, type TestApp } from '../helpers/app.js';

let h: TestApp;

before(async () => {
  // a cache that outlives the test: any stale answer would be served
  h = await createTestApp('api-events-cache', { readCacheMs: 60_000 });
});
after(async () => {
  await h?.close();
});

const status = async (id: string) => (await h.app.inject(`/v1/jobs/${id}`)).json().status as string;

test('after the events stream sent the terminal event, GET /v1/jobs/:id answers the finished job, not its cached past', async () => {
  const id = await submitJob(h, tinySpec({ name: 'cache-vs-events' })); // no worker here: it stays queued
  assert.equal(await status(id), 'queued');
  // what a worker's finish writes, in one transaction (training-records.ts finishSucceeded)
  await h.prisma.$transaction([
    h.prisma.job.update({ where: { id }, data: { status: 'succeeded', finishedAt: new Date() } }),
    h.prisma.jobEvent.create({ data: { jobId: id, attempt: 1, type: 'succeeded', message: 'training finished' } }),
  ]);
  assert.equal(await status(id), 'queued', 'precondition: the cache still holds the old answer');
  const stream = await h.app.inject({ url: `/v1/jobs/${id}/events`, headers: { accept: 'text/event-stream' } });
  assert.match(stream.body, /event: succeeded/);
  assert.equal(await status(id), 'succeeded');
});
