// The CSV exports: one spelling of every number (the raw export and the reduced one
// agree with each other and with JSON), and a failing export is never a clean 200.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertJob, insertPoints, metricsApp, range } from './metrics-helpers.js';

// Fixed vectors: how JSON (and so every Trainyard answer) spells each value, written
// by hand; Postgres's float8 output would write 5.27e-05 and 1e+21 differently.
const VECTORS: [number, string][] = [
  [5.27e-5, '0.0000527'],
  [0.45520916459044136, '0.45520916459044136'],
  [5.27e-7, '5.27e-7'],
  [1e21, '1e+21'],
  [123456789012345680000, '123456789012345680000'],
  [-0.1, '-0.1'],
  [NaN, 'NaN'],
  [Infinity, 'Infinity'],
  [-Infinity, '-Infinity'],
];

const time = (step: number) => new Date(Date.UTC(2026, 0, 1) + step * 1000).toISOString();

async function renameTable(url: string, from: string, to: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`ALTER TABLE ${from} RENAME TO ${to}`);
  } finally {
    await client.end();
  }
}

describe('CSV exports', () => {
  let db: TestDatabase;
  let app: FastifyInstance;

  before(async () => {
    db = await createTestDatabase('metrics-csv');
    app = await metricsApp(db.prisma);
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  test('the raw export, the reduced export and JSON spell every stored value the same way', async () => {
    const job = await insertJob(db.prisma);
    const steps = range(0, VECTORS.length);
    await insertPoints(db.prisma, job, 'v', steps, VECTORS.map(([v]) => v));
    const expected = ['name,step,epoch,value,time', ...VECTORS.map(([, text], i) => `v,${i},0,${text},${time(i)}`)];
    const raw = await app.inject({ url: `/v1/jobs/${job}/metrics?format=csv` });
    assert.deepEqual(raw.body.trimEnd().split('\n'), expected, 'raw export');
    const whole = await app.inject({ url: `/v1/jobs/${job}/metrics?format=csv&maxPoints=${VECTORS.length}` });
    assert.deepEqual(whole.body.trimEnd().split('\n'), expected, 'maxPoints export');
    const json = await app.inject({ url: `/v1/jobs/${job}/metrics` });
    for (const [v, text] of VECTORS) {
      const spelled = Number.isFinite(v) ? `"value":${text},` : `"value":"${text}",`;
      assert.ok(json.body.includes(spelled), `JSON spells ${text}: ${json.body}`);
    }

    // a reduced export: each kept line is the raw export's line for that step
    const big = await insertJob(db.prisma);
    const n = 5000;
    const values = range(0, n).map((s) => VECTORS[s % VECTORS.length]![0] * (1 + (s % 13)));
    await insertPoints(db.prisma, big, 'v', range(0, n), values);
    const all = (await app.inject({ url: `/v1/jobs/${big}/metrics?format=csv` })).body.trimEnd().split('\n');
    const reduced = (await app.inject({ url: `/v1/jobs/${big}/metrics?format=csv&maxPoints=100` })).body.trimEnd().split('\n');
    assert.ok(reduced.length > 50 && reduced.length <= 101, `${reduced.length} lines`);
    for (const line of reduced.slice(1)) assert.equal(line, all[Number(line.split(',')[1]) + 1]);
  });

  test('a query failing before the first batch is an error answer, not a 200 with a header', async () => {
    const job = await insertJob(db.prisma);
    await insertPoints(db.prisma, job, 'v', range(0, 10), range(0, 10));
    await renameTable(db.url, 'metric_points', 'metric_points_away');
    try {
      const res = await app.inject({ url: `/v1/jobs/${job}/metrics?format=csv` });
      assert.equal(res.statusCode, 500, res.body);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'INTERNAL');
    } finally {
      await renameTable(db.url, 'metric_points_away', 'metric_points');
    }
  });

  test('a query failing in the middle of a streamed export breaks the transfer instead of ending it', async () => {
    const job = await insertJob(db.prisma);
    const n = 300_000; // 30 batches, far more than socket buffers hold while the client pauses
    await insertPoints(db.prisma, job, 'v', range(0, n), range(0, n).map((s) => s / 7));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    let renamed = false;
    try {
      const outcome = await new Promise<{ status: number; complete: boolean; lines: number }>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: `/v1/jobs/${job}/metrics?format=csv` }, (res) => {
          let body = '';
          let paused = false;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
            if (paused) return;
            paused = true;
            res.pause();
            // the database breaks while the client holds the first chunk
            renameTable(db.url, 'metric_points', 'metric_points_away').then(() => {
              renamed = true;
              res.resume();
            }, reject);
          });
          res.on('error', () => {});
          res.on('close', () => resolve({ status: res.statusCode!, complete: res.complete, lines: body.split('\n').length - 1 }));
        });
        req.on('error', () => {});
      });
      assert.equal(outcome.status, 200);
      assert.ok(outcome.lines < n + 1, `only part of the export arrived (${outcome.lines} lines)`);
      assert.equal(outcome.complete, false, 'the response must not end cleanly');
    } finally {
      if (renamed) await renameTable(db.url, 'metric_points_away', 'metric_points');
    }
  });
});
