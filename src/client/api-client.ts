// The one HTTP client of the dashboard and the CLI: fetch() against the public API,
// `Authorization: Bearer <key>` on every request when a key is set (never in a query
// string), answers typed by ./types.ts. Runs in browsers and in Node ≥ 20.
import type {
  CheckpointList, EarlyStoppingList, ErrorBody, ErrorDetail, Job, JobList, JobQuery, JobEventData,
  MetricHistory, MetricNames, MetricQuery, MultiJobHistory, MultiJobQuery,
  Sweep, SweepDecisionList, SweepList, SweepQuery, Trial, TrialList, TrialQuery,
} from './types.js';
import { TERMINAL_EVENTS } from './types.js';
import { SseParser } from './sse-parser.js';

export interface ClientOptions {
  /** e.g. http://127.0.0.1:3000; '' in a browser means this page's origin */
  baseUrl: string;
  apiKey?: string | null;
  fetch?: typeof fetch;
}

/** The API answered with an error (the one error shape of DESIGN.md). */
export class ApiRequestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];

  constructor(status: number, body: ErrorBody | null, fallback: string) {
    super(body?.error?.message ?? fallback);
    this.name = 'ApiRequestError';
    this.status = status;
    this.code = body?.error?.code ?? `HTTP_${status}`;
    this.details = body?.error?.details ?? [];
  }
}

/** Nothing answered at the base URL (connection refused, unknown host, reset). */
export class ConnectionError extends Error {
  readonly url: string;

  constructor(url: string, cause: unknown) {
    // undici: TypeError('fetch failed') with the socket's error (or an AggregateError of them) as its cause
    const inner = (cause as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } })?.cause;
    const reason = inner?.code ?? inner?.errors?.[0]?.code ?? inner?.message ?? (cause instanceof Error ? cause.message : String(cause));
    super(`cannot reach Trainyard at ${url} (${reason})`);
    this.name = 'ConnectionError';
    this.url = url;
  }
}

type Query = Record<string, string | number | boolean | readonly (string | number)[] | undefined>;

export function queryString(query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) params.append(k, String(one));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

export interface EventStreamOptions {
  /** resume after this event id (sent as Last-Event-ID) */
  lastEventId?: string | null;
  signal?: AbortSignal;
  /** wait before reconnecting when the server sent no `retry:` (ms, default 1000) */
  retryMs?: number;
  /** called when a connection drops and another is about to be made */
  onReconnect?: (lastEventId: string | null, err: unknown) => void;
}

export interface StreamedEvent {
  id: string | null;
  type: string;
  data: JobEventData;
}

