// Turns the many shapes of "could not connect" (node-postgres, Prisma's driver
// adapter, ioredis, Node's sockets, AggregateError from dual-stack connects) into
// one sentence that says which service, where, what went wrong and how to start it.
import { existsSync, readdirSync } from 'node:fs';
import { redactUrl } from './ensure-database.js';

export type Service = 'postgres' | 'redis';

export type ConnectionProblem = 'refused' | 'timeout' | 'unknown-host' | 'auth' | 'no-database' | 'other';

const SERVICE = {
  postgres: { label: 'Postgres', variable: 'DATABASE_URL', port: 5432 },
  redis: { label: 'Redis', variable: 'REDIS_URL', port: 6379 },
} as const;

const REFUSED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOENT']);
const TIMEOUT = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);
const UNKNOWN_HOST = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME']);
// Postgres SQLSTATEs and Prisma's own codes (P1000 auth, P1001/P1002 unreachable, P1003 no database).
const AUTH = new Set(['28P01', '28000', 'P1000', 'AuthenticationFailed', 'DatabaseAccessDenied']);
const NO_DATABASE = new Set(['3D000', 'P1003', 'DatabaseDoesNotExist']);
const UNREACHABLE_KINDS = new Set(['P1001', 'DatabaseNotReachable', 'ConnectionClosed']);
// The server went away under an open connection (pg_ctl stop, a restart, a failover):
// admin_shutdown, crash_shutdown, cannot_connect_now and SQLSTATE class 08 (connection exception).
const SERVER_GONE = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const TIMEOUT_KINDS = new Set(['P1002', 'SocketTimeout']);

/** Every error object reachable from `err`: causes, AggregateError members, Prisma's driver adapter error. */
function* related(err: unknown, seen = new Set<unknown>()): Generator<Record<string, unknown>> {
  if (err === null || typeof err !== 'object' || seen.has(err)) return;
  seen.add(err);
  const e = err as Record<string, unknown>;
  yield e;
  yield* related(e.cause, seen);
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* related(inner, seen);
  const meta = e.meta as Record<string, unknown> | undefined;
  if (meta && typeof meta === 'object') yield* related(meta.driverAdapterError, seen);
}

export function classifyConnectionError(err: unknown): ConnectionProblem {
  const codes: string[] = [];
  const messages: string[] = [];
  for (const e of related(err)) {
    for (const key of ['code', 'kind', 'errorCode']) if (typeof e[key] === 'string') codes.push(e[key] as string);
    if (typeof e.message === 'string') messages.push(e.message);
  }
  const text = messages.join('\n');
  if (codes.some((c) => AUTH.has(c)) || /NOAUTH|WRONGPASS|invalid password|password authentication failed|no pg_hba\.conf entry|SASL|client password must be a string/i.test(text)) {
    return 'auth';
  }
  if (codes.some((c) => NO_DATABASE.has(c))) return 'no-database';
  if (codes.some((c) => UNKNOWN_HOST.has(c)) || /getaddrinfo/.test(text)) return 'unknown-host';
  if (codes.some((c) => TIMEOUT.has(c) || TIMEOUT_KINDS.has(c)) || /timed? ?out/i.test(text)) return 'timeout';
  if (codes.some((c) => REFUSED.has(c) || UNREACHABLE_KINDS.has(c) || SERVER_GONE.has(c)) ||
    /ECONNREFUSED|Connection is closed|Can't reach database server|Connection terminated/i.test(text)) {
    return 'refused';
  }
  return 'other';
}

export function isConnectionError(err: unknown): boolean {
  return classifyConnectionError(err) !== 'other';
}

/**
 * Postgres (not Redis) is unreachable: an error from Prisma or node-postgres that is a
 * connection problem. The API answers these with 503 DATABASE_UNAVAILABLE, the
 * worker holds its writes and retries them.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const fromPostgres = [...related(err)].some((e) => {
    const name = typeof e.name === 'string' ? e.name : (e.constructor as { name?: string } | undefined)?.name ?? '';
    return name.startsWith('PrismaClient') || name === 'DriverAdapterError' || e.kind === 'postgres' || e.kind === 'DatabaseNotReachable' ||
      /timeout exceeded when trying to connect|Connection terminated/i.test(String(e.message ?? ''));
  });
  if (!fromPostgres) return false;
  const problem = classifyConnectionError(err);
  return problem === 'refused' || problem === 'timeout';
}

function address(service: Service, url: string): string {
  try {
    const u = new URL(url);
    const socketDir = u.searchParams.get('host');
    if (u.hostname === '' && socketDir) return `${socketDir} (unix socket)`;
    return `${u.hostname || '127.0.0.1'}:${u.port || SERVICE[service].port}`;
  } catch {
    return redactUrl(url);
  }
}

function postgresVersionHint(): string {
  try {
    const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
    if (versions.length === 1) return versions[0]!;
  } catch {
    // fall through to the placeholder
  }
  return '<version>';
}

function howToStart(service: Service): string {
  return service === 'postgres'
    ? `Start it with \`docker compose up -d postgres\`, or on this machine with ` +
        `\`pg_ctlcluster --skip-systemctl-redirect ${postgresVersionHint()} main start\``
    : `Start it with \`docker compose up -d redis\`, or on this machine with ` +
        `\`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\``;
}

/** The most specific reason: the driver's own message rather than a wrapper's multi-line one. */
function firstMessage(err: unknown): string {
  const all = [...related(err)];
  for (const e of all) if (typeof e.originalMessage === 'string' && e.originalMessage !== '') return e.originalMessage;
  for (const e of all.reverse()) {
    const line = typeof e.message === 'string' ? e.message.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) : undefined;
    if (line) return line;
  }
  return String(err);
}

export function describeConnectionError(service: Service, url: string, err: unknown): string {
  const { label, variable } = SERVICE[service];
  const at = address(service, url);
  const shown = `${variable}=${redactUrl(url)}`;
  switch (classifyConnectionError(err)) {
    case 'refused':
      return `Cannot connect to ${label} at ${at}: nothing is listening there (connection refused). ${howToStart(service)}. (${shown})`;
    case 'timeout':
      return `Cannot connect to ${label} at ${at}: the connection timed out. Check that the host is up and no firewall blocks the port; ${howToStart(service)}. (${shown})`;
    case 'unknown-host':
      return `Cannot connect to ${label}: the host in ${variable} (${at}) does not resolve. Fix ${variable} (for a local ${label}: ${service === 'postgres' ? 'postgresql://postgres@127.0.0.1:5432/trainyard' : 'redis://127.0.0.1:6379'}). (${shown})`;
    case 'auth':
      return service === 'postgres'
        ? `${label} at ${at} refused the credentials in ${variable}: ${firstMessage(err)}. Put the right user and password in ${variable}, or allow the user in pg_hba.conf. (${shown})`
        : `${label} at ${at} refused the credentials in ${variable}: ${firstMessage(err)}. Put the password in ${variable} (redis://:password@host:6379). (${shown})`;
    case 'no-database':
      return `${label} at ${at} has no database named in ${variable}, and it could not be created: ${firstMessage(err)}. (${shown})`;
    case 'other':
      return `${label} at ${at} failed: ${firstMessage(err)}. (${shown})`;
  }
}
