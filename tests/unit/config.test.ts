import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { Writable } from 'node:stream';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger, jobLogger } from '../../src/logger.js';

test('an empty environment gives the documented defaults for a developer machine', () => {
  assert.deepEqual(loadConfig({}), {
    port: 3000,
    host: '127.0.0.1',
    databaseUrl: 'postgresql://postgres@127.0.0.1:5432/trainyard',
    redisUrl: 'redis://127.0.0.1:6379',
    workerConcurrency: 1,
    trainerThreads: Math.min(2, os.availableParallelism()),
    dataDir: '/usr/share/datasets',
    logLevel: 'info',
    queuePrefix: 'trainyard',
    workerLockMs: 60000,
    workerStalledIntervalMs: 30000,
    workerMaxStalledCount: 2,
    auth: 'on',
    adminKey: null,
    adminKeyFile: '.trainyard/admin-key',
    rateLimitPerMinute: 600,
    tenantMaxActiveJobs: 100,
    corsOrigins: [],
    metricsToken: null,
    uploadBodyLimit: 256 * 1024 * 1024,
    predictBodyLimit: 160 * 1024 * 1024,
    reconcileIntervalMs: 30000,
    workerMetricsPort: 9464,
    readCacheMs: 250,
    databaseConnectTimeoutMs: 1000,
  });
});

test('every variable overrides its default', () => {
  const config = loadConfig({
    PORT: '8080',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgres://app:pw@db:5432/jobs',
    REDIS_URL: 'rediss://:pw@cache:6380/2',
    WORKER_CONCURRENCY: '4',
    TRAINER_THREADS: '8',
    DATA_DIR: '/data',
    LOG_LEVEL: 'DEBUG',
    QUEUE_PREFIX: 'test-1234',
    WORKER_LOCK_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    WORKER_MAX_STALLED_COUNT: '0',
    TRAINYARD_ADMIN_KEY: 'k'.repeat(64),
    ADMIN_KEY_FILE: '/run/trainyard/admin-key',
    RATE_LIMIT_PER_MINUTE: '60',
    TENANT_MAX_ACTIVE_JOBS: '5',
    CORS_ORIGINS: 'https://a.example, http://localhost:5173',
    METRICS_TOKEN: 'm'.repeat(16),
    UPLOAD_BODY_LIMIT: '4096',
    PREDICT_BODY_LIMIT: '2048',
    RECONCILE_INTERVAL_MS: '0',
    WORKER_METRICS_PORT: '0',
    READ_CACHE_MS: '0',
    DATABASE_CONNECT_TIMEOUT_MS: '250',
  });
  assert.deepEqual(config, {
    port: 8080,
    host: '0.0.0.0',
    databaseUrl: 'postgres://app:pw@db:5432/jobs',
    redisUrl: 'rediss://:pw@cache:6380/2',
    workerConcurrency: 4,
    trainerThreads: 8,
    dataDir: '/data',
    logLevel: 'debug',
    queuePrefix: 'test-1234',
    workerLockMs: 2000,
    workerStalledIntervalMs: 1000,
    workerMaxStalledCount: 0,
    auth: 'on',
    adminKey: 'k'.repeat(64),
    adminKeyFile: '/run/trainyard/admin-key',
    rateLimitPerMinute: 60,
    tenantMaxActiveJobs: 5,
    corsOrigins: ['https://a.example', 'http://localhost:5173'],
    metricsToken: 'm'.repeat(16),
    uploadBodyLimit: 4096,
    predictBodyLimit: 2048,
    reconcileIntervalMs: 0,
    workerMetricsPort: 0,
    readCacheMs: 0,
    databaseConnectTimeoutMs: 250,
  });
});

test('empty variables count as unset, as docker-compose writes FOO=', () => {
  assert.equal(loadConfig({ PORT: '', LOG_LEVEL: '  ' }).port, 3000);
  assert.equal(loadConfig({ LOG_LEVEL: '' }).logLevel, 'info');
});