export class TrainyardClient {
  readonly baseUrl: string;
  apiKey: string | null;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey ?? null;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}), ...extra };
  }

  /** fetch with the key; connection failures become ConnectionError, error answers ApiRequestError. */
  async raw(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, { ...init, headers: this.headers(init.headers as Record<string, string>) });
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      throw new ConnectionError(this.baseUrl || '(this page)', err);
    }
    if (!res.ok) {
      const text = await res.text();
      let body: ErrorBody | null = null;
      try {
        body = JSON.parse(text) as ErrorBody;
      } catch {
        // not our error shape (a proxy's page): the status line says it
      }
      throw new ApiRequestError(res.status, body, `${res.status} ${res.statusText}: ${text.slice(0, 200)}`);
    }
    return res;
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.raw(path, { ...init, headers: { accept: 'application/json', ...(init.headers as Record<string, string>) } });
    return (await res.json()) as T;
  }

  listJobs(query: JobQuery = {}): Promise<JobList> {
    return this.json(`/v1/jobs${queryString(query)}`);
  }

  getJob(id: string): Promise<Job> {
    return this.json(`/v1/jobs/${encodeURIComponent(id)}`);
  }

  /** POST /v1/jobs; the key makes a retried submission answer with the same job. */
  submitJob(spec: unknown, idempotencyKey?: string): Promise<Job> {
    return this.json('/v1/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
      body: JSON.stringify(spec),
    });
  }

  cancelJob(id: string): Promise<Job> {
    return this.json(`/v1/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
  }

  metrics(id: string, query: MetricQuery = {}): Promise<MetricHistory> {
    return this.json(`/v1/jobs/${encodeURIComponent(id)}/metrics${queryString(query as Query)}`);
  }

  /** The same history as CSV text (format=csv). */
  async metricsCsv(id: string, query: MetricQuery = {}): Promise<string> {
    const res = await this.raw(`/v1/jobs/${encodeURIComponent(id)}/metrics${queryString({ ...(query as Query), format: 'csv' })}`);
    return res.text();
  }

  metricNames(id: string): Promise<MetricNames> {
    return this.json(`/v1/jobs/${encodeURIComponent(id)}/metrics/names`);
  }

  multiJobMetrics(query: MultiJobQuery): Promise<MultiJobHistory> {
    return this.json(`/v1/metrics${queryString(query as Query)}`);
  }

  checkpoints(id: string): Promise<CheckpointList> {
    return this.json(`/v1/jobs/${encodeURIComponent(id)}/checkpoints?limit=100`);
  }

  earlyStopping(id: string): Promise<EarlyStoppingList> {
    return this.json(`/v1/jobs/${encodeURIComponent(id)}/early-stopping`);
  }

  /** POST /v1/sweeps: 400 lists every problem with a pointer into the sweep body. */
  submitSweep(body: unknown): Promise<Sweep> {
    return this.json('/v1/sweeps', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  listSweeps(query: SweepQuery = {}): Promise<SweepList> {
    return this.json(`/v1/sweeps${queryString(query)}`);
  }

  getSweep(id: string): Promise<Sweep> {
    return this.json(`/v1/sweeps/${encodeURIComponent(id)}`);
  }

  sweepTrials(id: string, query: TrialQuery = {}): Promise<TrialList> {
    return this.json(`/v1/sweeps/${encodeURIComponent(id)}/trials${queryString(query)}`);
  }

  /** Every trial of a sweep, following nextCursor (1000 a page). */
  async allSweepTrials(id: string, sort: TrialQuery['sort'] = 'index'): Promise<Trial[]> {
    const items: Trial[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.sweepTrials(id, { sort, limit: 1000, cursor });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return items;
  }

  sweepDecisions(id: string): Promise<SweepDecisionList> {
    return this.json(`/v1/sweeps/${encodeURIComponent(id)}/decisions`);
  }

  cancelSweep(id: string): Promise<Sweep> {
    return this.json(`/v1/sweeps/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
  }

  /** The checkpoint's bytes (.safetensors). */
  async downloadCheckpoint(id: string): Promise<Uint8Array> {
    const res = await this.raw(`/v1/checkpoints/${encodeURIComponent(id)}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  /**
   * Follows GET /v1/jobs/{id}/events until the job's terminal event (resolves with it)
   * or the signal aborts. A dropped connection is reopened with Last-Event-ID, so
   * no event is missed or repeated.
   */
  async followEvents(id: string, onEvent: (e: StreamedEvent) => void, options: EventStreamOptions = {}): Promise<StreamedEvent | null> {
    let lastEventId = options.lastEventId ?? null;
    let retryMs = options.retryMs ?? 1000;
    for (;;) {
      let terminal: StreamedEvent | null = null;
      try {
        const res = await this.raw(`/v1/jobs/${encodeURIComponent(id)}/events`, {
          headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
          signal: options.signal,
        });
        const parser = new SseParser((e) => {
          lastEventId = e.id ?? lastEventId;
          const event: StreamedEvent = { id: e.id, type: e.event, data: JSON.parse(e.data) as JobEventData };
          onEvent(event);
          if ((TERMINAL_EVENTS as readonly string[]).includes(e.event)) terminal = event;
        });
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value);
          if (terminal) {
            await reader.cancel().catch(() => {});
            return terminal;
          }
        }
        if (parser.retryMs !== null) retryMs = parser.retryMs;
        // The stream ended without a terminal event (the server restarted, or the job
        // vanished): a job that has finished has nothing more to say.
        const job = await this.getJob(id);
        if (['succeeded', 'failed', 'cancelled', 'pruned'].includes(job.status) && lastEventId !== null) return null;
        options.onReconnect?.(lastEventId, null);
      } catch (err) {
        if (options.signal?.aborted) return null;
        if (err instanceof ApiRequestError && err.status < 500) throw err; // 404, 401: retrying cannot help
        options.onReconnect?.(lastEventId, err);
      }
      await new Promise((r) => setTimeout(r, retryMs));
      if (options.signal?.aborted) return null;
    }
  }
}
