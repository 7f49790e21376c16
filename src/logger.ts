// The process's root logger: pino JSON on stdout, or, when stdout is a terminal,
// human-readable lines (pino-pretty, run by pino as a transport in its own thread, so
// formatting never slows the event loop). Library code never creates a
// logger; it takes one as a parameter and binds what it knows (jobId, attempt)
// with child loggers, so every line of a job can be found by its id.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

export interface LoggerOptions {
  /** Bound to every line, e.g. { service: 'worker' }. */
  bindings?: Record<string, unknown>;
  /** Where lines go (default stdout); tests pass a stream to read them back. */
  destination?: DestinationStream;
  /** human-readable lines instead of JSON (default: when stdout is a terminal and no destination is given) */
  pretty?: boolean;
}

export function createLogger(config: Pick<Config, 'logLevel'>, options: LoggerOptions = {}): Logger {
  const pretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  const logger = pino(
    {
      ...(pretty && {
        transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } },
      }),
      level: config.logLevel,
      base: { pid: process.pid, ...options.bindings },
      // Secrets never reach the logs, even when someone logs a whole config or request.
      redact: {
        paths: ['databaseUrl', 'redisUrl', 'adminKey', 'metricsToken', 'req.headers.authorization', 'req.headers.cookie'],
        censor: '[redacted]',
      },
    },
    options.destination,
  );
  return logger;
}

/** The child logger for one job: every line it writes carries the job id. */
export function jobLogger(logger: Logger, jobId: string, bindings: Record<string, unknown> = {}): Logger {
  return logger.child({ jobId, ...bindings });
}

/** For library calls whose caller does not care about logs (tests, scripts). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
