/**
 * Operation limits over HTTP and WebSocket (issue 9): depth (with the 2025 graphql-armor bypass
 * queries), aliases in fragments, introspection nesting, cost (also with `first: $var`), tokens,
 * directives, characters, fragment cycles — each rejected on both transports as BAD_USER_INPUT,
 * with no resolver run; then page size ≤ 100 on every connection (auditLog included), the body
 * size limit and no batching over HTTP. The limits are set low here so small queries cross them.
 */
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';
import { subscribe, wsClient } from '../helpers/ws';

const env = {
  GRAPHQL_MAX_DEPTH: '3',
  GRAPHQL_MAX_ALIASES: '3',
  GRAPHQL_MAX_COST: '500',
  GRAPHQL_MAX_TOKENS: '200',
  GRAPHQL_MAX_DIRECTIVES: '5',
  GRAPHQL_MAX_CHARACTERS: '2000',
  HTTP_BODY_LIMIT_BYTES: '65536',
};

const deep4 = 'users(first: 1) { edges { node { id } } }'; // depth 4
const apiKey = (alias: string) => `${alias}: createApiKey(input: { name: "${alias}" }) { secret }`;

/** [name, query, variables, expected message] */
const attacks: Array<[string, string, Record<string, unknown>, RegExp]> = [
  ['depth, plain', `{ ${deep4} }`, {}, /^Query depth 4 exceeds the maximum of 3$/],
  [
    'depth in a fragment named __schema (GHSA-hmfr-rx46-4jx2)',
    `query { ...__schema } fragment __schema on Query { ${deep4} }`,
    {},
    /^Query depth 4 exceeds the maximum of 3$/,
  ],
  [
    'depth in an operation named __schema',
    `query __schema { ${deep4} }`,
    {},
    /^Query depth 4 exceeds the maximum of 3$/,
  ],
  [
    'depth through the fragment cache (GHSA-224p-v68g-5g8f)',
    `{ me { ...U } users(first: 1) { edges { node { ...U } } } } fragment U on User { id }`,
    {},
    /^Query depth 4 exceeds the maximum of 3$/,
  ],
  [
    'depth spread over a chain of fragments',
    `{ users(first: 1) { ...A } } fragment A on UserConnection { edges { ...B } }
     fragment B on UserEdge { node { ...C } } fragment C on User { id }`,
    {},
    /^Query depth 4 exceeds the maximum of 3$/,
  ],
  [
    'introspection bomb',
    '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }',
    {},
    /^Introspection nests 4 lists; the maximum is 3$/,
  ],
  [
    'aliased mutations hidden in fragments',
    `mutation { ...F ...G } fragment F on Mutation { ${apiKey('a')} ${apiKey('b')} }
     fragment G on Mutation { ...F }`,
    {},
    /^Query uses 4 aliases; the maximum is 3$/,
  ],
  [
    'cost of a literal page',
    '{ datasets(first: 100) { edges { cursor } } }',
    {},
    /^Query Cost limit of 500 exceeded, found 725\.?$/,
  ],
  [
    'cost of `first: $n` (costed as the largest page, whatever n is)',
    'query($n: Int!) { datasets(first: $n) { edges { cursor } } }',
    { n: 1 },
    /^Query Cost limit of 500 exceeded, found 725\.?$/,
  ],
  [
    'tokens',
    `{ me { ${'id '.repeat(250)} } }`,
    {},
    /^Syntax Error: Document contains more th\w+ 200 tokens/,
  ],
  [
    'directives',
    `{ me { ${Array.from({ length: 6 }, () => 'id @include(if: true)').join(' ')} } }`,
    {},
    /^Directives limit of 5 exceeded, found 6\.$/,
  ],
  [
    'characters (a long comment: few tokens)',
    `# ${'x'.repeat(3000)}\n{ me { id } }`,
    {},
    /^Query exceeds the maximum allowed length of 2000, found 3016\.$/,
  ],
  [
    'fragment cycle',
    '{ ...A } fragment A on Query { me { id } ...B } fragment B on Query { ...A }',
    {},
    /^Cannot spread fragment "A" within itself via "B"\.$/,
  ],
];

