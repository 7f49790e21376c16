// The clients' event stream (src/client/api-client.ts followEvents, used by the
// dashboard and `trainyard watch`) against the real events route: a connection that
// drops in the middle of an event is reopened with Last-Event-ID, and every event
// arrives exactly once, in order. The drop is made in the transport (a fetch that
// cuts the first response's body), the service is real.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainyardClient, type StreamedEvent } from '../../src/client/api-client.js';
import { createTestApp, startTestWorker, submitJob, tinySpec, waitFor, fetchJob, type TestApp } from '../helpers/app.js';
import type { TrainingWorker } from '../../workers/training-worker.js';

let h: TestApp;
let worker: TrainingWorker;
let url: string;
before(async () => {
  h = await createTestApp('client-events');
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
  worker = await startTestWorker(h);
});
after(async () => {
  await worker?.close();
  await h?.close();
});

test('a stream cut mid-event is resumed with Last-Event-ID: every event once, in order', async () => {
  const id = await submitJob(h, tinySpec({ name: 'client-events', training: { epochs: 4, batchSize: 16, seed: 7 } }));
  await waitFor(() => fetchJob(h, id), (j) => j.status === 'succeeded', { what: 'the job to succeed' });
  const full = await (await fetch(`${url}/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${h.adminKey}` } })).text();
  const allIds = [...full.matchAll(/^id: (\d+)$/gm)].map((m) => m[1]!);
  assert.ok(allIds.length >= 6, full); // queued, started, 4 epochs, succeeded

  const requests: (string | null)[] = [];
  const cutting: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (!String(input).endsWith('/events')) return res;
    requests.push(new Headers(init?.headers).get('last-event-id'));
    if (requests.length > 1) return res;
    // the first connection delivers the first event and half of the second, then breaks
    const text = await res.text();
    const second = text.indexOf('\nid: ', text.indexOf('id: ') + 1) + 1;
    const cut = second + Math.floor((text.indexOf('\n\n', second) - second) / 2);
    // (error() in start() would discard the queued chunk: break on the read after it)
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new Error('connection reset'));
        sent = true;
        controller.enqueue(new TextEncoder().encode(text.slice(0, cut)));
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  };
  const client = new TrainyardClient({ baseUrl: url, apiKey: h.adminKey, fetch: cutting });
  const seen: StreamedEvent[] = [];
  let reconnects = 0;
  const terminal = await client.followEvents(id, (e) => seen.push(e), { retryMs: 10, onReconnect: () => reconnects++ });

  assert.equal(terminal?.type, 'succeeded');
  assert.deepEqual(seen.map((e) => e.id), allIds);
  assert.equal(reconnects, 1);
  assert.deepEqual(requests, [null, allIds[0]]);
  const epochs = seen.filter((e) => e.type === 'epoch').map((e) => (e.data.data as { epoch: number }).epoch);
  assert.deepEqual(epochs, [1, 2, 3, 4]);
});
