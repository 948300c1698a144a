/**
 * Redis-backed pub/sub shared by API instances and workers (graphql-redis-subscriptions), adapted to
 * type-graphql's `PubSub`. Delivery is at-most-once (Redis pub/sub): payloads must carry absolute
 * state, and clients refetch when they resubscribe. Payloads are JSON, so Dates arrive as strings.
 *
 * Topics: `publish(topic, payload)` or `publish(topic, id, payload)` → Redis channel `topic` or
 * `topic:id`; a `@Subscription({ topics: T, topicId: ({ args }) => args.id })` subscribes to `T:id`.
 */
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  Kind,
  OperationTypeNode,
  print,
  subscribe,
  visit,
  type ASTNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import type { PubSub } from 'type-graphql';
import { log } from '../logger.js';

type PromiseOrValue<T> = T | Promise<T>;

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

/** Per event object (graphql-redis-subscriptions parses a message once for all its listeners). */
const executed = new WeakMap<object, Map<string, PromiseOrValue<ExecutionResult>>>();

/**
 * The memo key of a subscription whose root field is one of `fields`, else null: the
 * operation's text and name, plus the values of the variables it uses outside the root field's
 * own arguments (those only choose the event stream, at subscribe time: subscribers of one job
 * with different `afterSeq` still share the execution of each live event).
 */
export function sharedFanOutKey(args: ExecutionArgs, fields: ReadonlySet<string>): string | null {
  const operation = getOperationAST(args.document, args.operationName);
  if (operation?.operation !== OperationTypeNode.SUBSCRIPTION) return null;
  const selections = operation.selectionSet.selections;
  const root = selections[0];
  if (selections.length !== 1 || root?.kind !== Kind.FIELD) return null;
  if (!fields.has(root.name.value)) return null;
  const used = new Set<string>();
  const collect = (node: ASTNode) =>
    visit(node, {
      Argument: (_arg, _key, parent) => (parent === root.arguments ? false : undefined),
      Variable: v => {
        used.add(v.name.value);
      },
    });
  for (const def of args.document.definitions) {
    if (def === operation) {
      collect(root);
      for (const d of operation.directives ?? []) collect(d);
    } else if (def.kind === Kind.FRAGMENT_DEFINITION) collect(def);
  }
  const values = args.variableValues ?? {};
  const vars = [...used].sort().map(name => [name, values[name] ?? null]);
  return JSON.stringify([print(args.document), args.operationName ?? null, vars]);
}

/**
 * A graphql-ws `subscribe`: graphql-js's `subscribe`, except for subscriptions whose root field is
 * one of `fields`. Those fields' results must depend only on the published event and the
 * operation's text, never on the viewer (every check of who subscribes runs when subscribing).
 * Each event object is then executed once per memo key in this process and all its subscribers get
 * that same ExecutionResult (graphql-ws only reads it). Events that are not objects, or that a
 * subscriber read from the store itself, are executed for that subscriber alone.
 */
export const sharedFanOutSubscribe =
  (fields: ReadonlySet<string>) =>
  async (
    args: ExecutionArgs,
  ): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const key = sharedFanOutKey(args, fields);
    if (key === null) return subscribe(args);
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream as ExecutionResult;
    const run = (event: unknown) => execute({ ...args, rootValue: event });
    return mapEvents(stream, event => {
      if (typeof event !== 'object' || event === null) return run(event);
      let byKey = executed.get(event);
      if (!byKey) executed.set(event, (byKey = new Map()));
      let result = byKey.get(key);
      if (result === undefined) {
        result = run(event);
        byKey.set(key, result);
      }
      return result;
    });
  };

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof (v as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

/**
 * Maps a source stream like graphql-js's mapAsyncIterator: `return()` reaches the source at once
 * (not after its pending `next()`), so an unsubscribe frees the Redis subscription immediately.
 */
function mapEvents(
  source: AsyncIterable<unknown>,
  fn: (event: unknown) => PromiseOrValue<ExecutionResult>,
): AsyncIterableIterator<ExecutionResult> {
  const it = source[Symbol.asyncIterator]();
  const close = async () => {
    try {
      await it.return?.();
    } catch {
      // keep the original error
    }
  };
  const map = async (r: IteratorResult<unknown>): Promise<IteratorResult<ExecutionResult>> => {
    if (r.done) return { done: true, value: undefined };
    try {
      return { done: false, value: await fn(r.value) };
    } catch (err) {
      await close();
      throw err;
    }
  };
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    next: async () => map(await it.next()),
    return: async () =>
      it.return ? map(await it.return()) : { done: true as const, value: undefined },
    throw: async (err?: unknown) => {
      if (it.throw) return map(await it.throw(err));
      await close();
      throw err;
    },
    [Symbol.asyncIterator]: () => mapped,
  };
  return mapped;
}