test('PORT 0 is allowed so tests can ask for a free port', () => {
  assert.equal(loadConfig({ PORT: '0' }).port, 0);
});

test('a ConfigError lists every bad variable at once, with its value and the rule it broke', () => {
  const err = (() => {
    try {
      loadConfig({
        PORT: '70000',
        DATABASE_URL: 'mysql://localhost/trainyard',
        REDIS_URL: 'not a url',
        WORKER_CONCURRENCY: '0',
        TRAINER_THREADS: '1.5',
        LOG_LEVEL: 'verbose',
        QUEUE_PREFIX: 'a:b',
      });
    } catch (e) {
      return e;
    }
    return assert.fail('loadConfig accepted an invalid environment');
  })();
  assert.ok(err instanceof ConfigError);
  assert.deepEqual(
    err.problems.map((p) => p.variable),
    ['PORT', 'DATABASE_URL', 'REDIS_URL', 'WORKER_CONCURRENCY', 'TRAINER_THREADS', 'LOG_LEVEL', 'QUEUE_PREFIX'],
  );
  for (const p of err.problems) assert.match(err.message, new RegExp(`${p.variable}=`));
  assert.match(err.message, /PORT="70000": must be a whole number from 0 to 65535/);
  assert.match(err.message, /DATABASE_URL=.*must start with postgresql:\/\/ or postgres:\/\//);
  assert.match(err.message, /LOG_LEVEL="verbose": must be one of fatal, error, warn, info, debug, trace, silent/);
});

test('numbers must be plain whole numbers, not "3e2", "-1" or "12abc"', () => {
  for (const bad of ['3e2', '-1', '12abc', '0x10']) {
    assert.throws(() => loadConfig({ WORKER_CONCURRENCY: bad }), ConfigError, bad);
  }
});

test('a DATABASE_URL without a database name is rejected', () => {
  assert.throws(() => loadConfig({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432' }), /must name a database/);
});

test('the logger writes pino JSON at the configured level and job loggers carry the job id', () => {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const logger = createLogger({ logLevel: 'info' }, { bindings: { service: 'worker' }, destination });
  logger.debug('hidden');
  jobLogger(logger, 'job-1', { attempt: 2 }).info({ databaseUrl: 'postgresql://u:secret@h/db' }, 'started');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.msg, 'started');
  assert.equal(lines[0]!.jobId, 'job-1');
  assert.equal(lines[0]!.attempt, 2);
  assert.equal(lines[0]!.service, 'worker');
  assert.equal(lines[0]!.level, 30);
  assert.equal(lines[0]!.databaseUrl, '[redacted]');
});

test('AUTH=off is accepted only on a loopback HOST', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) {
    assert.equal(loadConfig({ AUTH: 'off', HOST: host }).auth, 'off', host);
  }
  for (const host of ['0.0.0.0', '::', '10.0.0.5', 'api.example.com', '128.0.0.1']) {
    assert.throws(() => loadConfig({ AUTH: 'off', HOST: host }), (err: ConfigError) => err.problems.some((p) => p.variable === 'AUTH' && /loopback/.test(p.message)), host);
  }
  assert.throws(() => loadConfig({ AUTH: 'maybe' }), ConfigError);
});

test('a short TRAINYARD_ADMIN_KEY is refused without its value in the message', () => {
  assert.throws(() => loadConfig({ TRAINYARD_ADMIN_KEY: 'hunter2' }), (err: ConfigError) => {
    assert.ok(!err.message.includes('hunter2'));
    return err.problems[0]!.variable === 'TRAINYARD_ADMIN_KEY';
  });
});

test('CORS_ORIGINS takes origins only (no paths)', () => {
  assert.throws(() => loadConfig({ CORS_ORIGINS: 'https://a.example/path' }), ConfigError);
  assert.throws(() => loadConfig({ CORS_ORIGINS: '*' }), ConfigError);
});
