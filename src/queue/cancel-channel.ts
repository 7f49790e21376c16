// Cancelling a running job: the API publishes the job id on a Redis pub/sub channel,
// every worker process listens and aborts the job if it is training it. The
// cancel_requested column covers a worker that subscribes late (it checks the row
// at every epoch end).
import type { Redis } from 'ioredis';

export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

export async function publishCancel(redis: Redis, prefix: string, jobId: string): Promise<void> {
  await redis.publish(cancelChannel(prefix), jobId);
}

/**
 * Subscribes `subscriber` (a connection dedicated to pub/sub) and calls onCancel
 * with each job id. Returns an unsubscribe function.
 */
export async function subscribeCancels(
  subscriber: Redis,
  prefix: string,
  onCancel: (jobId: string) => void,
): Promise<() => Promise<void>> {
  const channel = cancelChannel(prefix);
  const listener = (ch: string, message: string): void => {
    if (ch === channel) onCancel(message);
  };
  subscriber.on('message', listener);
  await subscriber.subscribe(channel);
  return async () => {
    subscriber.off('message', listener);
    await subscriber.unsubscribe(channel);
  };
}
