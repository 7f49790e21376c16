// The API's shapes as the clients (dashboard, CLI) see them: every one is read out of
// src/generated/api-types.ts, which the build generates from the app's OpenAPI
// document — so a route whose answer changes shape breaks the clients' compile.
import type { paths } from '../generated/api-types.js';

type Method = 'get' | 'post' | 'delete';
/** The JSON body of `path`'s `method` answer with `status`. */
export type JsonAnswer<P extends keyof paths, M extends Method & keyof paths[P], S extends number> =
  paths[P][M] extends { responses: infer R }
    ? S extends keyof R
      ? R[S] extends { content: { 'application/json': infer B } } ? B : never
      : never
    : never;

/** The query parameters of `path`'s `method`. */
export type QueryOf<P extends keyof paths, M extends Method & keyof paths[P]> =
  paths[P][M] extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type Job = JsonAnswer<'/v1/jobs/{id}', 'get', 200>;
export type JobList = JsonAnswer<'/v1/jobs', 'get', 200>;
export type JobSummary = JobList['items'][number];
export type JobStatus = Job['status'];
export type JobQuery = QueryOf<'/v1/jobs', 'get'>;
export type MetricHistory = JsonAnswer<'/v1/jobs/{id}/metrics', 'get', 200>;
export type MetricSeries = MetricHistory['series'][number];
export type MetricPoint = MetricSeries['points'][number];
export type MetricQuery = QueryOf<'/v1/jobs/{id}/metrics', 'get'>;
export type MetricNames = JsonAnswer<'/v1/jobs/{id}/metrics/names', 'get', 200>;
export type MultiJobHistory = JsonAnswer<'/v1/metrics', 'get', 200>;
export type MultiJobQuery = QueryOf<'/v1/metrics', 'get'>;
export type CheckpointList = JsonAnswer<'/v1/jobs/{id}/checkpoints', 'get', 200>;
export type Checkpoint = CheckpointList['items'][number];
export type EarlyStoppingList = JsonAnswer<'/v1/jobs/{id}/early-stopping', 'get', 200>;
export type EarlyStoppingDecision = EarlyStoppingList['items'][number];
export type ErrorBody = JsonAnswer<'/v1/jobs', 'post', 400>;
export type ErrorDetail = ErrorBody['error']['details'][number];
export type Diagnosis = NonNullable<Job['diagnosis']>;
export type JobResult = NonNullable<Job['result']>;
export type JobProgress = NonNullable<Job['progress']>;
/** A stored metric value: a number, null, or "NaN" / "Infinity" / "-Infinity". */
export type StoredValue = MetricPoint['value'] | null;
export type Sweep = JsonAnswer<'/v1/sweeps/{id}', 'get', 200>;
export type SweepList = JsonAnswer<'/v1/sweeps', 'get', 200>;
export type SweepSummary = SweepList['items'][number];
export type SweepStatus = Sweep['status'];
export type SweepCounts = Sweep['counts'];
export type SweepBest = NonNullable<Sweep['best']>;
export type SweepQuery = QueryOf<'/v1/sweeps', 'get'>;
export type TrialList = JsonAnswer<'/v1/sweeps/{id}/trials', 'get', 200>;
export type Trial = TrialList['items'][number];
export type TrialQuery = QueryOf<'/v1/sweeps/{id}/trials', 'get'>;
export type SweepDecisionList = JsonAnswer<'/v1/sweeps/{id}/decisions', 'get', 200>;
export type SweepDecision = SweepDecisionList['items'][number];

/** The `data:` of an event from GET /v1/jobs/{id}/events (the route's description). */
export interface JobEventData {
  type: string;
  attempt: number;
  message: string | null;
  data: unknown;
  createdAt: string;
}

/** An epoch event's data: { epoch, step, metrics, decision? } (decision: the early-stopping verdict; its reason is in GET …/early-stopping). */
export interface EpochEventData {
  epoch: number;
  step: number;
  metrics: Record<string, StoredValue>;
  decision?: EarlyStoppingDecision['decision'];
}

export const TERMINAL_EVENTS = ['succeeded', 'failed', 'cancelled', 'pruned'] as const;
export const FINISHED_STATUSES: readonly string[] = ['succeeded', 'failed', 'cancelled', 'pruned'];

/** A stored value as a number (NaN for null and the spelled-out non-finite values). */
export function toNumber(v: StoredValue | undefined): number {
  if (typeof v === 'number') return v;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return NaN;
}
