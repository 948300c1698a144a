/**
 * Accounts over real HTTP against PostgreSQL + Redis: register, login, refresh rotation and reuse
 * detection, logout, API keys, roles and admin operations, and every 401 path.
 */
import { SignJWT } from 'jose';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';

const REGISTER = `mutation($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id email username role } }
}`;
const LOGIN = `mutation($login: String!, $password: String!) {
  login(input: { login: $login, password: $password }) { accessToken refreshToken user { id role } }
}`;
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`;
const ME = `{ me { id username email role isActive } }`;

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const code = (res: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
  res.errors?.[0]?.extensions?.code;

describe('register and login', () => {
  it('registers a USER, returns tokens, and `me` works with the access token', async () => {
    const res = await t.gql<{
      register: { accessToken: string; user: { role: string; email: string } };
    }>(REGISTER, {
      input: { email: 'Carol@Example.org', username: 'Carol', password: 'a long password' },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.register.user).toMatchObject({ email: 'Carol@Example.org', role: 'USER' });
    const me = await t.gql<{ me: { username: string } }>(ME, {}, res.data!.register.accessToken);
    expect(me.data!.me.username).toBe('Carol');
  });

  it('rejects email and username case variants with CONFLICT', async () => {
    const sameEmail = await t.gql(REGISTER, {
      input: { email: 'carol@EXAMPLE.org', username: 'carol2', password: 'a long password' },
    });
    expect(code(sameEmail)).toBe('CONFLICT');
    expect(sameEmail.errors![0]!.extensions!.field).toBe('email');
    const sameName = await t.gql(REGISTER, {
      input: { email: 'other@example.org', username: 'CAROL', password: 'a long password' },
    });
    expect(code(sameName)).toBe('CONFLICT');
    expect(sameName.errors![0]!.extensions!.field).toBe('username');
  });

  it('gives one CONFLICT-free winner for concurrent sign-ups with case variants', async () => {
    const variants = ['race@x.org', 'RACE@x.org', 'Race@X.org', 'rAce@x.org', 'racE@x.ORG'];
    const results = await Promise.all(
      variants.map((email, i) =>
        t.gql(REGISTER, { input: { email, username: `racer${i}`, password: 'a long password' } }),
      ),
    );
    expect(results.filter(r => !r.errors)).toHaveLength(1);
    expect(results.filter(r => code(r) === 'CONFLICT')).toHaveLength(variants.length - 1);
    for (const r of results.filter(r => r.errors)) {
      expect(r.errors![0]!.message).not.toMatch(/constraint|duplicate|lower\(/i);
    }
  });

  it('validates input without echoing the password back', async () => {
    const res = await t.gql(REGISTER, {
      input: { email: 'not-an-email', username: 'x', password: 'short' },
    });
    expect(code(res)).toBe('BAD_USER_INPUT');
    const props = (res.errors![0]!.extensions!.validationErrors as Array<{ property: string }>).map(
      e => e.property,
    );
    expect(props.sort()).toEqual(['email', 'password', 'username']);
    expect(JSON.stringify(res)).not.toContain('"short"');
  });

  it('logs in by email or username, case-insensitively; wrong password is UNAUTHENTICATED 401', async () => {
    const u = await registerUser(t);
    const byEmail = await t.gql(LOGIN, { login: u.email.toUpperCase(), password: u.password });
    expect(byEmail.errors).toBeUndefined();
    const byName = await t.gql(LOGIN, { login: u.username.toUpperCase(), password: u.password });
    expect(byName.errors).toBeUndefined();
    const wrong = await t.gql(LOGIN, { login: u.username, password: 'wrong password!' });
    const unknown = await t.gql(LOGIN, { login: 'nobody-here', password: 'wrong password!' });
    expect(wrong.status).toBe(401);
    expect(code(wrong)).toBe('UNAUTHENTICATED');
    // Same answer for unknown accounts: no user enumeration.
    expect(unknown.status).toBe(401);
    expect(unknown.errors![0]!.message).toBe(wrong.errors![0]!.message);
  });

  it('stores argon2id hashes with OWASP parameters and upgrades old ones at login', async () => {
    const u = await registerUser(t);
    const conn = t.app.services.orm.em.getConnection();
    const [row] = await conn.execute<{ password_hash: string }[]>(
      'select password_hash from users where id = ?',
      [u.id],
    );
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    // Simulate a hash made with older, weaker parameters.
    const argon2 = await import('argon2');
    const weak = await argon2.hash(u.password, {
      type: argon2.argon2id,
      memoryCost: 8192,
      timeCost: 1,
      parallelism: 1,
    });
    await conn.execute('update users set password_hash = ? where id = ?', [weak, u.id]);
    const login = await t.gql(LOGIN, { login: u.email, password: u.password });
    expect(login.errors).toBeUndefined();
    const [after] = await conn.execute<{ password_hash: string }[]>(
      'select password_hash from users where id = ?',
      [u.id],
    );
    expect(after!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('locks an account after repeated failures with RATE_LIMITED and Retry-After', async () => {
    const u = await registerUser(t);
    for (let i = 0; i < 10; i++) {
      const r = await t.gql(LOGIN, { login: u.username, password: `bad password ${i}` });
      expect(code(r)).toBe('UNAUTHENTICATED');
    }
    const locked = await t.gql(LOGIN, { login: u.username, password: u.password });
    expect(code(locked)).toBe('RATE_LIMITED');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('login abuse', () => {
  it('gives aliased logins in one request no extra attempts', async () => {
    const u = await registerUser(t);
    const aliases = Array.from(
      { length: 11 },
      (_, i) =>
        `a${i}: login(input: { login: $login, password: "wrong password ${i}" }) { accessToken }`,
    ).join('\n');
    // Mutations run in order and login is non-null: the first failure ends the operation...
    const batch = await t.gql(`mutation($login: String!) { ${aliases} }`, { login: u.username });
    expect(batch.errors).toHaveLength(1);
    expect(batch.data).toBeNull();
    // ...and every attempt that did run counts towards the lockout.
    for (let i = 0; i < 9; i++) {
      await t.gql(`mutation($login: String!) { ${aliases} }`, { login: u.username });
    }
    const after = await t.gql(LOGIN, { login: u.username, password: u.password });
    expect(code(after)).toBe('RATE_LIMITED');
  });

  it('refuses over-long passwords before hashing', async () => {
    const res = await t.gql(LOGIN, { login: 'someone', password: 'x'.repeat(257) });
    expect(code(res)).toBe('BAD_USER_INPUT');
    const reg = await t.gql(REGISTER, {
      input: { email: 'long@example.org', username: 'longpw', password: 'x'.repeat(257) },
    });
    expect(code(reg)).toBe('BAD_USER_INPUT');
  });
});

describe('refresh tokens', () => {
  it('rotates: each refresh token works once and yields a new pair', async () => {
    const u = await registerUser(t);
    const r1 = await t.gql<{ refreshToken: { accessToken: string; refreshToken: string } }>(
      REFRESH,
      {
        t: u.refreshToken,
      },
    );
    expect(r1.errors).toBeUndefined();
    const next = r1.data!.refreshToken;
    expect(next.refreshToken).not.toBe(u.refreshToken);
    const me = await t.gql<{ me: { id: string } }>(ME, {}, next.accessToken);
    expect(me.data!.me.id).toBe(u.id);
    const r2 = await t.gql(REFRESH, { t: next.refreshToken });
    expect(r2.errors).toBeUndefined();
  });

  it('detects reuse of a rotated token and revokes the whole family', async () => {
    const u = await registerUser(t);
    const r1 = await t.gql<{ refreshToken: { refreshToken: string } }>(REFRESH, {
      t: u.refreshToken,
    });
    const current = r1.data!.refreshToken.refreshToken;
    // The old token comes back (stolen copy): rejected...
    const replay = await t.gql(REFRESH, { t: u.refreshToken });
    expect(replay.status).toBe(401);
    expect(code(replay)).toBe('UNAUTHENTICATED');
    // ...and the legitimate successor is now dead too.
    const successor = await t.gql(REFRESH, { t: current });
    expect(code(successor)).toBe('UNAUTHENTICATED');
    const [audit] = await t.app.services.orm.em
      .getConnection()
      .execute<{ n: string }[]>(
        `select count(*) as n from audit_log where action = 'auth.refresh.reuse' and actor_id = ?`,
        [u.id],
      );
    // One for the replay, one for the successor that the replay killed.
    expect(Number(audit!.n)).toBe(2);
  });

  it('lets exactly one of two concurrent refreshes with the same token win', async () => {
    const u = await registerUser(t);
    const results = await Promise.all([
      t.gql(REFRESH, { t: u.refreshToken }),
      t.gql(REFRESH, { t: u.refreshToken }),
    ]);
    expect(results.filter(r => !r.errors)).toHaveLength(1);
  });

  it('rejects unknown refresh tokens', async () => {
    const res = await t.gql(REFRESH, { t: 'ort_nope' });
    expect(code(res)).toBe('UNAUTHENTICATED');
  });

  it('logout revokes the access token and the refresh family', async () => {
    const u = await registerUser(t);
    const out = await t.gql<{ logout: boolean }>(
      `mutation($t: String) { logout(refreshToken: $t) }`,
      { t: u.refreshToken },
      u.accessToken,
    );
    expect(out.data!.logout).toBe(true);
    const me = await t.gql(ME, {}, u.accessToken);
    expect(me.status).toBe(401);
    expect(code(await t.gql(REFRESH, { t: u.refreshToken }))).toBe('UNAUTHENTICATED');
  });
});

describe('access token validation (HTTP 401, never 500)', () => {
  const secret = () => new TextEncoder().encode(t.config.jwtSecret);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

  it('missing token on a protected field', async () => {
    const res = await t.gql(ME);
    expect(res.status).toBe(401);
    expect(code(res)).toBe('UNAUTHENTICATED');
  });

  it.each([
    ['garbage', 'not-a-jwt'],
    ['bad signature', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'],
  ])('%s', async (_name, token) => {
    const res = await t.gql(ME, {}, token);
    expect(res.status).toBe(401);
    expect(code(res)).toBe('UNAUTHENTICATED');
    expect(res.errors![0]!.message).not.toMatch(/Context creation failed/);
  });

  it('alg:none', async () => {
    const u = await registerUser(t);
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
      sub: u.id,
      tv: 0,
      iss: 'omicselector',
      aud: 'omicselector-api',
      iat: now,
      exp: now + 600,
      jti: 'x',
    })}.`;
    const res = await t.gql(ME, {}, token);
    expect(res.status).toBe(401);
    expect(code(res)).toBe('UNAUTHENTICATED');
  });

  it('expired token, and a token signed with another secret', async () => {
    const u = await registerUser(t);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ tv: 0 })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(u.id)
      .setIssuer('omicselector')
      .setAudience('omicselector-api')
      .setIssuedAt(now - 3600)
      .setExpirationTime(now - 600)
      .setJti('e1')
      .sign(secret());
    const res = await t.gql(ME, {}, expired);
    expect(res.status).toBe(401);
    expect(res.errors![0]!.message).toMatch(/expired/i);

    const forged = await new SignJWT({ tv: 0 })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(u.id)
      .setIssuer('omicselector')
      .setAudience('omicselector-api')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .setJti('f1')
      .sign(new TextEncoder().encode('x'.repeat(48)));
    expect((await t.gql(ME, {}, forged)).status).toBe(401);
  });

  it('wrong Authorization scheme', async () => {
    const res = await t.gql(ME, {}, undefined, { authorization: 'Basic dXNlcjpwYXNz' });
    expect(res.status).toBe(401);
  });
});