describe('operation limits on HTTP and WebSocket', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({ env });
    token = (await registerUser(t)).accessToken;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('admits small operations', async () => {
    const res = await t.gql('{ me { id } datasets(first: 5) { edges { cursor } } }', {}, token);
    expect(res.errors).toBeUndefined();
    expect(res.status).toBe(200);
  });

  it.each(attacks)('HTTP rejects: %s', async (_name, query, variables, message) => {
    const res = await t.gql(query, variables, token);
    expect(res.status).toBe(400);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.map(e => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(message)]),
    );
    expect(res.errors?.every(e => e.extensions?.code === 'BAD_USER_INPUT')).toBe(true);
  });

  it.each(attacks)('WebSocket rejects: %s', async (_name, query, variables, message) => {
    const client = wsClient(t.wsUrl, token);
    try {
      const sub = subscribe(client, query, variables, 0);
      let rejection: unknown;
      await sub.next().catch((e: unknown) => (rejection = e));
      const errors = rejection as Array<{ message: string; extensions?: { code?: string } }>;
      expect(Array.isArray(errors)).toBe(true);
      expect(errors.map(e => e.message)).toEqual(
        expect.arrayContaining([expect.stringMatching(message)]),
      );
      expect(errors.every(e => e.extensions?.code === 'BAD_USER_INPUT')).toBe(true);
      // The socket survives the rejection (no 4500 close) and still runs operations.
      const me = await subscribe<{ me: { id: string } }>(client, '{ me { id } }', {}, 0).next();
      expect(me.data?.me.id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await client.dispose();
    }
  });

  it('ran no resolver for the rejected aliased mutations (no API key created)', async () => {
    const res = await t.gql<{ apiKeys: unknown[] }>('{ apiKeys { id } }', {}, token);
    expect(res.data?.apiKeys).toEqual([]);
  });
});

describe('page size, body size and batching (HTTP)', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    // Default operation limits: a full page of each connection is within the default cost.
    t = await startTestApp({ env: { HTTP_BODY_LIMIT_BYTES: '65536' } });
    const u = await registerUser(t);
    await setRoleInDb(t, u.id, 'ADMIN');
    admin = u.accessToken;
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['datasets', 101],
    ['datasets', 0],
    ['datasets', -1],
    ['jobs', 101],
    ['users', 101],
    ['auditLog', 101],
    ['auditLog', 150],
  ])('%s(first: %i) is BAD_USER_INPUT', async (field, first) => {
    const selection = field === 'auditLog' ? 'pageInfo { hasNextPage }' : 'totalCount';
    const res = await t.gql(
      `query($n: Int!) { ${field}(first: $n) { ${selection} } }`,
      { n: first },
      admin,
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toBe('first must be between 1 and 100');
  });

  it('first: 100 is allowed on each connection', async () => {
    const res = await t.gql(
      `{ datasets(first: 100) { totalCount } jobs(first: 100) { totalCount }
         users(first: 100) { totalCount } auditLog(first: 100) { pageInfo { hasNextPage } } }`,
      {},
      admin,
    );
    expect(res.errors).toBeUndefined();
  });

  it('answers a body over HTTP_BODY_LIMIT_BYTES with 413', async () => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: '{ me { id } }', variables: { pad: 'x'.repeat(70_000) } }),
    });
    expect(res.status).toBe(413);
  });

  it('refuses batched (array) bodies', async () => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/batching/i);
  });
});

describe('production mode over WebSocket', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { NODE_ENV: 'production' } });
    token = (await registerUser(t)).accessToken;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses introspection and hides field suggestions, as over HTTP', async () => {
    const http = await t.gql('{ __schema { types { name } } }', {}, token);
    expect(http.errors?.[0]?.message).toMatch(/introspection/i);
    const client = wsClient(t.wsUrl, token);
    try {
      let errors: Array<{ message: string }> = [];
      await subscribe(client, '{ __schema { types { name } } }', {}, 0)
        .next()
        .catch((e: unknown) => (errors = e as typeof errors));
      expect(errors[0]?.message).toMatch(/introspection/i);
      await subscribe(client, '{ mee { id } }', {}, 0)
        .next()
        .catch((e: unknown) => (errors = e as typeof errors));
      expect(errors[0]?.message).toBe('Cannot query field "mee" on type "Query".');
    } finally {
      await client.dispose();
    }
  });
});
