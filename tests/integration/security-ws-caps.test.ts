/**
 * WebSocket hardening (issue 9): per-user connection cap (close 1008 naming the limit), per-user
 * active-subscription cap (QUOTA_EXCEEDED naming the limit; released on complete and on close),
 * the HTTP rate-limit budget shared by WebSocket operations (RATE_LIMITED), maximum message size
 * (close 1009, the server lives on), connection-init timeout (4408), keep-alive (a socket that
 * does not answer pings is dropped) and closing at access-token expiry (4403).
 */
import { once } from 'node:events';
import WebSocket from 'ws';
import { TokenSigner } from '../../src/modules/accounts/tokens';
import { WS_CLOSE_TOO_MANY_CONNECTIONS } from '../../src/server';
import { registerUser, startTestApp, type TestApp } from '../helpers/app';
import { subscribe, wsClient } from '../helpers/ws';

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const ME = '{ me { id } }';
const SUB = 'subscription { myJobUpdates { seq } }';

type ErrorList = Array<{ message: string; extensions?: { code?: string } }>;

/** A raw graphql-transport-ws socket, for the cases the client library hides. */
async function rawSocket(
  url: string,
  options: WebSocket.ClientOptions = {},
): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string; at: number }> }> {
  const ws = new WebSocket(url, 'graphql-transport-ws', options);
  const closed = new Promise<{ code: number; reason: string; at: number }>(resolve =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason), at: Date.now() })),
  );
  ws.on('error', () => undefined); // the close event carries what the tests check
  await once(ws, 'open');
  return { ws, closed };
}

async function initialise(ws: WebSocket, token: string): Promise<void> {
  ws.send(
    JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
  );
  const [data] = (await once(ws, 'message')) as [Buffer];
  expect(JSON.parse(String(data))).toEqual({ type: 'connection_ack' });
}

describe('per-user connection and subscription caps', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { WS_MAX_CONNECTIONS_PER_USER: '2', WS_MAX_SUBSCRIPTIONS_PER_USER: '2' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('closes a connection over the cap with 1008 naming the limit; others are unaffected', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const clients = [wsClient(t.wsUrl, a.accessToken), wsClient(t.wsUrl, a.accessToken)];
    const third = wsClient(t.wsUrl, a.accessToken);
    const other = wsClient(t.wsUrl, b.accessToken);
    try {
      // The clients are lazy: a live subscription keeps each socket open.
      for (const c of clients) {
        expect((await subscribe(c, ME, {}, 0).next()).data).toEqual({ me: { id: a.id } });
        await subscribe(c, SUB, {}, 0).ready;
      }
      await sleep(200);
      const rejected = await subscribe(third, ME, {}, 0)
        .next()
        .then(
          () => undefined,
          (e: unknown) => e as { code: number; reason: string },
        );
      expect(rejected).toMatchObject({
        code: WS_CLOSE_TOO_MANY_CONNECTIONS,
        reason: 'Too many connections (WS_MAX_CONNECTIONS_PER_USER=2)',
      });
      expect((await subscribe(other, ME, {}, 0).next()).data).toEqual({ me: { id: b.id } });

      // Closing one frees its slot.
      await clients[0]!.dispose();
      await sleep(200);
      const again = wsClient(t.wsUrl, a.accessToken);
      clients.push(again);
      await subscribe(again, SUB, {}, 0).ready;
      expect((await subscribe(again, ME, {}, 0).next()).data).toEqual({ me: { id: a.id } });
    } finally {
      await Promise.all([...clients, third, other].map(c => c.dispose()));
    }
  });

  it('refuses subscriptions over the per-user cap across sockets; complete and close free slots', async () => {
    const u = await registerUser(t);
    const one = wsClient(t.wsUrl, u.accessToken);
    const two = wsClient(t.wsUrl, u.accessToken);
    const expectRefused = async (client: typeof one) => {
      let errors: unknown;
      await subscribe(client, SUB, {}, 0)
        .next(5000)
        .catch((e: unknown) => (errors = e));
      expect(errors).toEqual([
        expect.objectContaining({
          message:
            'Too many active subscriptions (WS_MAX_SUBSCRIPTIONS_PER_USER=2); complete one first',
          extensions: expect.objectContaining({ code: 'QUOTA_EXCEEDED' }),
        }),
      ]);
    };
    /** A subscription the server accepted: no error within a short wait. */
    const expectAccepted = async (client: typeof one) => {
      const sub = subscribe(client, SUB, {}, 0);
      await expect(sub.next(400)).rejects.toThrow(/no subscription event/);
      return sub;
    };
    try {
      const s1 = await expectAccepted(one);
      await expectAccepted(two);
      await expectRefused(two);
      await expectRefused(one);
      // Queries and mutations are not subscriptions: not counted.
      expect((await subscribe(one, ME, {}, 0).next()).data).toEqual({ me: { id: u.id } });

      await s1.dispose(); // complete → slot released
      await sleep(200);
      await expectAccepted(one);
      await expectRefused(one);

      await two.dispose(); // socket closed → its subscription released
      await sleep(200);
      await expectAccepted(one);
      await expectRefused(one);
    } finally {
      await Promise.all([one.dispose(), two.dispose()]);
    }
  });
});

