// Every setting Trainyard reads from the environment, validated in one place.
// Defaults work on a developer's machine with Postgres and Redis on localhost.
// An empty variable (FOO=) counts as unset, as docker-compose often writes them.
import os from 'node:os';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** PORT: the API's TCP port (0 picks a free one). */
  port: number;
  /** HOST: the address the API listens on. */
  host: string;
  /** DATABASE_URL: Postgres; the database is created if missing. */
  databaseUrl: string;
  /** REDIS_URL: Redis for BullMQ. */
  redisUrl: string;
  /** WORKER_CONCURRENCY: jobs one worker process trains at the same time. */
  workerConcurrency: number;
  /** TRAINER_THREADS: worker_threads per training job (a spec's training.threads may ask for fewer). */
  trainerThreads: number;
  /** DATA_DIR: where optional datasets live (e.g. fashion-mnist/ from Debian's dataset-fashion-mnist). */
  dataDir: string;
  /** LOG_LEVEL: pino level. */
  logLevel: LogLevel;
  /** QUEUE_PREFIX: BullMQ key prefix, so tests and deployments can share one Redis. */
  queuePrefix: string;
  /**
   * WORKER_LOCK_MS (60 s, renewed every half of it), WORKER_STALLED_INTERVAL_MS (30 s),
   * WORKER_MAX_STALLED_COUNT (2): how fast a crashed worker's job is taken over, and how
   * often a job may lose its worker before it fails (src/queue/worker-settings.ts).
   */
  workerLockMs: number;
  workerStalledIntervalMs: number;
  workerMaxStalledCount: number;
  /** AUTH: 'on' (default) or 'off' — off is refused unless HOST is a loopback address. */
  auth: 'on' | 'off';
  /** TRAINYARD_ADMIN_KEY: this value becomes an admin key of the tenant `default` (CI, compose, scripts). */
  adminKey: string | null;
  /** ADMIN_KEY_FILE: where the first start on an empty database writes the admin key it created (mode 0600). */
  adminKeyFile: string;
  /** RATE_LIMIT_PER_MINUTE: requests per key per minute, shared by every API process (on Redis). */
  rateLimitPerMinute: number;
  /** TENANT_MAX_ACTIVE_JOBS: queued + running jobs one tenant may have. */
  tenantMaxActiveJobs: number;
  /** CORS_ORIGINS: comma-separated origins allowed to call the API from a browser; empty: CORS off. */
  corsOrigins: string[];
  /** METRICS_TOKEN: when set, GET /metrics needs `Authorization: Bearer <token>`. */
  metricsToken: string | null;
  /** UPLOAD_BODY_LIMIT: largest checkpoint upload, bytes. */
  uploadBodyLimit: number;
  /** PREDICT_BODY_LIMIT: largest predict body, bytes. */
  predictBodyLimit: number;
  /** RECONCILE_INTERVAL_MS: how often API and workers re-queue jobs Postgres has and BullMQ lost (src/queue/reconciler.ts); 0 = at start only. */
  reconcileIntervalMs: number;
  /** WORKER_METRICS_PORT: each worker's Prometheus /metrics (0 = off). */
  workerMetricsPort: number;
  /** READ_CACHE_MS: how long the API serves a job's status and reduced metric history from memory (src/api/read-cache.ts); 0 = off. */
  readCacheMs: number;
  /** DATABASE_CONNECT_TIMEOUT_MS: how long an API query waits for a Postgres connection (a new one or a free one of the pool) before it answers 503 DATABASE_UNAVAILABLE. */
  databaseConnectTimeoutMs: number;
}

export interface ConfigProblem {
  variable: string;
  value: string;
  message: string;
}

