/**
 * Redis-backed pub/sub shared by API instances and workers (graphql-redis-subscriptions), adapted to
 * type-graphql's `PubSub`. Delivery is at-most-once (Redis pub/sub): payloads must carry absolute
 * state, and clients refetch when they resubscribe. Payloads are JSON, so Dates arrive as strings.
 *
 * Topics: `publish(topic, payload)` or `publish(topic, id, payload)` → Redis channel `topic` or
 * `topic:id`; a `@Subscription({ topics: T, topicId: ({ args }) => args.id })` subscribes to `T:id`.
 */
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import type { PubSub } from 'type-graphql';
import { log } from '../logger.js';

export interface PubSubHandle {
  pubSub: PubSub;
  /** Publishes and resolves once Redis accepted the message. */
  publish(topic: string, idOrPayload: unknown, payload?: unknown): Promise<void>;
  close(): Promise<void>;
}

export function channelOf(topic: string, id?: unknown): string {
  return id === undefined || id === null ? topic : `${topic}:${String(id)}`;
}

/** `prefix` namespaces channels (`<prefix>:<topic>[:id]`), matching REDIS_PREFIX. */
export function createPubSub(redisUrl: string, prefix = 'osk'): PubSubHandle {
  const options = {
    // Keep retrying forever with capped backoff; subscriptions resume after a Redis restart.
    retryStrategy: (times: number) => Math.min(times * 200, 5000),
    maxRetriesPerRequest: null,
    lazyConnect: false,
  };
  const publisher = new Redis(redisUrl, { ...options, connectionName: 'omicselector-pub' });
  const subscriber = new Redis(redisUrl, { ...options, connectionName: 'omicselector-sub' });
  // Without listeners ioredis logs every reconnect error to stderr (and an 'error' without listener
  // crashes older versions): log once per distinct message instead.
  let lastError = '';
  const onError = (err: Error) => {
    if (err.message !== lastError) {
      lastError = err.message;
      log.warn('pub/sub redis connection error', { error: err.message });
    }
  };
  publisher.on('error', onError);
  subscriber.on('error', onError);
  const redisPubSub = new RedisPubSub({ publisher, subscriber, connectionListener: onError });

  const publish = async (topic: string, idOrPayload: unknown, payload?: unknown) => {
    const [channel, body] =
      payload === undefined ? [topic, idOrPayload] : [channelOf(topic, idOrPayload), payload];
    await redisPubSub.publish(`${prefix}:${channel}`, body);
  };

  const pubSub: PubSub = {
    publish(topic: string, ...args: unknown[]) {
      void publish(topic, args[0], args.length > 1 ? args[1] : undefined).catch(err =>
        log.warn('publish failed', { topic, error: String(err) }),
      );
    },
    subscribe(topic: string, dynamicId?: unknown) {
      return redisPubSub.asyncIterableIterator(
        `${prefix}:${channelOf(topic, dynamicId)}`,
      ) as AsyncIterable<unknown>;
    },
  };

  return {
    pubSub,
    publish,
    close: async () => {
      await redisPubSub.close().catch(() => undefined);
    },
  };
}
