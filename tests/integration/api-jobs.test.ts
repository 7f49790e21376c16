import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, submitJob, tinySpec, type TestApp } from '../helpers/app.js';

let h: TestApp;
before(async () => {
  h = await createTestApp('api-jobs');
});
after(async () => {
  await h?.close();
});

async function queuedIds(): Promise<string[]> {
  const jobs = await h.queue.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
  return jobs.map((j) => j.id!).sort();
}

describe('POST /v1/jobs', () => {
  test('a valid spec is stored with a queued event and queued on BullMQ under the same id', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: tinySpec() });
    assert.equal(res.statusCode, 201, res.body);
    const job = res.json();
    assert.equal(job.status, 'queued');
    assert.equal(job.name, 'tiny-xor');
    assert.equal(job.attempt, 0);
    assert.equal(res.headers.location, `/v1/jobs/${job.id}`);
    // the stored spec is normalized (defaults filled in)
    assert.equal(job.spec.training.shuffle, true);

    const row = await h.prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { events: true } });
    assert.deepEqual(row.events.map((e) => e.type), ['queued']);
    const bull = await h.queue.getJob(job.id);
    assert.ok(bull, 'a BullMQ job with our id exists');
    assert.deepEqual(bull.data, { jobId: job.id });
  });

  test('an invalid spec answers 400 listing every problem with a pointer, and stores and queues nothing', async () => {
    const before = await h.prisma.job.count();
    const queuedBefore = await queuedIds();
    const spec = tinySpec({ loss: 'hinge', optimizer: { type: 'adam', learningRate: -1 } });
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: spec });
    assert.equal(res.statusCode, 400, res.body);
    const body = res.json();
    assert.equal(body.error.code, 'INVALID_SPEC');
    const pointers = body.error.details.map((d: { pointer: string }) => d.pointer);
    assert.ok(pointers.includes('/loss'), pointers.join(', '));
    assert.ok(pointers.includes('/optimizer/learningRate'), pointers.join(', '));
    for (const d of body.error.details) assert.ok(d.message.length > 0);
    assert.equal(await h.prisma.job.count(), before);
    assert.deepEqual(await queuedIds(), queuedBefore);
  });

  test('malformed JSON answers 400 in the error shape', async () => {
    const res = await h.app.inject({
      method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: '{"name": ',
    });
    assert.equal(res.statusCode, 400);
    const body = res.json();
    assert.equal(body.error.code, 'MALFORMED_JSON');
    assert.ok(Array.isArray(body.error.details));
  });

  test('an initialWeights checkpoint that does not exist is a 400 pointing at it', async () => {
    const spec = tinySpec({ initialWeights: { checkpointId: '00000000-0000-4000-8000-000000000000' } });
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: spec });
    assert.equal(res.statusCode, 400, res.body);
    assert.deepEqual(res.json().error.details.map((d: { pointer: string }) => d.pointer), ['/initialWeights/checkpointId']);
  });

  test('the same Idempotency-Key and spec answer with the same job; a different spec is a 409', async () => {
    const headers = { 'idempotency-key': 'retry-me-1' };
    const first = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers, payload: tinySpec() });
    assert.equal(first.statusCode, 201, first.body);
    // key order and spelled-out defaults do not make it a different spec
    const again = await h.app.inject({
      method: 'POST', url: '/v1/jobs', headers,
      payload: { ...tinySpec(), training: { seed: 7, batchSize: 16, epochs: 2, shuffle: true } },
    });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.json().id, first.json().id);

    const other = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers, payload: tinySpec({ name: 'other' }) });
    assert.equal(other.statusCode, 409, other.body);
    assert.equal(other.json().error.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(await h.prisma.job.count({ where: { idempotencyKey: 'retry-me-1' } }), 1);
  });

  test('concurrent requests with one Idempotency-Key create one job', async () => {
    const headers = { 'idempotency-key': 'race-1' };
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => h.app.inject({ method: 'POST', url: '/v1/jobs', headers, payload: tinySpec() })),
    );
    const ids = new Set(answers.map((a) => a.json().id));
    assert.equal(ids.size, 1);
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [200, 200, 200, 200, 201]);
  });
});

