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

type ErrorList = Array<{ message: string; extensions?: { code?: string } }>;

let a: TestApp;
let b: TestApp;
let prefix: string;
let probeRedis: Redis;
let probe: WsCaps;

beforeAll(async () => {
  const d = newDeployment(databaseUrl);
  prefix = d.prefix;
  a = await startInProcessApi(d, CAPS);
  b = await startInProcessApi(d, CAPS);
  probeRedis = new Redis(testEnv().redisUrl, { keyPrefix: `${prefix}:`, maxRetriesPerRequest: 1 });
  probe = new WsCaps(probeRedis);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await probe?.close();
  probeRedis?.disconnect();
});

/** Resolves once `fn` holds (polled), or fails naming `what`. */
async function eventually(fn: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

/** Live slots of `userId` in the deployment's cap sets (all instances), read from Redis. */
async function slots(kind: 'conn' | 'sub', userId: string): Promise<number> {
  return probe.count(kind, `user:${userId}`);
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

test('the connection cap counts sockets on every instance; closing one frees a slot anywhere', async () => {
  const user = await registerUser(a);
  const onA = wsClient(a.wsUrl, user.accessToken);
  const onB = wsClient(b.wsUrl, user.accessToken);
  const third = wsClient(a.wsUrl, user.accessToken);
  const fourth = wsClient(b.wsUrl, user.accessToken);
  try {
    // A live subscription keeps each (lazy) socket open; wait until both sockets hold a slot.
    subscribe(onA, SUB, {}, 0);
    subscribe(onB, SUB, {}, 0);
    await eventually(
      async () => (await slots('conn', user.id)) === 2,
      'two sockets counted',
      20_000,
    );
    for (const c of [third, fourth]) {
      expect(await refusal(subscribe(c, ME, {}, 0).next(20_000))).toMatchObject({
        code: WS_CLOSE_TOO_MANY_CONNECTIONS,
        reason: 'Too many connections (WS_MAX_CONNECTIONS_PER_USER=2)',
      });
    }
    // Closing the socket on A frees a slot for a new socket on B.
    await onA.dispose();
    await eventually(async () => (await slots('conn', user.id)) === 1, 'slot freed', 20_000);
    const fresh = wsClient(b.wsUrl, user.accessToken);
    try {
      expect((await subscribe(fresh, ME, {}, 0).next(20_000)).data).toEqual({
        me: { id: user.id },
      });
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
    const first = subscribe(onA, SUB, {}, 0);
    subscribe(onB, SUB, {}, 0);
    await eventually(async () => (await slots('sub', user.id)) === 2, 'two subscriptions', 20_000);
    for (const c of [onA, onB]) {
      const over = (await refusal(subscribe(c, SUB, {}, 0).next(20_000))) as ErrorList;
      expect(over?.[0]?.extensions?.code).toBe('QUOTA_EXCEEDED');
      expect(over?.[0]?.message).toMatch(/WS_MAX_SUBSCRIPTIONS_PER_USER=2/);
    }
    // Completing the one on A lets B subscribe again.
    await first.dispose();
    await eventually(async () => (await slots('sub', user.id)) === 1, 'slot freed', 20_000);
    const again = subscribe(onB, SUB, {}, 0);
    await eventually(async () => (await slots('sub', user.id)) === 2, 'B subscribed again', 20_000);
    expect(again.results).toEqual([]);
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
