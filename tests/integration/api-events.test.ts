import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import { installErrorHandling } from '../../src/api/errors.js';
import { eventsRoutes } from '../../src/api/routes/events.js';
import type { TrainingWorker } from '../../workers/training-worker.js';
import { startTestWorker, createTestApp, tinySpec, waitFor, type TestApp, submitJob, fetchJob } from '../helpers/app.js';

let h: TestApp;
let worker: TrainingWorker;
let base: string;

before(async () => {
  h = await createTestApp('api-events');
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  worker = await startTestWorker(h);
});
after(async () => {
  await worker?.close();
  await h?.close();
});

interface SseEvent { id: string; event: string; data: { type: string; attempt: number; message: string; data: any; createdAt: string } }

interface SseStream {
  status: number;
  headers: Headers;
  /** next event, or null when the stream has ended */
  next(): Promise<SseEvent | null>;
  /** every remaining event until the server ends the stream */
  rest(): Promise<SseEvent[]>;
  comments: string[];
  close(): void;
}

/** A minimal EventSource over fetch: parses id/event/data fields and comment lines. */
async function connect(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const comments: string[] = [];
  let buffer = '';
  let done = false;
  const stream: SseStream = {
    status: res.status,
    headers: res.headers,
    comments,
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) { comments.push(line); continue; }
            const colon = line.indexOf(':');
            fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
          }
          if (fields.data === undefined) continue; // retry: or a comment block
          return { id: fields.id!, event: fields.event!, data: JSON.parse(fields.data) };
        }
        if (done) return null;
        const chunk = await reader.read();
        if (chunk.done) done = true;
        else buffer += chunk.value;
      }
    },
    async rest() {
      const out: SseEvent[] = [];
      for (let e = await stream.next(); e; e = await stream.next()) out.push(e);
      return out;
    },
    close: () => controller.abort(),
  };
  return stream;
}



describe('GET /v1/jobs/:id/events', () => {
  let doneId: string;
  let all: SseEvent[];
  before(async () => {
    doneId = await submitJob(h, tinySpec({ name: 'events-done', training: { epochs: 3, batchSize: 16, seed: 4 } }));
    await waitFor(() => fetchJob(h, doneId), (j) => j.status === 'succeeded', { timeoutMs: 30_000, what: 'succeeded' });
  });

  test('a finished job streams every event in order, epochs with their metrics, then the stream ends', async () => {
    const s = await connect(`${base}/v1/jobs/${doneId}/events`);
    assert.equal(s.status, 200);
    assert.match(s.headers.get('content-type')!, /^text\/event-stream/);
    all = await s.rest();
    assert.deepEqual(all.map((e) => e.event), ['queued', 'started', 'epoch', 'epoch', 'epoch', 'succeeded']);
    assert.deepEqual(all.map((e) => e.data.type), all.map((e) => e.event));
    const ids = all.map((e) => BigInt(e.id));
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, 'ids ascend');
    const rows = await h.prisma.jobEvent.findMany({ where: { jobId: doneId }, orderBy: { id: 'asc' } });
    assert.deepEqual(all.map((e) => e.id), rows.map((r) => String(r.id)));
    assert.equal(all[5]!.data.attempt, 1);
    assert.equal(all[5]!.data.createdAt, rows[5]!.createdAt.toISOString());

    // each epoch event carries that epoch's metrics, the same values GET /metrics answers
    const metrics = (await h.app.inject({ method: 'GET', url: `/v1/jobs/${doneId}/metrics?name=train_loss&name=val_accuracy` })).json();
    const series = (name: string) => metrics.series.find((s: { name: string }) => s.name === name).points;
    const epochs = all.filter((e) => e.event === 'epoch');
    assert.deepEqual(epochs.map((e) => e.data.data.epoch), [1, 2, 3]);
    for (const [i, e] of epochs.entries()) {
      assert.equal(e.data.data.metrics.train_loss, series('train_loss')[i].value);
      assert.equal(e.data.data.metrics.val_accuracy, series('val_accuracy')[i].value);
      assert.equal(e.data.data.step, series('train_loss')[i].step);
    }
  });

  test('reconnecting with Last-Event-ID (or ?after=) sends only the later events', async () => {
    const secondEpoch = all.filter((e) => e.event === 'epoch')[1]!;
    const later = await (await connect(`${base}/v1/jobs/${doneId}/events`, { 'last-event-id': secondEpoch.id })).rest();
    assert.deepEqual(later.map((e) => [e.event, e.id]), all.slice(4).map((e) => [e.event, e.id]));

    const viaQuery = await (await connect(`${base}/v1/jobs/${doneId}/events?after=${all[1]!.id}`)).rest();
    assert.deepEqual(viaQuery.map((e) => e.id), all.slice(2).map((e) => e.id));

    // the header wins over ?after=, as when EventSource reconnects to the URL it started with
    const both = await (await connect(`${base}/v1/jobs/${doneId}/events?after=0`, { 'last-event-id': all[4]!.id })).rest();
    assert.deepEqual(both.map((e) => e.event), ['succeeded']);

    // after the terminal event there is nothing more: the stream ends at once
    const t0 = Date.now();
    const none = await (await connect(`${base}/v1/jobs/${doneId}/events`, { 'last-event-id': all[5]!.id })).rest();
    assert.deepEqual(none, []);
    assert.ok(Date.now() - t0 < 2_000);
  });

  test('a live job streams each epoch as it happens', async () => {
    const id = await submitJob(h, tinySpec({
      name: 'events-live',
      dataset: { name: 'synthetic/spirals', n: 1200, validationSplit: 0.2, seed: 3 },
      model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
      training: { epochs: 8, batchSize: 4, seed: 1 },
    }));
    const s = await connect(`${base}/v1/jobs/${id}/events`);
    const seen: SseEvent[] = [];
    let firstEpochWhileRunning = false;
    for (let e = await s.next(); e; e = await s.next()) {
      seen.push(e);
      if (e.event === 'epoch' && e.data.data.epoch === 1) {
        const job = await fetchJob(h, id);
        firstEpochWhileRunning = job.status === 'running' && job.progress.epoch < 8;
      }
    }
    assert.ok(firstEpochWhileRunning, 'epoch 1 arrived while the job was still training');
    assert.deepEqual(seen.map((e) => e.event), ['queued', 'started', ...Array(8).fill('epoch'), 'succeeded']);
    assert.deepEqual(seen.filter((e) => e.event === 'epoch').map((e) => e.data.data.epoch), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal((await fetchJob(h, id)).status, 'succeeded');
  });

  test('a cancelled job ends its stream with the cancelled event', async () => {
    const id = await submitJob(h, tinySpec({ name: 'events-cancel', training: { epochs: 1000, batchSize: 4, seed: 1 },
      dataset: { name: 'synthetic/xor', n: 1200, validationSplit: 0.2, seed: 3 } }));
    const s = await connect(`${base}/v1/jobs/${id}/events`);
    for (let e = await s.next(); e; e = await s.next()) {
      if (e.event === 'epoch') break;
    }
    await h.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    const rest = await s.rest();
    assert.equal(rest.at(-1)!.event, 'cancelled');
  });

  test('an unknown job is a 404 and a malformed Last-Event-ID a 400, both as JSON errors', async () => {
    const missing = await fetch(`${base}/v1/jobs/00000000-0000-4000-8000-000000000000/events`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, 'NOT_FOUND');
    const bad = await fetch(`${base}/v1/jobs/${doneId}/events`, { headers: { 'last-event-id': 'abc' } });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.details[0].pointer, '/last-event-id');
  });
});

