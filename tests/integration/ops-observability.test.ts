/**
 * Rate limits (429 + Retry-After), /metrics after a request, /admin/queues auth, auditLog query.
 */
import { bumpAuthVersion } from '../../src/modules/accounts/auth-user';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';

const ME = '{ me { id } }';
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({
    env: { RATE_LIMIT_PER_USER: '5', RATE_LIMIT_PER_IP: '1000', RATE_LIMIT_WINDOW: '60s' },
  });
});

afterAll(async () => {
  await t?.close();
});

it('rate-limits a user after 5 operations per window with 429, RATE_LIMITED and Retry-After', async () => {
  const u = await registerUser(t);
  const statuses: number[] = [];
  let limited: Awaited<ReturnType<TestApp['gql']>> | undefined;
  for (let i = 0; i < 7; i++) {
    const res = await t.gql(ME, {}, u.accessToken);
    statuses.push(res.status);
    if (res.status === 429) limited ??= res;
  }
  expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  expect(limited!.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  const retry = Number(limited!.headers.get('retry-after'));
  expect(retry).toBeGreaterThanOrEqual(1);
  expect(retry).toBeLessThanOrEqual(60);
  // Another user is not affected.
  const other = await registerUser(t);
  expect((await t.gql(ME, {}, other.accessToken)).status).toBe(200);
});

it('refused access tokens (deny-listed, stale token version) cost the user no budget', async () => {
  // The deny-list check and the counters share one Redis call; a refused token's counts are
  // returned, so only accepted operations count (5 per window here).
  const login = `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`;
  const signIn = async (u: { username: string; password: string }) =>
    (
      await t.gql<{ login: { accessToken: string } }>(login, {
        input: { login: u.username, password: u.password },
      })
    ).data!.login.accessToken;
  const u = await registerUser(t);
  const second = await signIn(u);
  expect((await t.gql('mutation { logout }', {}, u.accessToken)).status).toBe(200); // 1 counted
  for (let i = 0; i < 4; i++) {
    expect((await t.gql(ME, {}, u.accessToken)).status).toBe(401); // revoked: not counted
  }
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await t.gql(ME, {}, second)).status);
  expect(statuses).toEqual([200, 200, 200, 200, 429]);

  const v = await registerUser(t);
  for (let i = 0; i < 3; i++) expect((await t.gql(ME, {}, v.accessToken)).status).toBe(200);
  await t.app.services.orm.em
    .getConnection()
    .execute('update users set token_version = token_version + 1 where id = ?', [v.id]);
  await bumpAuthVersion(t.app.services.redis, v.id); // as the API does after a user change
  for (let i = 0; i < 4; i++) {
    expect((await t.gql(ME, {}, v.accessToken)).status).toBe(401); // stale: not counted
  }
  const fresh = await signIn(v);
  const after: number[] = [];
  for (let i = 0; i < 3; i++) after.push((await t.gql(ME, {}, fresh)).status);
  expect(after).toEqual([200, 200, 429]);
});

it('/metrics exposes the named metrics after a request', async () => {
  const u = await registerUser(t);
  await t.gql('query Me { me { id } }', {}, u.accessToken);
  const res = await fetch(`${t.baseUrl}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  for (const name of [
    // The route label is taken before routing (the /graphql mount would strip it to '/').
    'omicselector_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/graphql",status="200"}',
    'omicselector_graphql_operation_duration_seconds_bucket{le="0.005",operation="Me"',
    'omicselector_queue_depth{pool="cpu",state="waiting"}',
    'omicselector_workers{pool="gpu"}',
    'omicselector_open_subscriptions',
    'omicselector_upload_bytes_total',
    'omicselector_job_duration_seconds',
  ]) {
    expect(text).toContain(name);
  }
});

it('/admin/queues is 401 without credentials, 403 for non-admins, 200 for admins', async () => {
  const u = await registerUser(t);
  expect((await fetch(`${t.baseUrl}/admin/queues`)).status).toBe(401);
  const asUser = await fetch(`${t.baseUrl}/admin/queues`, {
    headers: { authorization: `Bearer ${u.accessToken}` },
  });
  expect(asUser.status).toBe(403);
  const admin = await registerUser(t);
  await setRoleInDb(t, admin.id, 'ADMIN');
  const asAdmin = await fetch(`${t.baseUrl}/admin/queues/api/queues`, {
    headers: { cookie: `omicselector_admin=${admin.accessToken}` },
  });
  expect(asAdmin.status).toBe(200);
  const body = (await asAdmin.json()) as { queues: Array<{ name: string }> };
  expect(body.queues.map(q => q.name).sort()).toEqual(['compute-cpu', 'compute-gpu']);
});

it('auditLog is admin-only and lists login failures and successes, filterable by action', async () => {
  const u = await registerUser(t);
  const login = `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`;
  await t.gql(login, { input: { login: u.email, password: 'wrong password!!' } });
  const admin = await registerUser(t);
  await setRoleInDb(t, admin.id, 'ADMIN');
  const ok = await t.gql<{ login: { accessToken: string } }>(login, {
    input: { login: admin.email, password: admin.password },
  });
  const adminToken = ok.data!.login.accessToken;
  const q = `query($f: AuditLogFilter) { auditLog(first: 50, filter: $f) {
    nodes { action outcome actorId targetId } pageInfo { hasNextPage endCursor } } }`;
  const denied = await t.gql(q, {}, u.accessToken);
  expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  const res = await t.gql<{ auditLog: { nodes: Array<{ action: string; outcome: string }> } }>(
    q,
    { f: { action: 'auth.' } },
    adminToken,
  );
  expect(res.errors).toBeUndefined();
  const nodes = res.data!.auditLog.nodes;
  expect(nodes.every(n => n.action.startsWith('auth.'))).toBe(true);
  expect(nodes.some(n => n.action === 'auth.login' && n.outcome === 'FAILURE')).toBe(true);
  expect(nodes.some(n => n.action === 'auth.login' && n.outcome === 'SUCCESS')).toBe(true);
});
