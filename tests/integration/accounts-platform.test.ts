/**
 * Platform behaviour around the API: /health and /ready, error masking, production hardening
 * (no introspection, no suggestions, no Sandbox, CSRF, no batching), query limits over HTTP and
 * WebSocket, and WebSocket authentication.
 */
import { GraphQLError } from 'graphql';
import { AppError, formatError } from '../../src/errors';
import { runWithRequestScope } from '../../src/request-context';
import { registerUser, startTestApp, type TestApp } from '../helpers/app';
import { subscribe, wsClient } from '../helpers/ws';

const code = (res: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
  res.errors?.[0]?.extensions?.code;

describe('health and readiness', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('/health answers without touching dependencies; /ready checks all three', async () => {
    const health = await fetch(`${t.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.baseUrl}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { postgres: 'ok', redis: 'ok', storage: 'ok' },
    });
    expect(ready.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('/ready is 503 and names the failing dependency when Redis is gone', async () => {
    t.app.services.redis.disconnect();
    const ready = await fetch(`${t.baseUrl}/ready`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { checks: Record<string, string> };
    expect(body.checks.postgres).toBe('ok');
    expect(body.checks.redis).toMatch(/^error/);
  });
});

describe('error masking', () => {
  it('keeps AppErrors, masks everything else with a request id', () => {
    const known = formatError(
      { message: 'Dataset x not found', extensions: { code: 'NOT_FOUND' } },
      AppError.notFound('Dataset', 'x'),
    );
    expect(known).toEqual({ message: 'Dataset x not found', extensions: { code: 'NOT_FOUND' } });

    const raw = new Error(
      'duplicate key value violates unique constraint "users_email_lower_unique"',
    );
    const masked = runWithRequestScope(
      () =>
        formatError(
          {
            message: raw.message,
            path: ['register'],
            extensions: { code: 'INTERNAL_SERVER_ERROR' },
          },
          new GraphQLError(raw.message, { originalError: raw }),
        ),
      'req-12345678',
    );
    expect(masked).toEqual({
      message: 'Internal server error (request id req-12345678)',
      path: ['register'],
      extensions: { code: 'INTERNAL', requestId: 'req-12345678' },
    });
  });

  it('masks a database failure during a request (HTTP), with no driver text', async () => {
    const t = await startTestApp();
    try {
      const u = await registerUser(t);
      await t.app.services.orm.close(true); // every query now fails inside the driver
      const res = await t.gql('{ me { id } }', {}, u.accessToken);
      expect(code(res)).toBe('INTERNAL');
      expect(res.errors![0]!.message).toMatch(
        /^Internal server error \(request id [0-9a-f-]{36}\)$/,
      );
      expect(JSON.stringify(res)).not.toMatch(/pool|knex|postgres|stack/i);
      expect(res.headers.get('x-request-id')).toBe(res.errors![0]!.extensions!.requestId);
    } finally {
      await t.close();
    }
  });
});

describe('production hardening (NODE_ENV=production)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { NODE_ENV: 'production' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses introspection and hides field suggestions', async () => {
    const intro = await t.gql('{ __schema { types { name } } }');
    expect(code(intro)).toBe('BAD_USER_INPUT');
    expect(intro.errors![0]!.message).toMatch(/introspection/i);
    const typo = await t.gql('{ mee { id } }');
    expect(typo.errors![0]!.message).not.toMatch(/Did you mean/);
  });

  it('serves no Sandbox landing page', async () => {
    const res = await fetch(t.url, { headers: { accept: 'text/html' } });
    const text = await res.text();
    expect(text).not.toMatch(/sandbox|embeddable/i);
  });

  it('blocks CSRF-able requests and HTTP batching', async () => {
    const get = await fetch(`${t.url}?query=${encodeURIComponent('{ me { id } }')}`);
    expect(get.status).toBe(400);
    const plain = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: 'mutation { logout }' }),
    });
    expect(plain.status).toBe(400);
    const batch = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]),
    });
    expect(batch.status).toBe(400);
  });

  it('answers an oversized JSON body with 413', async () => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: '{ me { id } }',
        variables: { pad: 'x'.repeat(2 * 1024 * 1024) },
      }),
    });
    expect(res.status).toBe(413);
  });
});

describe('query limits and WebSocket', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { GRAPHQL_MAX_DEPTH: '3', GRAPHQL_MAX_ALIASES: '3' } });
    token = (await registerUser(t)).accessToken;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('rejects too-deep queries, also when the depth hides in fragments (even one named __schema)', async () => {
    const shallow = await t.gql(`{ users(first: 1) { pageInfo { hasNextPage } } }`, {}, token);
    expect(code(shallow)).toBe('FORBIDDEN'); // depth 3 passes validation; a USER is not admin
    for (const query of [
      `{ users(first: 1) { edges { node { id } } } }`,
      `query { ...__schema } fragment __schema on Query { users(first: 1) { ...E } }
       fragment E on UserConnection { edges { node { id } } }`,
    ]) {
      const res = await t.gql(query, {}, token);
      expect(code(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.message).toMatch(/depth 4 exceeds the maximum of 3/);
    }
    // Real introspection at the root is exempt (and disabled in production anyway).
    const intro = await t.gql(`{ __schema { types { fields { type { ofType { name } } } } } }`);
    expect(intro.errors).toBeUndefined();
  });

  it('counts aliases through fragments', async () => {
    const res = await t.gql(
      `query { ...F ...F } fragment F on Query { a: me { id } b: me { id } }`,
      {},
      token,
    );
    expect(code(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toMatch(/aliases/);
  });

  it('runs operations over WebSocket with the same auth and limits', async () => {
    const client = wsClient(t.wsUrl, token);
    try {
      const me = subscribe<{ me: { id: string } }>(client, '{ me { id } }');
      const result = await me.next();
      expect(result.data?.me.id).toMatch(/^[0-9a-f-]{36}$/);

      const aliases = subscribe(client, `{ a: me { id } b: me { id } c: me { id } d: me { id } }`);
      await expect(aliases.next()).rejects.toEqual(
        expect.arrayContaining([
          expect.objectContaining({ message: expect.stringMatching(/aliases/) }),
        ]),
      );
    } finally {
      await client.dispose();
    }
  });

  it('anonymous sockets get UNAUTHENTICATED for protected fields', async () => {
    const client = wsClient(t.wsUrl);
    try {
      const me = subscribe(client, '{ me { id } }');
      const result = await me.next();
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      await client.dispose();
    }
  });

  it('closes sockets that present an invalid token with 4403', async () => {
    const client = wsClient(t.wsUrl, 'not-a-token');
    try {
      const me = subscribe(client, '{ me { id } }');
      await expect(me.next()).rejects.toMatchObject({ code: 4403 });
    } finally {
      await client.dispose();
    }
  });
});
