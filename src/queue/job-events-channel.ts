// "Job X has new events": a Redis pub/sub channel from the workers (which write the
// events) to the API processes (which stream them, GET /v1/jobs/:id/events).
//
// The message carries only the job id: Postgres stays the truth. A stream that hears
// about its job reads the rows after its cursor, so a message that is lost, late or
// duplicated only delays a delivery (each stream also re-reads on a slow safety
// poll), never reorders or drops one.
//
// One subscriber connection per API process, however many streams are open: the
// JobEventSubscriber dispatches each message to the listeners of that job. ioredis
// resubscribes on its own after a reconnect (autoResubscribe, on by default).
import type { Redis } from 'ioredis';

export function jobEventsChannel(prefix: string): string {
  return `${prefix}:job-events`;
}

/** Called by a worker after a transaction that wrote events of `jobId` has committed. */
export async function publishJobEvents(redis: Redis, prefix: string, jobId: string): Promise<void> {
  await redis.publish(jobEventsChannel(prefix), jobId);
}

export class JobEventSubscriber {
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly channel: string;
  private readonly onMessage = (channel: string, jobId: string): void => {
    if (channel !== this.channel) return;
    for (const listener of this.listeners.get(jobId) ?? []) listener();
  };

  /**
   * `subscriber` becomes a pub/sub connection (it can run no other commands from
   * then on); `ownsConnection`: close() disconnects it.
   */
  constructor(
    readonly subscriber: Redis,
    prefix: string,
    private readonly ownsConnection = false,
  ) {
    this.channel = jobEventsChannel(prefix);
    subscriber.on('message', this.onMessage);
  }

  /**
   * Resolves once Redis confirmed the subscription. Not needed before listen():
   * until then messages are missed and the streams' safety poll covers them.
   */
  async start(): Promise<void> {
    await this.subscriber.subscribe(this.channel);
  }

  /** Calls `listener` on every message for `jobId`; returns the function that stops it. */
  listen(jobId: string, listener: () => void): () => void {
    let set = this.listeners.get(jobId);
    if (!set) this.listeners.set(jobId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(jobId) === set) this.listeners.delete(jobId);
    };
  }

  /** How many listeners (open streams) this job has here. */
  listenerCount(jobId: string): number {
    return this.listeners.get(jobId)?.size ?? 0;
  }

  async close(): Promise<void> {
    this.subscriber.off('message', this.onMessage);
    this.listeners.clear();
    if (this.ownsConnection) {
      this.subscriber.disconnect();
      return;
    }
    await this.subscriber.unsubscribe(this.channel).catch(() => {});
  }
}
