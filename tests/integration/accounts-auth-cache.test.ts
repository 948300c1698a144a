/**
 * The per-process cache of user rows (src/modules/accounts/auth-user.ts) never delays a
 * revocation: two API instances of one deployment (same database and Redis prefix); changes made
 * through instance A are enforced by instance B on its very next request, over HTTP and over
 * WebSocket, although B holds a cached copy of the row.
 */
import { authUserCache } from '../../src/modules/accounts/authenticate';
import { authVersionKey } from '../../src/modules/accounts/auth-user';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';

let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  a = await startTestApp();
  b = await startTestApp({ sameDeploymentAs: a });
});

afterAll(async () => {
  await b?.close();
  await a?.close();
});

const ME = '{ me { id role isActive lastLoginAt } }';
const USERS = '{ users(first: 1) { totalCount } }';
const SET_ROLE = `mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { id role } }`;
const DEACTIVATE = `mutation($id: ID!) { deactivateUser(userId: $id) { id isActive } }`;

type Me = { me: { id: string; role: string; isActive: boolean; lastLoginAt: string | null } };

async function admin(t: TestApp) {
  const u = await registerUser(t);
  await setRoleInDb(t, u.id, 'ADMIN');
  return u;
}

/** B has the user's row cached (so what follows is about the cache, not a cold read). */
function expectCachedOnB(userId: string) {
  expect(authUserCache(b.app.services).peek(userId)).toBeDefined();
}

it('a role change on A is enforced on B at once (both directions)', async () => {
  const boss = await admin(a);
  const u = await registerUser(a);
  expect((await b.gql<Me>(ME, {}, u.accessToken)).data!.me.role).toBe('USER');
  expect((await b.gql(USERS, {}, u.accessToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expectCachedOnB(u.id);

  const up = await a.gql(SET_ROLE, { id: u.id, role: 'ADMIN' }, boss.accessToken);
  expect(up.errors).toBeUndefined();
  expect((await b.gql<Me>(ME, {}, u.accessToken)).data!.me.role).toBe('ADMIN');
  expect((await b.gql(USERS, {}, u.accessToken)).errors).toBeUndefined();
  expectCachedOnB(u.id);

  const down = await a.gql(SET_ROLE, { id: u.id, role: 'USER' }, boss.accessToken);
  expect(down.errors).toBeUndefined();
  const refused = await b.gql(USERS, {}, u.accessToken);
  expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect((await b.gql<Me>(ME, {}, u.accessToken)).data!.me.role).toBe('USER');
});

it('a deactivation on A stops the user on B at once, over HTTP and WebSocket', async () => {
  const boss = await admin(a);
  const u = await registerUser(a);
  // Not lazy: one socket stays open across both operations (the second one re-authenticates).
  let closes = 0;
  const client = createClient({
    url: b.wsUrl,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${u.accessToken}` },
    on: { closed: () => closes++ },
  });
  try {
    const overWs = () =>
      new Promise<{ data?: unknown; errors?: readonly { message: string }[] }>(
        (resolve, reject) => {
          let result: { data?: unknown; errors?: readonly { message: string }[] } = {};
          client.subscribe(
            { query: '{ me { id } }' },
            { next: r => (result = r), error: reject, complete: () => resolve(result) },
          );
        },
      );
    expect((await overWs()).data).toEqual({ me: { id: u.id } });
    expect((await b.gql<Me>(ME, {}, u.accessToken)).data!.me.isActive).toBe(true);
    expectCachedOnB(u.id);

    const off = await a.gql(DEACTIVATE, { id: u.id }, boss.accessToken);
    expect(off.errors).toBeUndefined();

    const res = await b.gql(ME, {}, u.accessToken);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // The open socket's next operation re-authenticates: anonymous now, so `me` is refused.
    const ws = await overWs();
    expect(ws.data ?? null).toBeNull();
    expect(ws.errors?.[0]?.message).toMatch(/auth/i);
    expect(closes).toBe(0);
  } finally {
    await client.dispose();
  }
});

it('a login on A (lastLoginAt) shows on B at once', async () => {
  const u = await registerUser(a);
  expect((await b.gql<Me>(ME, {}, u.accessToken)).data!.me.lastLoginAt).toBeNull();
  expectCachedOnB(u.id);
  const login = await a.gql(
    `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`,
    { input: { login: u.username, password: u.password } },
  );
  expect(login.errors).toBeUndefined();
  expect((await b.gql<Me>(ME, {}, u.accessToken)).data!.me.lastLoginAt).not.toBeNull();
});

it('logout on A refuses the token on B at once (deny-list read on every request)', async () => {
  const u = await registerUser(a);
  expect((await b.gql(ME, {}, u.accessToken)).status).toBe(200);
  expectCachedOnB(u.id);
  expect((await a.gql('mutation { logout }', {}, u.accessToken)).status).toBe(200);
  expect((await b.gql(ME, {}, u.accessToken)).status).toBe(401);
});

it('serves a cached row while the auth version is unchanged (changes must bump it)', async () => {
  const u = await registerUser(a);
  expect((await b.gql<Me>(ME, {}, u.accessToken)).data!.me.role).toBe('USER');
  // A write that skips bumpAuthVersion is not seen by B's cached copy (within the cache TTL)…
  await a.app.services.orm.em
    .getConnection()
    .execute(`update users set role = 'RESEARCHER' where id = ?`, [u.id]);
  expect((await b.gql<Me>(ME, {}, u.accessToken)).data!.me.role).toBe('USER');
  // …while a fresh instance-local miss (A never cached it) reads the row.
  expect((await a.gql<Me>(ME, {}, u.accessToken)).data!.me.role).toBe('RESEARCHER');
  // With the bump (setRoleInDb does what the API does), B follows at once.
  await setRoleInDb(a, u.id, 'RESEARCHER');
  expect((await b.gql<Me>(ME, {}, u.accessToken)).data!.me.role).toBe('RESEARCHER');
});

it('a lost auth-version key (Redis data loss) never revives a cached row', async () => {
  const u = await registerUser(a);
  expect((await b.gql<Me>(ME, {}, u.accessToken)).data!.me.role).toBe('USER');
  expectCachedOnB(u.id);
  // A change B cannot know about (no bump), then the version key disappears, as after a Redis
  // restart without persistence: the key comes back as a new token, so B's copy is not used.
  await a.app.services.orm.em
    .getConnection()
    .execute(`update users set role = 'RESEARCHER' where id = ?`, [u.id]);
  await b.app.services.redis.del(authVersionKey(u.id));
  expect((await b.gql<Me>(ME, {}, u.accessToken)).data!.me.role).toBe('RESEARCHER');
});
