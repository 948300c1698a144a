/**
 * Publishing stored job events through Redis pub/sub (graphql-redis-subscriptions' wire format:
 * JSON on a channel named by the topic), so whichever API instance holds a subscriber's socket
 * delivers them. Events are stored first; publishing is best effort (pub/sub is at-most-once) and
 * subscribers fill any gap from the store by seq.
 */
import { log } from '../../logger.js';
import { type JobEventRecord } from './job.model.js';

export const jobTopic = (jobId: string) => `JOB_EVENTS:${jobId}`;
export const userTopic = (ownerId: string) => `USER_JOB_EVENTS:${ownerId}`;

/** What the pub/sub engine must offer (RedisPubSub from graphql-redis-subscriptions fits). */
export interface EventBus {
  publish(topic: string, payload: unknown): Promise<void>;
  subscribe(topic: string, onMessage: (payload: unknown) => void): Promise<number>;
  unsubscribe(subId: number): void;
}

/** Wire shape: `at` as an ISO string (Redis payloads are JSON). */
export interface JobEventPayload extends Omit<JobEventRecord, 'at'> {
  at: string;
}

export function toPayload(e: JobEventRecord): JobEventPayload {
  return { ...e, at: e.at.toISOString() };
}

export function fromPayload(p: unknown): JobEventRecord | null {
  const o = p as Partial<JobEventPayload> | null;
  if (!o || typeof o.jobId !== 'string' || typeof o.seq !== 'number') return null;
  return { ...(o as JobEventPayload), at: new Date(o.at ?? Date.now()) };
}

/**
 * Publish without waiting: during a Redis outage ioredis queues the command and the caller (a
 * worker's write chain, an API mutation) must not hang on it. Order on one connection is kept.
 */
export function publishEvents(
  bus: Pick<EventBus, 'publish'>,
  events: readonly JobEventRecord[],
): void {
  for (const e of events) {
    const payload = toPayload(e);
    bus
      .publish(jobTopic(e.jobId), payload)
      .catch(err =>
        log.warn('job event publish failed', { jobId: e.jobId, seq: e.seq, error: String(err) }),
      );
    if (e.kind === 'STATUS' || e.kind === 'RESULT') {
      bus.publish(userTopic(e.ownerId), payload).catch(() => undefined);
    }
  }
}