describe('API keys', () => {
  const CREATE = `mutation($name: String!) { createApiKey(input: { name: $name }) { secret apiKey { id prefix active } } }`;

  it('creates a key shown once, stores only its hash, authenticates, and revokes instantly', async () => {
    const u = await registerUser(t);
    const created = await t.gql<{
      createApiKey: { secret: string; apiKey: { id: string; prefix: string; active: boolean } };
    }>(CREATE, { name: 'ci' }, u.accessToken);
    expect(created.errors).toBeUndefined();
    const { secret, apiKey } = created.data!.createApiKey;
    expect(secret).toMatch(/^osk_[A-Za-z0-9_-]{43}$/);
    expect(secret.startsWith(apiKey.prefix)).toBe(true);

    const rows = await t.app.services.orm.em
      .getConnection()
      .execute<{ key_hash: string }[]>('select key_hash from api_keys where id = ?', [apiKey.id]);
    expect(rows[0]!.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(secret.slice(4));

    const me = await t.gql<{ me: { id: string } }>(ME, {}, secret);
    expect(me.data!.me.id).toBe(u.id);

    const list = await t.gql<{ apiKeys: Array<{ id: string }> }>(
      `{ apiKeys { id name prefix } }`,
      {},
      u.accessToken,
    );
    expect(list.data!.apiKeys.map(k => k.id)).toEqual([apiKey.id]);
    expect(JSON.stringify(list.data)).not.toContain(secret);

    // Keys cannot manage keys.
    const viaKey = await t.gql(CREATE, { name: 'nested' }, secret);
    expect(code(viaKey)).toBe('FORBIDDEN');

    const revoked = await t.gql<{ revokeApiKey: { active: boolean } }>(
      `mutation($id: ID!) { revokeApiKey(id: $id) { active revokedAt } }`,
      { id: apiKey.id },
      u.accessToken,
    );
    expect(revoked.data!.revokeApiKey.active).toBe(false);
    const after = await t.gql(ME, {}, secret);
    expect(after.status).toBe(401);
  });

  it("answers NOT_FOUND for another user's key and for malformed ids", async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const created = await t.gql<{ createApiKey: { apiKey: { id: string } } }>(
      CREATE,
      { name: 'a' },
      a.accessToken,
    );
    const id = created.data!.createApiKey.apiKey.id;
    const REVOKE = `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`;
    expect(code(await t.gql(REVOKE, { id }, b.accessToken))).toBe('NOT_FOUND');
    expect(code(await t.gql(REVOKE, { id: 'not-a-uuid' }, b.accessToken))).toBe('NOT_FOUND');
  });

  it('rejects unknown and wrong-length keys with 401', async () => {
    for (const key of ['osk_x', `osk_${'A'.repeat(43)}`, `osk_${'A'.repeat(500)}`]) {
      const res = await t.gql(ME, {}, key);
      expect(res.status).toBe(401);
    }
  });
});

