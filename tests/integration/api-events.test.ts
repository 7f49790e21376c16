import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import { installErrorHandling } from '../../src/api/errors.js';
import { eventsRoutes } from '../../src/api/routes/events.js';
import { createRedis } from '../../src/queue/connection.js';
import { JobEventSubscriber, jobEventsChannel, publishJobEvents } from '../../src/queue/job-events-channel.js';
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
  /** next event, or null when the stream has ended (rejects after `timeoutMs`, default 30 s) */
  next(timeoutMs?: number): Promise<SseEvent | null>;
  /** every remaining event until the server ends the stream */
  rest(timeoutMs?: number): Promise<SseEvent[]>;
  /** comment lines received so far (read continuously, also while nobody calls next) */
  comments: string[];
  /** resolves once `n` comment lines have arrived */
  untilComments(n: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Rejects when `p` has not settled within `ms`: a hung stream fails its test with a message instead of timing the suite out. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms); }),
  ]);
}

/** A minimal EventSource over fetch: a pump parses id/event/data fields and comment lines as they arrive. */
async function connect(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', authorization: `Bearer ${h.adminKey}`, ...headers }, signal: controller.signal });
  const comments: string[] = [];
  const queue: SseEvent[] = [];
  let ended = false;
  let wakeUp: (() => void) | null = null;
  const notify = () => { const w = wakeUp; wakeUp = null; w?.(); };
  const changed = () => new Promise<void>((r) => { wakeUp = r; });
  void (async () => {
    let buffer = '';
    try {
      for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) { comments.push(line); continue; }
            const colon = line.indexOf(':');
            fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
          }
          if (fields.data !== undefined) queue.push({ id: fields.id!, event: fields.event!, data: JSON.parse(fields.data) });
        }
        notify();
      }
    } catch {
      // aborted by close()
    }
    ended = true;
    notify();
  })();
  const waitUntil = async (ready: () => boolean, timeoutMs: number, what: string) => {
    const loop = (async () => { while (!ready()) await changed(); })();
    await within(loop, timeoutMs, what);
  };
  const stream: SseStream = {
    status: res.status,
    headers: res.headers,
    comments,
    async next(timeoutMs = 30_000) {
      await waitUntil(() => queue.length > 0 || ended, timeoutMs, 'event');
      return queue.shift() ?? null;
    },
    async rest(timeoutMs = 30_000) {
      await waitUntil(() => ended, timeoutMs, 'end of the stream');
      return queue.splice(0);
    },
    untilComments: (n, timeoutMs = 10_000) => waitUntil(() => comments.length >= n, timeoutMs, `${n} comment lines`),
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

    // after the terminal event there is nothing more: the stream ends without waiting for a safety poll
    const none = await (await connect(`${base}/v1/jobs/${doneId}/events`, { 'last-event-id': all[5]!.id })).rest();
    assert.deepEqual(none, []);
  });

  test('a live job streams each epoch as it happens, in order, before it ends', async () => {
    // 400 epochs: the job cannot end on its own during this test. It ends only because
    // the test cancels it after seeing epochs 1 and 2, so those arrived while it trained
    // (a stream that held events back until the end would hang here), whatever the load.
    const id = await submitJob(h, tinySpec({
      name: 'events-live',
      dataset: { name: 'synthetic/spirals', n: 1200, validationSplit: 0.2, seed: 3 },
      model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
      training: { epochs: 400, batchSize: 4, seed: 1 },
    }));
    const s = await connect(`${base}/v1/jobs/${id}/events`);
    const seen: SseEvent[] = [];
    while (seen.filter((e) => e.event === 'epoch').length < 2) {
      const e = await s.next();
      assert.ok(e, `the stream ended early after ${seen.map((x) => x.event).join(',')}`);
      seen.push(e);
    }
    const res = await h.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    assert.equal(res.statusCode, 202, res.body);
    seen.push(...(await s.rest()));
    const types = seen.map((e) => e.event);
    assert.deepEqual(types.slice(0, 4), ['queued', 'started', 'epoch', 'epoch']);
    assert.equal(types.at(-1), 'cancelled', 'the stream ends with the cancelled event');
    assert.ok(types.slice(4, -1).every((t) => t === 'epoch'), types.join(','));
    const epochs = seen.filter((e) => e.event === 'epoch').map((e) => e.data.data.epoch);
    assert.deepEqual(epochs, epochs.map((_, i) => i + 1), 'every epoch once, in order');
    assert.ok(epochs.length < 400);
    const rows = await h.prisma.jobEvent.findMany({ where: { jobId: id }, orderBy: { id: 'asc' } });
    assert.deepEqual(seen.map((e) => e.id), rows.map((r) => String(r.id)), 'exactly the stored events, by id');
  });

  test('an unknown job is a 404 and a malformed Last-Event-ID a 400, both as JSON errors', async () => {
    const missing = await fetch(`${base}/v1/jobs/00000000-0000-4000-8000-000000000000/events`, { headers: { authorization: `Bearer ${h.adminKey}` } });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, 'NOT_FOUND');
    const bad = await fetch(`${base}/v1/jobs/${doneId}/events`, { headers: { 'last-event-id': 'abc', authorization: `Bearer ${h.adminKey}` } });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.details[0].pointer, '/last-event-id');
  });
});

