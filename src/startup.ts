// What every Trainyard process does before it serves: read the configuration,
// make sure Postgres has our database with every migration applied, and that Redis
// answers. A missing service ends the process with one line that says which service,
// where, and how to start it — before any stack trace.
import { Redis } from 'ioredis';
import { ConfigError, loadConfig, type Config } from './config.js';
import { ensureDatabase } from './db/ensure-database.js';
import { describeConnectionError, isConnectionError } from './db/errors.js';
import { migrate } from './db/migrate.js';
import type { Logger } from './logger.js';

/** Prints `line` (and, for unexpected errors, the stack after it) and exits 1. */
export function exitWith(line: string, err?: unknown): never {
  process.stderr.write(`${line}\n`);
  if (err instanceof Error && err.stack && process.env.LOG_LEVEL === 'debug') process.stderr.write(`${err.stack}\n`);
  process.exit(1);
}

export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) exitWith(err.message);
    throw err;
  }
}

export async function preparePostgres(config: Config, logger: Logger): Promise<void> {
  try {
    await ensureDatabase(config.databaseUrl, logger);
    await migrate(config.databaseUrl, logger);
  } catch (err) {
    if (isConnectionError(err)) exitWith(describeConnectionError('postgres', config.databaseUrl, err), err);
    exitWith(`Preparing the database failed: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

export async function checkRedis(config: Config): Promise<void> {
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  redis.on('error', () => {}); // the rejection below carries it
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    exitWith(describeConnectionError('redis', config.redisUrl, err), err);
  } finally {
    redis.disconnect();
  }
}

/** Postgres ready (database created, migrations applied) and Redis answering; otherwise exit 1. */
export async function prepareServices(config: Config, logger: Logger, { migrateDatabase = true } = {}): Promise<void> {
  if (migrateDatabase) await preparePostgres(config, logger);
  await checkRedis(config);
}

/**
 * Calls `stop` on the first SIGTERM or SIGINT, then exits 0 (1 if stop throws).
 * Later signals are ignored: `npm start` forwards a terminal's Ctrl-C to the worker,
 * which may also get it from the terminal itself.
 */
export function onShutdownSignal(logger: Logger, stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.info({ signal }, 'already shutting down');
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop(signal).then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