describe('roles and admin operations', () => {
  const USERS = `{ users(first: 2) { totalCount edges { cursor node { id email role } } pageInfo { hasNextPage endCursor } } }`;
  const SET_ROLE = `mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { id role } }`;
  const DEACTIVATE = `mutation($id: ID!) { deactivateUser(userId: $id) { id isActive } }`;

  it('forbids non-admins', async () => {
    const u = await registerUser(t);
    const other = await registerUser(t);
    await setRoleInDb(t, u.id, 'RESEARCHER');
    expect(code(await t.gql(USERS, {}, u.accessToken))).toBe('FORBIDDEN');
    expect(code(await t.gql(SET_ROLE, { id: other.id, role: 'ADMIN' }, u.accessToken))).toBe(
      'FORBIDDEN',
    );
    expect(code(await t.gql(DEACTIVATE, { id: other.id }, u.accessToken))).toBe('FORBIDDEN');
  });

  it('lets an admin page through users, change roles and deactivate users', async () => {
    const admin = await registerUser(t);
    await setRoleInDb(t, admin.id, 'ADMIN');
    const target = await registerUser(t);

    const page1 = await t.gql<{
      users: {
        totalCount: number;
        edges: Array<{ node: { id: string } }>;
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    }>(USERS, {}, admin.accessToken);
    expect(page1.errors).toBeUndefined();
    expect(page1.data!.users.edges).toHaveLength(2);
    expect(page1.data!.users.pageInfo.hasNextPage).toBe(true);
    const page2 = await t.gql<{ users: { edges: Array<{ node: { id: string } }> } }>(
      `query($after: String) { users(first: 2, after: $after) { edges { node { id } } } }`,
      { after: page1.data!.users.pageInfo.endCursor },
      admin.accessToken,
    );
    const ids1 = page1.data!.users.edges.map(e => e.node.id);
    for (const e of page2.data!.users.edges) {
      expect(ids1).not.toContain(e.node.id);
    }

    const promoted = await t.gql<{ setUserRole: { role: string } }>(
      SET_ROLE,
      { id: target.id, role: 'RESEARCHER' },
      admin.accessToken,
    );
    expect(promoted.data!.setUserRole.role).toBe('RESEARCHER');
    // Role changes apply to existing tokens immediately (the user is reloaded per request).
    const me = await t.gql<{ me: { role: string } }>(ME, {}, target.accessToken);
    expect(me.data!.me.role).toBe('RESEARCHER');

    expect(code(await t.gql(SET_ROLE, { id: admin.id, role: 'USER' }, admin.accessToken))).toBe(
      'BAD_USER_INPUT',
    );

    const off = await t.gql<{ deactivateUser: { isActive: boolean } }>(
      DEACTIVATE,
      { id: target.id },
      admin.accessToken,
    );
    expect(off.data!.deactivateUser.isActive).toBe(false);
    expect((await t.gql(ME, {}, target.accessToken)).status).toBe(401);
    expect(code(await t.gql(REFRESH, { t: target.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(code(await t.gql(LOGIN, { login: target.email, password: target.password }))).toBe(
      'UNAUTHENTICATED',
    );

    const actions = await t.app.services.orm.em
      .getConnection()
      .execute<{ action: string }[]>(
        `select action from audit_log where actor_id = ? order by created_at`,
        [admin.id],
      );
    expect(actions.map(a => a.action)).toEqual(
      expect.arrayContaining(['user.setRole', 'user.deactivate']),
    );
  });

  it('keeps the audit log append-only', async () => {
    const conn = t.app.services.orm.em.getConnection();
    await expect(conn.execute(`update audit_log set action = 'x'`)).rejects.toThrow(/append-only/);
    await expect(conn.execute(`delete from audit_log`)).rejects.toThrow(/append-only/);
  });
});
