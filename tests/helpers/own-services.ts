// A Redis or Postgres server that one test owns, on a free port, so the test can
// flush, stop and restart it without touching the machine's shared servers.
//
//   const redis = await startOwnRedis();   after(() => redis.destroy());
//   const pg = await startOwnPostgres();   after(() => pg.destroy());
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface OwnRedis {
  port: number;
  url: string;
  /** FLUSHALL: what a restart without persistence does to the data */
  flushAll(): Promise<void>;
  /** SHUTDOWN NOSAVE; resolves once nothing answers on the port */
  stop(): Promise<void>;
  /** starts it again on the same port (empty: no persistence) */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const ping = async (): Promise<boolean> => {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } finally {
      r.disconnect();
    }
  };
  const start = async (): Promise<void> => {
    execFileSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes']);
    await until(`redis-server on ${port}`, ping);
  };
  const command = async (...args: string[]): Promise<void> => {
    const r = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.call(args[0]!, ...args.slice(1)).catch((err: Error) => {
        // SHUTDOWN closes the connection instead of answering
        if (args[0] !== 'SHUTDOWN') throw err;
      });
    } finally {
      r.disconnect();
    }
  };
  const stop = async (): Promise<void> => {
    await command('SHUTDOWN', 'NOSAVE');
    await until(`redis-server on ${port} to stop`, async () => !(await ping().catch(() => false)));
  };
  await start();
  return {
    port, url, start, stop,
    flushAll: () => command('FLUSHALL'),
    destroy: () => stop().catch(() => {}),
  };
}

export interface OwnPostgres {
  port: number;
  /** postgresql://postgres@127.0.0.1:<port>/<database> */
  url(database: string): string;
  /** pg_ctl stop -m immediate (like a crash, and quick even on a loaded machine): open connections are cut, new ones refused */
  stop(): void;
  start(): Promise<void>;
  destroy(): void;
}

function postgresBin(name: string): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  return path.join('/usr/lib/postgresql', versions[0]!, 'bin', name);
}

/** initdb refuses to run as root: everything runs as the postgres user, in a temp dir it owns. */
function asPostgres(bin: string, args: string[]): void {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', postgresBin(bin), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const port = await freePort();
  const root = mkdtempSync(path.join(tmpdir(), 'trainyard-pg-'));
  const ids = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
  const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
  chownSync(root, Number(ids), Number(gid));
  const dataDir = path.join(root, 'data');
  asPostgres('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const url = (database: string): string => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  const start = async (): Promise<void> => {
    asPostgres('pg_ctl', ['-D', dataDir, '-l', path.join(root, 'log'), '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${root} -c fsync=off`, '-w', 'start']);
    await until(`postgres on ${port}`, async () => {
      const c = new pg.Client({ connectionString: url('postgres'), connectionTimeoutMillis: 1000 });
      c.on('error', () => {});
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } finally {
        await c.end().catch(() => {});
      }
    });
  };
  const stop = (): void => asPostgres('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
  await start();
  return {
    port, url, start, stop,
    destroy() {
      try {
        stop();
      } catch {
        // stopped already
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
