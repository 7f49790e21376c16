// GET /v1/jobs/:id/events: the job's events as Server-Sent Events, live.
//
//   id: <job_events.id>
//   event: <type>            queued, started, resumed, retried, requeued, retrying, epoch, succeeded, failed, cancelled
//   data: {"type","attempt","message","data","createdAt"}     an epoch's data: { epoch, step, metrics, decision? }
//
// On connect everything after Last-Event-ID (the header EventSource sends when it
// reconnects) or ?after= is replayed. Then the stream waits: a worker publishes the
// job's id on Redis after it commits events (src/queue/job-events-channel.ts), the
// API process's one subscriber hands the message to this job's open streams, and each
// reads the rows after its cursor from Postgres (the truth; a lost message only
// delays). A slow safety poll (every 5 s) reads too, and notices a job that finished
// or vanished. The stream ends after the terminal event (succeeded, failed,
// cancelled); a comment line every 15 s keeps proxies from closing an idle stream.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Config } from '../../config.js';
import { eventsAfter, isTerminalEvent, terminalEventId, type JobEventRow } from '../../db/repositories/event-reads.js';
import { findJobHeadline } from '../../db/repositories/job-access.js';
import { isFinished } from '../../db/repositories/job-status.js';
import { createRedis } from '../../queue/connection.js';
import { JobEventSubscriber } from '../../queue/job-events-channel.js';
import { ErrorSchema } from '../schemas.js';
import { requestScope, requireJob } from '../scope.js';
import type { AppOptions } from '../app-context.js';
import type { ReadCache } from '../read-cache.js';

export interface EventsRoutesOptions extends Pick<AppOptions, 'prisma' | 'events'> {
  /** without `events`: the route opens its own subscriber on config.redisUrl and closes it with the app */
  config?: Pick<Config, 'redisUrl' | 'queuePrefix'>;
  /** how often an open stream reads and checks its job without being told to (default 5 s) */
  safetyPollMs?: number;
  /** how often an idle stream sends a comment line (default 15 s) */
  heartbeatMs?: number;
  /**
   * the jobs routes' micro-cache: a stream drops the job's entries before it sends
   * events, so a client that was sent an event (the terminal one, say) cannot then
   * read an older status from this process
   */
  readCache?: ReadCache;
}

const PAGE = 500;

const EventId = Type.String({ pattern: '^[0-9]{1,18}$', description: 'a job_events id (the SSE id: of an event)' });

const JobParams = Type.Object({ id: Type.String({ description: 'job id (uuid)' }) });

export function formatSseEvent(row: JobEventRow): string {
  const data = { type: row.type, attempt: row.attempt, message: row.message, data: row.data ?? null, createdAt: row.createdAt.toISOString() };
  return `id: ${row.id}\nevent: ${row.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const eventsRoutes: FastifyPluginAsyncTypebox<EventsRoutesOptions> = async (app, opts) => {
  const { prisma } = opts;
  const safetyPollMs = opts.safetyPollMs ?? 5_000;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  let events = opts.events;
  if (!events) {
    if (!opts.config) throw new Error('eventsRoutes needs a JobEventSubscriber (events) or the config to open one');
    const subscriber = createRedis(opts.config.redisUrl, { connectionName: 'trainyard-api-events' });
    subscriber.on('error', (err) => app.log.warn({ err: err.message }, 'Redis connection error (job events subscriber)'));
    const own = new JobEventSubscriber(subscriber, opts.config.queuePrefix, true);
    // not awaited: with Redis down the API still starts; streams then run on the safety poll
    own.start().catch((err: unknown) => app.log.warn({ err }, 'could not subscribe to job events'));
    app.addHook('onClose', async () => own.close());
    events = own;
  }
  const hub = events;
  /** ends every open stream: server.close() would otherwise wait for them */
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get(
    '/jobs/:id/events',
    {
      exposeHeadRoute: false,
      schema: {
        summary: "A job's events, live (Server-Sent Events)",
        description:
          'text/event-stream. Each event: `id:` (job_events id), `event:` (type: queued, started, resumed, retried, requeued, ' +
          'retrying, epoch, succeeded, failed, cancelled) and `data:` JSON { type, attempt, message, data, createdAt }; an epoch ' +
          "event's data is { epoch, step, metrics, decision? } with that epoch's metrics. Replays the events after the " +
          'Last-Event-ID header (else `after`), then sends new ones as they happen and ends after succeeded, failed or ' +
          'cancelled. A `: heartbeat` comment every 15 s keeps an idle connection open.',
        tags: ['jobs'],
        params: JobParams,
        querystring: Type.Object({ after: Type.Optional(EventId) }),
        headers: Type.Object({ 'last-event-id': Type.Optional(EventId) }),
        response: {
          200: { description: 'the event stream', content: { 'text/event-stream': { schema: Type.String() } } },
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const scope = requestScope(request);
      await requireJob(prisma, request, id);
      let cursor = BigInt(request.headers['last-event-id'] ?? request.query.after ?? '0');
      const log = request.log.child({ jobId: id });

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no', // nginx: do not buffer the stream
      });
      res.write('retry: 1000\n\n');

      let closed = false;
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
      const safety = setInterval(() => wake(true), safetyPollMs);
      // listening before the first read: an event committed during the replay is not missed
      const stopListening = hub.listen(id, () => wake(false));
      const end = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        clearInterval(safety);
        stopListening();
        open.delete(end);
        if (!res.writableEnded) res.end();
      };
      open.add(end);
      request.raw.on('close', end); // the client went away
      res.on('close', end);

      let finishedWithoutEvent = false;
      /**
       * The job is gone, or finished with its terminal event at or before the cursor:
       * nothing more will come. A finished job whose terminal event is still missing
       * (written just after the status) gets one more check.
       */
      const nothingMoreComes = async (): Promise<boolean> => {
        const now = await findJobHeadline(prisma, scope, id);
        if (!now) return true;
        if (!isFinished(now.status)) return false;
        const terminal = await terminalEventId(prisma, scope, id);
        if (terminal === null) {
          if (finishedWithoutEvent) return true;
          finishedWithoutEvent = true;
          return false;
        }
        return terminal <= cursor;
      };

      /** Sends every row after the cursor; true once the terminal event went out. */
      const sendNew = async (): Promise<boolean> => {
        for (;;) {
          const rows = await eventsAfter(prisma, scope, id, cursor, PAGE);
          if (closed) return false;
          if (rows.length > 0) opts.readCache?.invalidate(id);
          for (const row of rows) {
            res.write(formatSseEvent(row));
            cursor = row.id;
            if (isTerminalEvent(row.type)) return true;
          }
          if (rows.length < PAGE) return false;
        }
      };

      // One read at a time per stream; wake-ups during a read coalesce into one more.
      let reading: Promise<void> | null = null;
      let again = false;
      let checkAgain = false;
      const wake = (check: boolean): void => {
        if (closed) return;
        checkAgain ||= check;
        if (reading) {
          again = true;
          return;
        }
        reading = (async () => {
          try {
            do {
              again = false;
              const check = checkAgain;
              checkAgain = false;
              if (await sendNew()) return end();
              if (check && !closed && (await nothingMoreComes())) return end();
            } while (again && !closed);
          } catch (err) {
            // EventSource reconnects with Last-Event-ID and misses nothing
            log.warn({ err }, 'event stream failed; closing it');
            end();
          } finally {
            reading = null;
          }
        })();
      };
      wake(true);
      await reading;
    },
  );
};