describe('rate limit shared by HTTP and WebSocket operations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_PER_USER: '5', RATE_LIMIT_WINDOW: '60' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('counts WebSocket operations against the same per-user budget', async () => {
    const u = await registerUser(t);
    const client = wsClient(t.wsUrl, u.accessToken);
    try {
      for (let i = 0; i < 3; i++) {
        expect((await t.gql(ME, {}, u.accessToken)).errors).toBeUndefined();
      }
      for (let i = 0; i < 2; i++) {
        expect((await subscribe(client, ME, {}, 0).next()).data).toEqual({ me: { id: u.id } });
      }
      let errors: ErrorList | undefined;
      await subscribe(client, ME, {}, 0)
        .next()
        .catch((e: unknown) => (errors = e as ErrorList));
      expect(errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(errors?.[0]?.message).toMatch(/user limit 5 per 60s/);
      const http = await t.gql(ME, {}, u.accessToken);
      expect(http.status).toBe(429);
      expect(http.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    } finally {
      await client.dispose();
    }
  });
});

describe('message size, init timeout, keep-alive, token expiry', () => {
  let t: TestApp;
  let token: string;
  let userId: string;
  beforeAll(async () => {
    t = await startTestApp({
      env: { WS_MAX_PAYLOAD_BYTES: '4096', WS_INIT_TIMEOUT_MS: '300', WS_KEEPALIVE_MS: '250' },
    });
    const u = await registerUser(t);
    token = u.accessToken;
    userId = u.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('closes a socket that sends a frame over WS_MAX_PAYLOAD_BYTES with 1009; the server lives on', async () => {
    const { ws, closed } = await rawSocket(t.wsUrl);
    await initialise(ws, token);
    ws.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: ME, variables: { pad: 'x'.repeat(10_000) } },
      }),
    );
    expect((await closed).code).toBe(1009);

    const client = wsClient(t.wsUrl, token);
    try {
      expect((await subscribe(client, ME, {}, 0).next()).data).toEqual({ me: { id: userId } });
    } finally {
      await client.dispose();
    }
    expect((await t.gql(ME, {}, token)).errors).toBeUndefined();
  });

  it('closes a socket that never sends connection_init with 4408', async () => {
    const started = Date.now();
    const { closed } = await rawSocket(t.wsUrl);
    const { code, at } = await closed;
    expect(code).toBe(4408);
    expect(at - started).toBeLessThan(2500); // WS_INIT_TIMEOUT_MS=300, not graphql-ws's 3 s default
  });

  it('drops a socket that does not answer pings; keeps one that does', async () => {
    const silent = await rawSocket(t.wsUrl, { autoPong: false });
    await initialise(silent.ws, token);
    const alive = await rawSocket(t.wsUrl);
    await initialise(alive.ws, token);
    let pings = 0;
    alive.ws.on('ping', () => pings++);
    const dropped = await Promise.race([silent.closed, sleep(5000).then(() => undefined)]);
    expect(dropped?.code).toBe(1006); // terminated: no close frame
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    expect(pings).toBeGreaterThan(0);
    alive.ws.close();
  });

  it('closes the socket with 4403 when the access token expires', async () => {
    const shortLived = await new TokenSigner(t.config.jwtSecret, 2).sign(userId, 0);
    const client = wsClient(t.wsUrl, shortLived.token);
    try {
      expect((await subscribe(client, ME, {}, 0).next()).data).toEqual({ me: { id: userId } });
      const sub = subscribe(client, SUB, {}, 0);
      const closedBy = await sub
        .next(10_000)
        .catch((e: unknown) => e as { code: number; reason: string });
      expect(closedBy).toMatchObject({ code: 4403, reason: 'Access token expired' });
      expect(Date.now()).toBeGreaterThanOrEqual(shortLived.expiresAt.getTime());
    } finally {
      await client.dispose();
    }
  });
});
