/**
 * The job event bus on Redis pub/sub, wire-compatible with graphql-redis-subscriptions (JSON
 * payload on a channel named `<REDIS_PREFIX>:<topic>`, like the platform's pub/sub). `subscribe`
 * resolves only once Redis confirmed the SUBSCRIBE, which the replay-then-live stream relies on.
 */
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis, type RedisOptions } from 'ioredis';
import { log } from '../logger.js';
import { type EventBus } from '../modules/jobs/job.events.js';

function connection(options: RedisOptions, name: string, extra: RedisOptions = {}): Redis {
  const r = new Redis({
    ...options,
    ...extra,
    keyPrefix: undefined,
    retryStrategy: times => Math.min(times * 200, 5000),
    maxRetriesPerRequest: null,
    connectionName: name,
  });
  let last = '';
  r.on('error', (err: Error) => {
    if (err.message !== last) {
      last = err.message;
      log.warn(`${name} redis connection error`, { error: err.message });
    }
  });
  return r;
}

export interface ClosableBus extends EventBus {
  close(): Promise<void>;
}

export function createEventBus(options: RedisOptions, prefix: string): ClosableBus {
  // Auto-pipelining: the publishes of one tick (a submit's two topics, parallel submits) leave in
  // one write instead of one each; order on the connection is kept.
  const publisher = connection(options, 'omicselector-jobs-pub', { enableAutoPipelining: true });
  const subscriber = connection(options, 'omicselector-jobs-sub');
  const ps = new RedisPubSub({ publisher, subscriber, connectionListener: () => undefined });
  return {
    publish: (topic, payload) => ps.publish(`${prefix}:${topic}`, payload),
    subscribe: (topic, onMessage) => ps.subscribe(`${prefix}:${topic}`, onMessage),
    unsubscribe: id => ps.unsubscribe(id),
    close: async () => {
      await ps.close().catch(() => undefined);
    },
  };
}

/** Publish-only bus for workers (one connection, same wire format). */
export function createPublisher(options: RedisOptions, prefix: string): ClosableBus {
  const publisher = connection(options, 'omicselector-worker-pub');
  return {
    publish: async (topic, payload) => {
      await publisher.publish(`${prefix}:${topic}`, JSON.stringify(payload));
    },
    subscribe: () => Promise.reject(new Error('publish-only bus')),
    unsubscribe: () => undefined,
    close: async () => {
      publisher.disconnect();
    },
  };
}