describe('event stream mechanics', () => {
  test('an idle stream sends heartbeats, delivers a new row within a poll, and stops polling when the client leaves', async () => {
    // a separate app with short intervals, over a job row no worker touches; polls are counted
    let polls = 0;
    const jobEvent = h.prisma.jobEvent;
    const counting = new Proxy(h.prisma, {
      get: (target, prop) => prop === 'jobEvent'
        ? { ...jobEvent, findMany: (args: Parameters<typeof jobEvent.findMany>[0]) => { polls++; return jobEvent.findMany(args); }, findFirst: jobEvent.findFirst.bind(jobEvent) }
        : Reflect.get(target, prop),
    });
    const app = Fastify();
    app.setValidatorCompiler(TypeBoxValidatorCompiler);
    installErrorHandling(app);
    await app.register(eventsRoutes, { prefix: '/v1', prisma: counting, pollIntervalMs: 20, heartbeatMs: 50 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const id = randomUUID();
      await h.prisma.job.create({
        data: { id, name: 'idle', status: 'running', spec: {}, specHash: 'x', attempt: 1, events: { create: { type: 'started', attempt: 1, message: 'started' } } },
      });
      const s = await connect(`${url}/v1/jobs/${id}/events`);
      assert.equal((await s.next())!.event, 'started');
      await new Promise((r) => setTimeout(r, 200));
      await h.prisma.jobEvent.create({ data: { jobId: id, type: 'epoch', attempt: 1, message: 'epoch 1 done', data: { epoch: 1 } } });
      const t0 = Date.now();
      const epoch = await s.next();
      assert.equal(epoch!.event, 'epoch');
      assert.ok(Date.now() - t0 < 500, 'delivered within a few polls');
      assert.ok(s.comments.filter((c) => c === ': heartbeat').length >= 2, `heartbeats: ${s.comments.join(' | ')}`);
      assert.ok(polls >= 5, `polled ${polls} times`);

      s.close();
      await new Promise((r) => setTimeout(r, 100));
      const afterLeave = polls;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(polls, afterLeave, 'no more polls once the client has gone');
    } finally {
      await app.close();
    }
  });

  test('closing the app ends open streams instead of waiting for them', async () => {
    const app = Fastify();
    app.setValidatorCompiler(TypeBoxValidatorCompiler);
    installErrorHandling(app);
    await app.register(eventsRoutes, { prefix: '/v1', prisma: h.prisma, pollIntervalMs: 20 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const id = randomUUID();
    await h.prisma.job.create({ data: { id, name: 'open', status: 'running', spec: {}, specHash: 'x', attempt: 1 } });
    const s = await connect(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/jobs/${id}/events`);
    const t0 = Date.now();
    await app.close();
    assert.ok(Date.now() - t0 < 1_000);
    assert.deepEqual(await s.rest(), []);
  });
});
