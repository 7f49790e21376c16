// GET /v1/jobs/:id/events: the job's events as Server-Sent Events, live.
//
//   id: <job_events.id>
//   event: <type>            queued, started, resumed, retried, requeued, retrying, epoch, succeeded, failed, cancelled
//   data: {"type","attempt","message","data","createdAt"}     an epoch's data: { epoch, step, metrics, decision? }
//
// On connect everything after Last-Event-ID (the header EventSource sends when it
// reconnects) or ?after= is replayed; then the job_events table is polled and new
// rows are sent as they appear. The stream ends after the terminal event
// (succeeded, failed, cancelled); a comment line every 15 s keeps proxies from
// closing an idle stream.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { eventsAfter, isTerminalEvent, jobHeadline, terminalEventId, type JobEventRow } from '../../db/repositories/event-reads.js';
import { isFinished } from '../../db/repositories/job-status.js';
import { ApiError } from '../errors.js';
import { ErrorSchema } from '../schemas.js';
import type { AppOptions } from '../app-context.js';

export interface EventsRoutesOptions extends Pick<AppOptions, 'prisma'> {
  /** how often an open stream looks for new events (default 250 ms) */
  pollIntervalMs?: number;
  /** how often an idle stream sends a comment line (default 15 s) */
  heartbeatMs?: number;
}

const PAGE = 500;
/** how often an idle stream checks that its job still exists and has not finished behind its cursor */
const JOB_CHECK_MS = 5_000;

const EventId = Type.String({ pattern: '^[0-9]{1,18}$', description: 'a job_events id (the SSE id: of an event)' });

const JobParams = Type.Object({ id: Type.String({ description: 'job id (uuid)' }) });

export function formatSseEvent(row: JobEventRow): string {
  const data = { type: row.type, attempt: row.attempt, message: row.message, data: row.data ?? null, createdAt: row.createdAt.toISOString() };
  return `id: ${row.id}\nevent: ${row.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const eventsRoutes: FastifyPluginAsyncTypebox<EventsRoutesOptions> = async (app, opts) => {
  const { prisma } = opts;
  const pollIntervalMs = opts.pollIntervalMs ?? 250;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
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
      const job = await jobHeadline(prisma, id);
      if (!job) throw new ApiError(404, 'NOT_FOUND', `no job with id ${id}`);
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
      let timer: NodeJS.Timeout | undefined;
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
      const end = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        clearTimeout(timer);
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
        const now = await jobHeadline(prisma, id);
        if (!now) return true;
        if (!isFinished(now.status)) return false;
        const terminal = await terminalEventId(prisma, id);
        if (terminal === null) {
          if (finishedWithoutEvent) return true;
          finishedWithoutEvent = true;
          return false;
        }
        return terminal <= cursor;
      };

      let lastCheck = 0;
      const poll = async (): Promise<void> => {
        try {
          for (;;) {
            const rows = await eventsAfter(prisma, id, cursor, PAGE);
            if (closed) return;
            for (const row of rows) {
              res.write(formatSseEvent(row));
              cursor = row.id;
              if (isTerminalEvent(row.type)) return end();
            }
            if (rows.length < PAGE) break;
          }
          if (Date.now() - lastCheck >= JOB_CHECK_MS) {
            lastCheck = Date.now();
            if (await nothingMoreComes()) return end();
          }
          if (!closed) timer = setTimeout(() => void poll(), pollIntervalMs);
        } catch (err) {
          // EventSource reconnects with Last-Event-ID and misses nothing
          log.warn({ err }, 'event stream failed; closing it');
          end();
        }
      };
      await poll();
    },
  );
};
