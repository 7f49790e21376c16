// Job status machine (DESIGN.md): queued → running → succeeded | failed | cancelled | pruned
// (pruned: a sweep's pruner stopped the trial); a running job whose worker crashed or
// shut down goes back to queued.
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'pruned'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const FINISHED_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'pruned'];
/** statuses a worker may (re)start a job from */
export const ACTIVE_STATUSES: JobStatus[] = ['queued', 'running'];

export function isFinished(status: string): boolean {
  return (FINISHED_STATUSES as readonly string[]).includes(status);
}