describe('GET /v1/jobs/:id', () => {
  test('unknown ids and ids that are not uuids answer 404 in the error shape', async () => {
    for (const id of ['3b0b7a4e-8a4e-4c1e-9a57-0f1b8e0a9a11', 'not-a-uuid']) {
      const res = await h.app.inject({ method: 'GET', url: `/v1/jobs/${id}` });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().error.code, 'NOT_FOUND');
    }
    const cancel = await h.app.inject({ method: 'POST', url: '/v1/jobs/not-a-uuid/cancel' });
    assert.equal(cancel.statusCode, 404);
  });

  test('a job answers with every field of the job shape', async () => {
    const created = (await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: tinySpec() })).json();
    const res = await h.app.inject({ method: 'GET', url: `/v1/jobs/${created.id}` });
    assert.equal(res.statusCode, 200);
    const job = res.json();
    assert.deepEqual(Object.keys(job).sort(), [
      'attempt', 'cancelRequested', 'createdAt', 'diagnosis', 'error', 'finishedAt', 'id', 'name', 'progress', 'result', 'spec', 'startedAt', 'status', 'sweepId',
    ]);
    assert.equal(job.sweepId, null, 'a job submitted on its own is no sweep\'s trial');
    assert.equal(job.id, created.id);
    assert.equal(job.status, 'queued');
    assert.equal(job.startedAt, null);
    assert.equal(job.finishedAt, null);
    assert.equal(job.progress, null);
    assert.equal(job.result, null);
    assert.equal(job.error, null);
    assert.equal(job.diagnosis, null);
    // the stored spec is the submitted one with defaults filled in: every submitted field is there as sent
    assert.deepEqual(job.spec.model.layers.map((l: { units: number }) => l.units), [8, 2]);
    assert.equal(job.spec.optimizer.learningRate, 0.01);
  });
});

describe('POST /v1/jobs/:id/cancel', () => {
  test('cancelling a queued job removes it from the queue and marks it cancelled; a second cancel is 409', async () => {
    const created = (await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: tinySpec() })).json();
    const res = await h.app.inject({ method: 'POST', url: `/v1/jobs/${created.id}/cancel` });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().status, 'cancelled');
    assert.ok(res.json().finishedAt);
    assert.equal(await h.queue.getJob(created.id), undefined);
    const events = await h.prisma.jobEvent.findMany({ where: { jobId: created.id }, orderBy: { id: 'asc' } });
    assert.deepEqual(events.map((e) => e.type), ['queued', 'cancelled']);

    const again = await h.app.inject({ method: 'POST', url: `/v1/jobs/${created.id}/cancel` });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error.code, 'JOB_FINISHED');
  });
});

describe('GET /v1/jobs', () => {
  test('pages through every job exactly once, newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await submitJob(h, tinySpec({ name: `page-${i}` })));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/jobs?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await h.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, res.body);
      const page = res.json();
      assert.ok(page.items.length <= 3);
      seen.push(...page.items.map((j: { id: string }) => j.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    // whatever other tests left behind: every row exactly once
    const all = (await h.prisma.job.findMany({ select: { id: true } })).map((r) => r.id).sort();
    assert.deepEqual([...seen].sort(), all);
    assert.equal(pages, Math.ceil(all.length / 3));
    // newest first: the 7 created here are the first 7 listed, in reverse order
    assert.deepEqual(seen.slice(0, 7), [...ids].reverse());
  });

  test('filters by status: exactly the jobs with that status', async () => {
    const kept = await submitJob(h, tinySpec({ name: 'filter-kept' }));
    const cancelled = [await submitJob(h, tinySpec({ name: 'filter-a' })), await submitJob(h, tinySpec({ name: 'filter-b' }))];
    for (const id of cancelled) {
      assert.equal((await h.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` })).statusCode, 200);
    }
    const res = await h.app.inject({ method: 'GET', url: '/v1/jobs?status=cancelled&limit=100' });
    assert.equal(res.statusCode, 200, res.body);
    const listed = res.json().items.map((j: { id: string }) => j.id);
    for (const id of cancelled) assert.ok(listed.includes(id), `${id} is listed`);
    assert.ok(!listed.includes(kept));
    const expected = (await h.prisma.job.findMany({ where: { status: 'cancelled' }, select: { id: true } })).map((r) => r.id).sort();
    assert.deepEqual([...listed].sort(), expected);
  });

  test('a status or cursor it does not know is a 400 with a pointer', async () => {
    const bad = await h.app.inject({ method: 'GET', url: '/v1/jobs?status=done' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'VALIDATION_FAILED');
    assert.deepEqual(bad.json().error.details.map((d: { pointer: string }) => d.pointer), ['/status']);
    const badCursor = await h.app.inject({ method: 'GET', url: '/v1/jobs?cursor=garbage' });
    assert.equal(badCursor.statusCode, 400);
    assert.equal(badCursor.json().error.code, 'INVALID_CURSOR');
    assert.deepEqual(badCursor.json().error.details.map((d: { pointer: string }) => d.pointer), ['/cursor']);
  });
});
