// One stored value, spelled the same on every route (issue 16): what the worker
// records for an epoch (recordEpoch, the real writer) must come back bit for bit from
// the metric history (JSON pages, maxPoints, CSV), GET /v1/metrics and the
// early-stopping decisions, and agree with the epoch event the SSE stream relays.
// The reference is the value the test wrote, as JavaScript spells it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { recordEpoch } from '../../src/db/repositories/training-records.js';
import type { EarlyStoppingDecision, MetricPoint } from '../../src/core/types.js';
import { insertJob, insertPoints, range, type JsonSeries } from './metrics-helpers.js';

// 0.45520916459044136 is the value the review saw come back as 0.4552091645904414;
// the others need 17 significant digits too (or are edge spellings).
const VALUES = [0.45520916459044136, 0.22115602560419392, 1.7150433996657006, 5.27e-5, 1 / 3, 2 / 3 + 1e-16, 123.456];

interface Answers {
  page: number[];
  reduced: number[];
  several: number[];
  csv: string[];
  csvReduced: string[];
}

async function readBack(h: TestApp, job: string): Promise<Answers> {
  const series = async (url: string) => {
    const res = await h.app.inject({ url });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { series: JsonSeries[] }).series[0]!.points.map((p) => p.value as number);
  };
  const csv = async (url: string) => (await h.app.inject({ url })).body.trimEnd().split('\n').slice(1).map((l) => l.split(',')[3]!);
  return {
    page: await series(`/v1/jobs/${job}/metrics?name=val_loss`),
    reduced: await series(`/v1/jobs/${job}/metrics?name=val_loss&maxPoints=100`),
    several: await series(`/v1/metrics?job=${job}&name=val_loss`),
    csv: await csv(`/v1/jobs/${job}/metrics?name=val_loss&format=csv`),
    csvReduced: await csv(`/v1/jobs/${job}/metrics?name=val_loss&format=csv&maxPoints=100`),
  };
}

function assertSpelledAsWritten(got: Answers, values: number[]): void {
  for (const key of ['page', 'reduced', 'several'] as const) assert.deepEqual(got[key], values, key);
  for (const key of ['csv', 'csvReduced'] as const) assert.deepEqual(got[key], values.map(String), key);
}

describe('a metric value reads back as written, on every route', () => {
  let h: TestApp;

  before(async () => {
    h = await createTestApp('metrics-values');
  });
  after(async () => {
    await h?.close();
  });

  test('values stored exactly come back with every digit from history, CSV, several jobs and early stopping', async () => {
    const job = await insertJob(h.prisma);
    await insertPoints(h.prisma, job, 'val_loss', range(0, VALUES.length), VALUES);
    assertSpelledAsWritten(await readBack(h, job), VALUES);
    for (const [i, v] of VALUES.entries()) {
      await h.prisma.$executeRaw`
        INSERT INTO early_stopping_decisions (job_id, epoch, monitor, value, best, best_epoch, wait, decision, reason)
        VALUES (${job}::uuid, ${i + 1}, 'val_loss', ${String(v)}::float8, ${String(v)}::float8, 1, 0, 'improved', 'r')`;
    }
    const es = (await h.app.inject({ url: `/v1/jobs/${job}/early-stopping` })).json() as { items: { value: number; best: number }[] };
    assert.deepEqual(es.items.map((d) => d.value), VALUES);
    assert.deepEqual(es.items.map((d) => d.best), VALUES);
  });

  test(
    'what recordEpoch writes reads back as the epoch event (the SSE stream) has it',
        async () => {
      const job = await insertJob(h.prisma);
      for (const [i, value] of VALUES.entries()) {
        const epoch = i + 1;
        const points: MetricPoint[] = [{ name: 'val_loss', step: epoch * 10, epoch, value }];
        const decision: EarlyStoppingDecision = {
          epoch, monitor: 'val_loss', value, best: value, bestEpoch: epoch, wait: 0, decision: 'improved', reason: 'improved',
        };
        await recordEpoch(h.prisma, {
          jobId: job, attempt: 1, epoch, step: epoch * 10, points, metrics: { val_loss: value }, decision,
          checkpoint: null, retention: { keepLast: 1, keepBest: false }, progress: { epoch },
        });
      }
      const events = await h.prisma.$queryRaw<{ data: string }[]>`
        SELECT data::text AS data FROM job_events WHERE job_id = ${job}::uuid AND type = 'epoch' ORDER BY id`;
      assert.deepEqual(events.map((e) => (JSON.parse(e.data) as { metrics: { val_loss: number } }).metrics.val_loss), VALUES, 'the events');
      assertSpelledAsWritten(await readBack(h, job), VALUES);
      const es = (await h.app.inject({ url: `/v1/jobs/${job}/early-stopping` })).json() as { items: { value: number; best: number }[] };
      assert.deepEqual(es.items.map((d) => d.value), VALUES, 'early stopping');
    },
  );

  test('another job\'s id is a 404 on early stopping as on the metrics routes', async () => {
    for (const url of [`/v1/jobs/${randomUUID()}/early-stopping`, `/v1/jobs/${randomUUID()}/metrics`]) {
      const res = await h.app.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'NOT_FOUND');
    }
  });
});
