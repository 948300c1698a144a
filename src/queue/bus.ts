/**
 * The job event bus on Redis pub/sub, wire-compatible with graphql-redis-subscriptions (JSON
 * payload on a channel named by the topic). `subscribe` resolves only once Redis confirmed the
 * SUBSCRIBE, which the replay-then-live stream relies on to have no gap.
 */
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import { log } from '../logger.js';
import { type EventBus } from '../modules/jobs/job.events.js';

const options = {
  retryStrategy: (times: number) => Math.min(times * 200, 5000),
  maxRetriesPerRequest: null,
};

function quiet(name: string) {
  let last = '';
  return (err: Error) => {
    if (err.message !== last) {
      last = err.message;
      log.warn(`${name} redis connection error`, { error: err.message });
    }
  };
}

export interface ClosableBus extends EventBus {
  close(): Promise<void>;
}

export function createEventBus(redisUrl: string): ClosableBus {
  const publisher = new Redis(redisUrl, { ...options, connectionName: 'omicselector-jobs-pub' });
  const subscriber = new Redis(redisUrl, { ...options, connectionName: 'omicselector-jobs-sub' });
  const onError = quiet('job events');
  publisher.on('error', onError);
  subscriber.on('error', onError);
  const ps = new RedisPubSub({ publisher, subscriber, connectionListener: onError });
  return {
    publish: (topic, payload) => ps.publish(topic, payload),
    subscribe: (topic, onMessage) => ps.subscribe(topic, onMessage),
    unsubscribe: id => ps.unsubscribe(id),
    close: async () => {
      await ps.close().catch(() => undefined);
    },
  };
}

/** Publish-only bus for workers (one connection, same wire format). */
export function createPublisher(redisUrl: string): ClosableBus {
  const publisher = new Redis(redisUrl, { ...options, connectionName: 'omicselector-worker-pub' });
  publisher.on('error', quiet('worker events'));
  return {
    publish: async (topic, payload) => {
      await publisher.publish(topic, JSON.stringify(payload));
    },
    subscribe: () => Promise.reject(new Error('publish-only bus')),
    unsubscribe: () => undefined,
    close: async () => {
      publisher.disconnect();
    },
  };
}
