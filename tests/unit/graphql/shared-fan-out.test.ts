/**
 * sharedFanOutSubscribe (src/graphql/pubsub.ts): a live event object is executed once per
 * (event, operation text, variables used outside the root field's arguments) and every
 * subscriber gets that same result; other subscriptions execute per subscriber as graphql-js does.
 */
import {
  GraphQLBoolean,
  GraphQLInt,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
  type ExecutionResult,
} from 'graphql';
import { sharedFanOutKey, sharedFanOutSubscribe } from '../../../src/graphql/pubsub';

interface Event {
  seq: number;
}

/** A broadcast source: every open stream gets the same event objects. */
function hub() {
  const streams = new Set<{ push(e: Event): void; returned: boolean }>();
  return {
    streams,
    open(): AsyncIterableIterator<Event> {
      const queue: Event[] = [];
      let wake: (() => void) | null = null;
      const s = {
        returned: false,
        push(e: Event) {
          queue.push(e);
          wake?.();
        },
      };
      streams.add(s);
      const it: AsyncIterableIterator<Event> = {
        async next() {
          while (!queue.length && !s.returned) await new Promise<void>(r => (wake = r));
          if (s.returned) return { done: true, value: undefined };
          return { done: false, value: queue.shift()! };
        },
        async return() {
          s.returned = true;
          streams.delete(s);
          wake?.();
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]: () => it,
      };
      return it;
    },
    publish(e: Event) {
      for (const s of streams) s.push(e);
    },
  };
}

function setup() {
  const h = hub();
  const calls = { shared: 0, own: 0 };
  const EventType = new GraphQLObjectType({
    name: 'Event',
    fields: {
      seq: { type: new GraphQLNonNull(GraphQLInt) },
      label: {
        type: GraphQLString,
        args: { upper: { type: GraphQLBoolean } },
        resolve: (e: Event, a: { upper?: boolean }) => (a.upper ? `E${e.seq}` : `e${e.seq}`),
      },
    },
  });
  const args = { jobId: { type: GraphQLString }, afterSeq: { type: GraphQLInt } };
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { x: { type: GraphQLInt } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        shared: {
          type: EventType,
          args,
          subscribe: () => h.open(),
          resolve: (e: Event) => {
            calls.shared++;
            return e;
          },
        },
        own: {
          type: EventType,
          args,
          subscribe: () => h.open(),
          resolve: (e: Event) => {
            calls.own++;
            return e;
          },
        },
      },
    }),
  });
  const subscribe = sharedFanOutSubscribe(new Set(['shared']));
  const open = async (query: string, variableValues: Record<string, unknown> = {}) => {
    const r = await subscribe({ schema, document: parse(query), variableValues });
    if (!(Symbol.asyncIterator in r)) throw new Error(JSON.stringify(r));
    return r as AsyncIterableIterator<ExecutionResult>;
  };
  return { h, calls, schema, open };
}

const SHARED = `subscription S($jobId: String, $afterSeq: Int) {
  shared(jobId: $jobId, afterSeq: $afterSeq) { seq label }
}`;

it('executes each event once for all subscribers of a shared field, whatever their root arguments', async () => {
  const { h, calls, open } = setup();
  const subs = await Promise.all(
    [0, 3, 7].map(afterSeq => open(SHARED, { jobId: 'j1', afterSeq })),
  );
  const pending = subs.map(s => s.next());
  const event = { seq: 8 };
  h.publish(event);
  const results = await Promise.all(pending);
  expect(calls.shared).toBe(1);
  for (const r of results) {
    expect(r.done).toBe(false);
    expect(r.value).toEqual({ data: { shared: { seq: 8, label: 'e8' } } });
    expect(r.value).toBe(results[0]!.value); // the very same ExecutionResult object
  }
  // A new event object is a new execution.
  const next = subs.map(s => s.next());
  h.publish({ seq: 9 });
  await Promise.all(next);
  expect(calls.shared).toBe(2);
});

it('executes per subscriber for fields that are not shared', async () => {
  const { h, calls, open } = setup();
  const subs = await Promise.all([1, 2].map(() => open(`subscription { own { seq } }`)));
  const pending = subs.map(s => s.next());
  h.publish({ seq: 1 });
  const results = await Promise.all(pending);
  expect(calls.own).toBe(2);
  expect(results[0]!.value).not.toBe(results[1]!.value);
  expect(results[1]!.value).toEqual({ data: { own: { seq: 1 } } });
});

it('keeps results apart when variables used in the selection differ', async () => {
  const { h, calls, open } = setup();
  const q = `subscription S($upper: Boolean) { shared(jobId: "j") { seq label(upper: $upper) } }`;
  const [lower, upper, upper2] = await Promise.all([
    open(q, { upper: false }),
    open(q, { upper: true }),
    open(q, { upper: true }),
  ]);
  const pending = [lower!, upper!, upper2!].map(s => s.next());
  h.publish({ seq: 5 });
  const [a, b, c] = await Promise.all(pending);
  expect(a!.value).toEqual({ data: { shared: { seq: 5, label: 'e5' } } });
  expect(b!.value).toEqual({ data: { shared: { seq: 5, label: 'E5' } } });
  expect(c!.value).toBe(b!.value);
  expect(calls.shared).toBe(2);
});

it('builds keys only for single-field subscriptions of the shared set', () => {
  const { schema } = setup();
  const fields = new Set(['shared']);
  const key = (q: string, v: Record<string, unknown> = {}) =>
    sharedFanOutKey({ schema, document: parse(q), variableValues: v }, fields);
  expect(key(SHARED, { jobId: 'a', afterSeq: 1 })).toBe(key(SHARED, { jobId: 'a', afterSeq: 9 }));
  expect(key('subscription { own { seq } }')).toBeNull();
  expect(key('subscription { shared { seq } b: shared { seq } }')).toBeNull();
  expect(key('query { x }')).toBeNull();
});

it('return() reaches the source at once, even with a next() pending', async () => {
  const { h, open } = setup();
  const sub = await open(SHARED, { jobId: 'j', afterSeq: 0 });
  const pending = sub.next();
  expect(h.streams.size).toBe(1);
  await sub.return!();
  expect(h.streams.size).toBe(0);
  await expect(pending).resolves.toEqual({ done: true, value: undefined });
});
