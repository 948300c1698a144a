/**
 * Cancel signals. BullMQ can only cancel a job inside the worker process that holds it, so the API
 * publishes `{jobId}` on one Redis channel that every worker listens to; the holder aborts the
 * compute. Pub/sub is at-most-once, so workers also notice cancellation when a fenced progress
 * write finds the job no longer RUNNING.
 */
import { type Redis } from 'ioredis';
import { cancelChannel } from './names.js';

export async function publishCancel(redis: Redis, prefix: string, jobId: string): Promise<void> {
  await redis.publish(cancelChannel(prefix), JSON.stringify({ jobId }));
}

/** Listen on a dedicated (subscriber-mode) connection; returns a stop function. */
export async function listenForCancels(
  subscriber: Redis,
  prefix: string,
  onCancel: (jobId: string) => void,
): Promise<() => Promise<void>> {
  const channel = cancelChannel(prefix);
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    try {
      const { jobId } = JSON.parse(message) as { jobId?: unknown };
      if (typeof jobId === 'string') onCancel(jobId);
    } catch {
      // Not ours; ignore.
    }
  });
  await subscriber.subscribe(channel);
  return async () => {
    await subscriber.unsubscribe(channel).catch(() => undefined);
  };
}