describe('event stream mechanics', () => {
  interface EventsApp { url: string; sub: JobEventSubscriber; prefix: string; channel: string; reads(): number; close(): Promise<void> }

  /**
   * A separate events app over h.prisma whose event reads (eventsAfter → jobEvent.findMany)
   * are counted, with a subscriber of its own on `prefix`. safetyPollMs defaults to 10
   * minutes: anything a stream delivers within a test came through pub/sub.
   */
  async function eventsApp(opts: { prefix?: string; safetyPollMs?: number; heartbeatMs?: number } = {}): Promise<EventsApp> {
    let reads = 0;
    const jobEvent = h.prisma.jobEvent;
    const counting = new Proxy(h.prisma, {
      get: (target, prop) => prop === 'jobEvent'
        ? { ...jobEvent, findMany: (args: Parameters<typeof jobEvent.findMany>[0]) => { reads++; return jobEvent.findMany(args); }, findFirst: jobEvent.findFirst.bind(jobEvent) }
        : Reflect.get(target, prop),
    });
    const prefix = opts.prefix ?? `${h.config.queuePrefix}-${randomUUID().slice(0, 8)}`;
    const sub = new JobEventSubscriber(createRedis(h.config.redisUrl, { connectionName: `test-events-${randomUUID().slice(0, 8)}` }), prefix, true);
    await sub.start();
    const app = Fastify();
    app.setValidatorCompiler(TypeBoxValidatorCompiler);
    installErrorHandling(app);
    await app.register(eventsRoutes, { prefix: '/v1', prisma: counting, events: sub, safetyPollMs: opts.safetyPollMs ?? 600_000, heartbeatMs: opts.heartbeatMs });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      sub, prefix, channel: jobEventsChannel(prefix),
      reads: () => reads,
      async close() { await app.close(); await sub.close(); },
    };
  }

  /** A running job row no worker touches, with its 'started' event. */
  async function runningJob(): Promise<string> {
    const id = randomUUID();
    await h.prisma.job.create({
      data: { id, name: 'idle', status: 'running', spec: {}, specHash: 'x', attempt: 1, events: { create: { type: 'started', attempt: 1, message: 'started' } } },
    });
    return id;
  }

  async function addEpoch(id: string, epoch: number): Promise<void> {
    await h.prisma.jobEvent.create({ data: { jobId: id, type: 'epoch', attempt: 1, message: `epoch ${epoch} done`, data: { epoch } } });
  }

  async function subscribers(channel: string): Promise<number> {
    const [, n] = (await h.redis.pubsub('NUMSUB', channel)) as [string, number];
    return Number(n);
  }

  test('an idle stream sends heartbeats, hears of a new row through the subscriber, and stops listening when the client leaves', async () => {
    const e = await eventsApp({ heartbeatMs: 50 });
    try {
      const id = await runningJob();
      const s = await connect(`${e.url}/v1/jobs/${id}/events`);
      assert.equal((await s.next())!.event, 'started');
      await s.untilComments(2);
      assert.deepEqual(new Set(s.comments), new Set([': heartbeat']));
      assert.equal(e.sub.listenerCount(id), 1);

      await addEpoch(id, 1);
      await publishJobEvents(h.redis, e.prefix, id);
      const epoch = await s.next(15_000);
      assert.equal(epoch!.event, 'epoch');
      assert.equal(epoch!.data.data.epoch, 1);

      s.close();
      await waitFor(async () => e.sub.listenerCount(id), (n) => n === 0, { what: 'the stream to stop listening' });
    } finally {
      await e.close();
    }
  });

  test('50 open streams of one job share one subscriber and read Postgres once per message each, never on a timer', async () => {
    const N = 50;
    const e = await eventsApp();
    try {
      const id = await runningJob();
      const streams = await Promise.all(Array.from({ length: N }, () => connect(`${e.url}/v1/jobs/${id}/events`)));
      for (const s of streams) assert.equal((await s.next())!.event, 'started');
      assert.equal(await subscribers(e.channel), 1, 'one subscriber connection for all streams');
      assert.equal(e.sub.listenerCount(id), N);
      assert.equal(e.reads(), N, 'one read per stream to replay');

      for (let epoch = 1; epoch <= 3; epoch++) {
        await addEpoch(id, epoch);
        await publishJobEvents(h.redis, e.prefix, id);
        for (const s of streams) assert.equal((await s.next(15_000))!.data.data.epoch, epoch);
      }
      assert.equal(e.reads(), N + 3 * N, 'one read per stream per message');

      // An observation window, not a bound on our speed: streams that polled every
      // 250 ms would read about 4 × 50 times in it, whatever the load.
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal(e.reads(), 4 * N, 'no reads without a message');
      for (const s of streams) s.close();
      await waitFor(async () => e.sub.listenerCount(id), (n) => n === 0, { what: 'every stream to stop listening' });
    } finally {
      await e.close();
    }
  });

  test('after its Redis connection is dropped the subscriber reconnects, resubscribes, and streams hear of new rows again', async () => {
    const e = await eventsApp();
    try {
      const id = await runningJob();
      const s = await connect(`${e.url}/v1/jobs/${id}/events`);
      assert.equal((await s.next())!.event, 'started');
      const name = e.sub.subscriber.options.connectionName!;
      const clientId = async () => {
        const list = (await h.redis.client('LIST')) as string;
        const line = list.split('\n').find((l) => l.includes(` name=${name} `));
        return line?.match(/^id=(\d+)/)?.[1] ?? null;
      };
      const before = await clientId();
      assert.ok(before, 'the subscriber is connected');
      await h.redis.client('KILL', 'ID', before);
      await waitFor(clientId, (now) => now !== null && now !== before, { what: 'a new subscriber connection' });
      await waitFor(() => subscribers(e.channel), (n) => n === 1, { what: 'the subscription to come back' });

      await addEpoch(id, 1);
      await publishJobEvents(h.redis, e.prefix, id);
      assert.equal((await s.next(15_000))!.data.data.epoch, 1);
      s.close();
    } finally {
      await e.close();
    }
  });

  test('a lost message only delays: the safety poll delivers a row nobody announced', async () => {
    const e = await eventsApp({ safetyPollMs: 100 });
    try {
      const id = await runningJob();
      const s = await connect(`${e.url}/v1/jobs/${id}/events`);
      assert.equal((await s.next())!.event, 'started');
      await addEpoch(id, 1); // no publish
      assert.equal((await s.next(15_000))!.data.data.epoch, 1);
      s.close();
    } finally {
      await e.close();
    }
  });

  test("a worker's events reach an open stream through pub/sub alone, while the job trains", async () => {
    // the worker's prefix; no safety poll within the test: every event came by a message
    const e = await eventsApp({ prefix: h.config.queuePrefix });
    try {
      const id = await submitJob(h, tinySpec({
        name: 'events-pubsub',
        dataset: { name: 'synthetic/spirals', n: 1200, validationSplit: 0.2, seed: 3 },
        model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] },
        training: { epochs: 400, batchSize: 4, seed: 1 },
      }));
      const s = await connect(`${e.url}/v1/jobs/${id}/events`);
      const seen: string[] = [];
      while (seen.filter((t) => t === 'epoch').length < 2) {
        const ev = await s.next();
        assert.ok(ev, 'the stream ended early');
        seen.push(ev.event);
      }
      assert.equal((await h.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` })).statusCode, 202);
      const rest = await s.rest();
      assert.equal(rest.at(-1)!.event, 'cancelled');
    } finally {
      await e.close();
    }
  });

  test('closing the app ends open streams instead of waiting for them', async () => {
    const e = await eventsApp();
    const id = await runningJob();
    const s = await connect(`${e.url}/v1/jobs/${id}/events`);
    assert.equal((await s.next())!.event, 'started');
    await within(e.close(), 10_000, 'app.close() with an open stream');
    assert.deepEqual(await s.rest(), []);
  });
});