/** Thrown by loadConfig with every invalid variable at once, not just the first. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.variable}=${JSON.stringify(p.value)}: ${p.message}`);
    super(`invalid configuration:\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function defaultTrainerThreads(): number {
  return Math.max(1, Math.min(2, os.availableParallelism()));
}

export const DEFAULTS = {
  PORT: '3000',
  HOST: '127.0.0.1',
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/trainyard',
  REDIS_URL: 'redis://127.0.0.1:6379',
  WORKER_CONCURRENCY: '1',
  DATA_DIR: '/usr/share/datasets',
  LOG_LEVEL: 'info',
  QUEUE_PREFIX: 'trainyard',
  WORKER_LOCK_MS: '60000',
  WORKER_STALLED_INTERVAL_MS: '30000',
  WORKER_MAX_STALLED_COUNT: '2',
  AUTH: 'on',
  ADMIN_KEY_FILE: '.trainyard/admin-key',
  RATE_LIMIT_PER_MINUTE: '600',
  TENANT_MAX_ACTIVE_JOBS: '100',
  UPLOAD_BODY_LIMIT: String(256 * 1024 * 1024),
  PREDICT_BODY_LIMIT: String(160 * 1024 * 1024),
  RECONCILE_INTERVAL_MS: '30000',
  WORKER_METRICS_PORT: '9464',
  READ_CACHE_MS: '250',
  DATABASE_CONNECT_TIMEOUT_MS: '1000',
} as const;

/** 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const problems: ConfigProblem[] = [];
  const read = (name: string, fallback: string): string => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? fallback : v.trim();
  };
  const fail = (variable: string, value: string, message: string): void => {
    problems.push({ variable, value, message });
  };

  const integer = (name: string, fallback: string, min: number, max: number): number => {
    const raw = read(name, fallback);
    const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      fail(name, raw, `must be a whole number from ${min} to ${max}`);
      return Number(fallback);
    }
    return n;
  };

  const url = (name: string, fallback: string, protocols: string[]): string => {
    const raw = read(name, fallback);
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      fail(name, raw, `must be a URL like ${fallback}`);
      return raw;
    }
    if (!protocols.includes(parsed.protocol)) {
      fail(name, raw, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
    } else if (parsed.hostname === '') {
      fail(name, raw, 'has no host name');
    }
    return raw;
  };

  const port = integer('PORT', DEFAULTS.PORT, 0, 65535);

  const host = read('HOST', DEFAULTS.HOST);
  if (/\s/.test(host)) fail('HOST', host, 'must be a host name or IP address without spaces');

  const databaseUrl = url('DATABASE_URL', DEFAULTS.DATABASE_URL, ['postgresql:', 'postgres:']);
  if (!problems.some((p) => p.variable === 'DATABASE_URL')) {
    const dbName = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
    if (dbName === '' || dbName.includes('/')) {
      fail('DATABASE_URL', databaseUrl, 'must name a database, e.g. postgresql://postgres@127.0.0.1:5432/trainyard');
    }
  }
  const redisUrl = url('REDIS_URL', DEFAULTS.REDIS_URL, ['redis:', 'rediss:']);

  const workerConcurrency = integer('WORKER_CONCURRENCY', DEFAULTS.WORKER_CONCURRENCY, 1, 1024);
  const trainerThreads = integer('TRAINER_THREADS', String(defaultTrainerThreads()), 1, 256);

  const dataDir = read('DATA_DIR', DEFAULTS.DATA_DIR);

  const level = read('LOG_LEVEL', DEFAULTS.LOG_LEVEL).toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    fail('LOG_LEVEL', level, `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const logLevel = (LOG_LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : 'info';

  // BullMQ joins prefix, queue name and id with ':', so the prefix must not contain one.
  const queuePrefix = read('QUEUE_PREFIX', DEFAULTS.QUEUE_PREFIX);
  if (!/^[A-Za-z0-9_.-]+$/.test(queuePrefix)) {
    fail('QUEUE_PREFIX', queuePrefix, 'may contain only letters, digits, "_", "." and "-"');
  }

  const workerLockMs = integer('WORKER_LOCK_MS', DEFAULTS.WORKER_LOCK_MS, 500, 3_600_000);
  const workerStalledIntervalMs = integer('WORKER_STALLED_INTERVAL_MS', DEFAULTS.WORKER_STALLED_INTERVAL_MS, 100, 3_600_000);
  const workerMaxStalledCount = integer('WORKER_MAX_STALLED_COUNT', DEFAULTS.WORKER_MAX_STALLED_COUNT, 0, 100);

  const authRaw = read('AUTH', DEFAULTS.AUTH).toLowerCase();
  const auth = authRaw === 'off' ? 'off' : 'on';
  if (authRaw !== 'on' && authRaw !== 'off') fail('AUTH', authRaw, 'must be on or off');
  if (auth === 'off' && !isLoopbackHost(host)) {
    fail('AUTH', authRaw, `off is accepted only when HOST is a loopback address (127.0.0.1, ::1, localhost), not ${host}: anyone who reaches the port would own the service`);
  }
  // a secret: problems name the variable, never its value
  const secret = (name: string, minLength: number): string | null => {
    const v = env[name];
    if (v === undefined || v.trim() === '') return null;
    if (v.length < minLength || !/^[\x21-\x7e]+$/.test(v)) {
      fail(name, '[redacted]', `must be at least ${minLength} printable characters without spaces (e.g. openssl rand -hex 32)`);
      return null;
    }
    return v;
  };
  const adminKey = secret('TRAINYARD_ADMIN_KEY', 32);
  const metricsToken = secret('METRICS_TOKEN', 16);
  const adminKeyFile = read('ADMIN_KEY_FILE', DEFAULTS.ADMIN_KEY_FILE);
  const rateLimitPerMinute = integer('RATE_LIMIT_PER_MINUTE', DEFAULTS.RATE_LIMIT_PER_MINUTE, 1, 1_000_000_000);
  const tenantMaxActiveJobs = integer('TENANT_MAX_ACTIVE_JOBS', DEFAULTS.TENANT_MAX_ACTIVE_JOBS, 1, 1_000_000_000);
  const corsOrigins: string[] = [];
  for (const origin of read('CORS_ORIGINS', '').split(',').map((o) => o.trim()).filter((o) => o !== '')) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      // reported below
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, '')) {
      fail('CORS_ORIGINS', origin, 'each origin must be scheme://host[:port], e.g. https://dashboard.example.com');
    } else {
      corsOrigins.push(parsed.origin);
    }
  }
  const uploadBodyLimit = integer('UPLOAD_BODY_LIMIT', DEFAULTS.UPLOAD_BODY_LIMIT, 1024, 4 * 1024 * 1024 * 1024);
  const predictBodyLimit = integer('PREDICT_BODY_LIMIT', DEFAULTS.PREDICT_BODY_LIMIT, 1024, 4 * 1024 * 1024 * 1024);
  const reconcileIntervalMs = integer('RECONCILE_INTERVAL_MS', DEFAULTS.RECONCILE_INTERVAL_MS, 0, 86_400_000);
  const workerMetricsPort = integer('WORKER_METRICS_PORT', DEFAULTS.WORKER_METRICS_PORT, 0, 65535);
  const readCacheMs = integer('READ_CACHE_MS', DEFAULTS.READ_CACHE_MS, 0, 60_000);
  const databaseConnectTimeoutMs = integer('DATABASE_CONNECT_TIMEOUT_MS', DEFAULTS.DATABASE_CONNECT_TIMEOUT_MS, 100, 600_000);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port, host, databaseUrl, redisUrl, workerConcurrency, trainerThreads, dataDir, logLevel, queuePrefix,
    workerLockMs, workerStalledIntervalMs, workerMaxStalledCount,
    auth, adminKey, adminKeyFile, rateLimitPerMinute, tenantMaxActiveJobs, corsOrigins, metricsToken,
    uploadBodyLimit, predictBodyLimit,
    reconcileIntervalMs, workerMetricsPort, readCacheMs, databaseConnectTimeoutMs,
  };
}
