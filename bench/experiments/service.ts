// The real service for the experiments: `node dist/src/main.js` (API + one worker
// process) on a free port, a fresh database and its own BullMQ prefix; jobs go in and
// metrics come out over HTTP only, exactly as a user's would.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'pruned']);

export interface Job { id: string; status: string; result: Record<string, unknown> | null; error: unknown }
export type Series = Record<string, Array<{ epoch: number; step: number; value: number }>>;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => resolve(typeof a === 'object' && a ? a.port : 0)); });
  });
}

export class Service {
  private constructor(private readonly child: ChildProcess, readonly base: string, private readonly key: string,
    private readonly dbUrl: string, readonly dbName: string) {}

  static async start(opts: { threads: number }): Promise<Service> {
    const port = await freePort();
    const dbName = `trainyard_experiments_${Date.now()}_${process.pid}`;
    const admin = process.env.EXPERIMENTS_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
    const dbUrl = admin.replace(/\/[^/]*$/, `/${dbName}`);
    const key = randomBytes(32).toString('hex');
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: dbUrl, QUEUE_PREFIX: `experiments-${dbName}`,
        TRAINYARD_ADMIN_KEY: key, LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '1', TRAINER_THREADS: String(opts.threads),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const s = new Service(child, `http://127.0.0.1:${port}`, key, admin, dbName);
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
      try { if ((await fetch(`${s.base}/ready`)).ok) return s; } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error('the service did not become ready in 120 s');
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(this.base + path, {
      method, headers: { authorization: `Bearer ${this.key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async submit(spec: unknown): Promise<string> {
    return ((await this.call('POST', '/v1/jobs', spec)) as { id: string }).id;
  }

  async wait(id: string): Promise<Job> {
    for (;;) {
      const job = (await this.call('GET', `/v1/jobs/${id}`)) as Job;
      if (TERMINAL.has(job.status)) return job;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async run(spec: unknown): Promise<{ id: string; job: Job; metrics: Series }> {
    const id = await this.submit(spec);
    const job = await this.wait(id);
    if (job.status !== 'succeeded') throw new Error(`job ${id} ended ${job.status}: ${JSON.stringify(job.error)}`);
    return { id, job, metrics: await this.metrics(id) };
  }

  async metrics(id: string): Promise<Series> {
    const r = (await this.call('GET', `/v1/jobs/${id}/metrics?maxPoints=100000`)) as { series: Array<{ name: string; points: Series[string] }> };
    return Object.fromEntries(r.series.map((s) => [s.name, s.points]));
  }

  async checkpoints(id: string): Promise<Array<{ id: string; epoch: number; best: boolean }>> {
    return ((await this.call('GET', `/v1/jobs/${id}/checkpoints`)) as { items: Array<{ id: string; epoch: number; best: boolean }> }).items;
  }

  async download(checkpointId: string): Promise<Uint8Array> {
    const res = await fetch(`${this.base}/v1/checkpoints/${checkpointId}`, { headers: { authorization: `Bearer ${this.key}` } });
    if (!res.ok) throw new Error(`GET /v1/checkpoints/${checkpointId}: ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  async earlyStopping(id: string): Promise<Array<{ epoch: number; decision: string; value: number }>> {
    return ((await this.call('GET', `/v1/jobs/${id}/early-stopping`)) as { items: Array<{ epoch: number; decision: string; value: number }> }).items;
  }

  /** Stops the service and drops its database unless `keepDatabase` (then `npm start` with its DATABASE_URL shows the jobs). */
  async stop(keepDatabase = false): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    if (keepDatabase) return;
    const c = new pg.Client({ connectionString: this.dbUrl });
    await c.connect();
    try { await c.query(`DROP DATABASE IF EXISTS "${this.dbName}"`); } finally { await c.end(); }
  }
}
