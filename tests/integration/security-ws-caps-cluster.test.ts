/**
 * The per-user WebSocket connection and subscription caps hold across API instances (issue 9):
 * two in-process APIs of one deployment (same database, Redis prefix and JWT secret) share the
 * counts in Redis, so a user cannot hold N × the cap through N replicas; a closed socket or
 * completed subscription frees its slot for every instance; and the slots of an instance that
 * died without releasing them expire after the cap TTL.
 */
import 'reflect-metadata';
import { Redis } from 'ioredis';
import { WsCaps } from '../../src/graphql/ws-caps';
import { WS_CLOSE_TOO_MANY_CONNECTIONS } from '../../src/server';
import { newDeployment, startInProcessApi } from '../chaos/chaos-helpers';
import { registerUser, type TestApp } from '../helpers/app';
import { databaseUrl, testEnv } from '../helpers/env';
import { subscribe, wsClient } from '../helpers/ws';

const ME = '{ me { id } }';
const SUB = 'subscription { myJobUpdates { seq } }';
const CAPS = { WS_MAX_CONNECTIONS_PER_USER: '2', WS_MAX_SUBSCRIPTIONS_PER_USER: '2' };

type Closed = { code: number; reason: string };
type ErrorList = Array<{ message: string; extensions?: { code?: string } }>;

let a: TestApp;
let b: TestApp;
let prefix: string;

beforeAll(async () => {
  const d = newDeployment(databaseUrl);
  prefix = d.prefix;
  a = await startInProcessApi(d, CAPS);
  b = await startInProcessApi(d, CAPS);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

/** Resolves once `fn` holds (polled), or fails naming `what`. */
async function eventually(fn: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

/**
 * Subscribe; true when the server accepted it (no error within 500 ms; it stays open), false when
 * it answered with errors (the cap).
 */
async function accepted(c: ReturnType<typeof wsClient>): Promise<boolean> {
  const s = subscribe(c, SUB, {}, 0);
  return s.next(500).then(
    () => true,
    (e: unknown) => !Array.isArray(e),
  );
}

test('the connection cap counts sockets on every instance; closing one frees a slot anywhere', async () => {
  const user = await registerUser(a);
  const onA = wsClient(a.wsUrl, user.accessToken);
  const onB = wsClient(b.wsUrl, user.accessToken);
  const third = wsClient(a.wsUrl, user.accessToken);
  const fourth = wsClient(b.wsUrl, user.accessToken);
  try {
    // A live subscription keeps each (lazy) socket open.
    await subscribe(onA, SUB, {}, 300).ready;
    await subscribe(onB, SUB, {}, 300).ready;
    for (const c of [third, fourth]) {
      const refused = await subscribe(c, ME, {}, 0)
        .next()
        .then(
          () => undefined,
          (e: unknown) => e as Closed,
        );
      expect(refused).toMatchObject({
        code: WS_CLOSE_TOO_MANY_CONNECTIONS,
        reason: 'Too many connections (WS_MAX_CONNECTIONS_PER_USER=2)',
      });
    }
    // Closing the socket on A frees a slot for a new socket on B.
    await onA.dispose();
    const fresh = wsClient(b.wsUrl, user.accessToken);
    try {
      await eventually(
        () =>
          subscribe(fresh, ME, {}, 0)
            .next()
            .then(
              r => (r.data as { me: { id: string } } | undefined)?.me.id === user.id,
              () => false,
            ),
        'a socket on B after the one on A closed',
      );
    } finally {
      await fresh.dispose();
    }
  } finally {
    await Promise.all([onA, onB, third, fourth].map(c => c.dispose()));
  }
});

test('the subscription cap counts subscriptions on every instance and frees them on complete', async () => {
  const user = await registerUser(a);
  const onA = wsClient(a.wsUrl, user.accessToken);
  const onB = wsClient(b.wsUrl, user.accessToken);
  try {
    const first = subscribe(onA, SUB, {}, 300);
    await first.ready;
    expect(await accepted(onB)).toBe(true);
    const over = await subscribe(onB, SUB, {}, 0)
      .next()
      .then(
        () => undefined,
        (e: unknown) => e as ErrorList,
      );
    expect(over?.[0]?.extensions?.code).toBe('QUOTA_EXCEEDED');
    expect(over?.[0]?.message).toMatch(/WS_MAX_SUBSCRIPTIONS_PER_USER=2/);
    expect(await accepted(onA)).toBe(false);
    // Completing the one on A lets B subscribe again.
    await first.dispose();
    await eventually(() => accepted(onB), 'a subscription on B after the one on A completed');
  } finally {
    await Promise.all([onA.dispose(), onB.dispose()]);
  }
});

test('slots of an instance that stopped refreshing (crashed) expire; released slots go at once', async () => {
  const redis = new Redis(testEnv().redisUrl, { keyPrefix: `${prefix}:`, maxRetriesPerRequest: 1 });
  const crashed = new WsCaps(redis, 300);
  const live = new WsCaps(redis, 300);
  try {
    const owner = `user:test-${Date.now()}`;
    expect(await crashed.acquire('conn', owner, 'c1', 2)).toBe(true);
    expect(await live.acquire('conn', owner, 'c2', 2)).toBe(true);
    expect(await live.acquire('conn', owner, 'c3', 2)).toBe(false);
    // `live` keeps re-stamping c2 well past the TTL; `crashed` never re-stamps c1.
    crashed.abandon();
    await eventually(
      async () => (await live.count('conn', owner)) === 1,
      'the crashed instance slot expired',
      3000,
    );
    await new Promise(r => setTimeout(r, 700)); // > 2 TTLs: c2 must still be there
    expect(await live.count('conn', owner)).toBe(1);
    expect(await live.acquire('conn', owner, 'c3', 2)).toBe(true);
    await live.release('conn', owner, 'c3');
    expect(await live.count('conn', owner)).toBe(1);
  } finally {
    await live.close();
    redis.disconnect();
  }
});
