/**
 * Authorization matrix generated from the schema (issue 9). Every Query / Mutation / Subscription
 * field that takes an object id — as an argument (`id`, `datasetId`, `jobId`, `userId`) or inside
 * an input object (e.g. `submitJob(input: { datasetId, dependsOn })`) — must have an entry in
 * MATRIX below; a new id-taking field without one fails the first test, so the matrix stays
 * complete. Each entry is run as user B against user A's objects and must answer NOT_FOUND (or,
 * for list filters, an empty page) with no side effect: A's database rows are byte-for-byte the
 * same afterwards and B owns nothing new. Admin operations called by a USER answer FORBIDDEN.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildSchema,
  getNamedType,
  isInputObjectType,
  type GraphQLArgument,
  type GraphQLInputObjectType,
  type GraphQLObjectType,
} from 'graphql';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';
import { syntheticCsv, uploadCsv } from '../helpers/worker';
import { subscribe, wsClient } from '../helpers/ws';

const SCHEMA = buildSchema(
  readFileSync(join(__dirname, '..', '..', 'schema/schema.graphql'), 'utf8'),
);
const ID_NAMES = new Set([
  'id',
  'datasetId',
  'jobId',
  'userId',
  'dependsOn',
  'ownerId',
  'actorId',
  'batchId',
  'targetId',
]);

/** "Mutation.submitJob(input.datasetId)" for every id-ish argument or input field, 2 levels deep. */
function idTakingFields(): string[] {
  const out: string[] = [];
  const walk = (root: string, path: string, t: GraphQLInputObjectType, depth: number) => {
    for (const f of Object.values(t.getFields())) {
      const named = getNamedType(f.type);
      if (ID_NAMES.has(f.name)) out.push(`${root}(${path}.${f.name})`);
      else if (isInputObjectType(named) && depth < 2)
        walk(root, `${path}.${f.name}`, named, depth + 1);
    }
  };
  for (const type of [
    SCHEMA.getQueryType(),
    SCHEMA.getMutationType(),
    SCHEMA.getSubscriptionType(),
  ]) {
    for (const field of Object.values((type as GraphQLObjectType).getFields())) {
      const root = `${type!.name}.${field.name}`;
      field.args.forEach((a: GraphQLArgument) => {
        const named = getNamedType(a.type);
        if (ID_NAMES.has(a.name)) out.push(`${root}(${a.name})`);
        else if (isInputObjectType(named)) walk(root, a.name, named, 1);
      });
    }
  }
  return out.sort();
}

interface Ctx {
  datasetId: string;
  jobId: string;
  apiKeyId: string;
  aliceId: string;
  bobDatasetId: string;
}

type Expect = 'NOT_FOUND' | 'FORBIDDEN' | 'EMPTY';

interface Entry {
  query: string;
  vars: (c: Ctx) => Record<string, unknown>;
  expect: Expect;
  /** Subscriptions run over graphql-ws. */
  ws?: boolean;
  /** Why this is not NOT_FOUND. */
  note?: string;
}

const job = (c: Ctx, extra: Record<string, unknown> = {}) => ({
  datasetId: c.datasetId,
  type: 'FEATURE_SELECTION',
  config: { selectors: [{ code: 't_test', k: 2 }] },
  device: 'CPU',
  priority: 'NORMAL',
  ...extra,
});

const MATRIX: Record<string, Entry> = {
  'Query.dataset(id)': {
    query: 'query($id: ID!) { dataset(id: $id) { id } }',
    vars: c => ({ id: c.datasetId }),
    expect: 'NOT_FOUND',
  },
  'Query.datasetPreview(id)': {
    query:
      'query($id: ID!) { datasetPreview(id: $id, rows: 2, columns: 2, rowOffset: 0, columnOffset: 0) { totalRows } }',
    vars: c => ({ id: c.datasetId }),
    expect: 'NOT_FOUND',
  },
  'Query.datasets(filter.ownerId)': {
    query:
      'query($o: String) { datasets(first: 10, filter: { ownerId: $o }) { edges { node { id } } } }',
    vars: c => ({ o: c.aliceId }),
    expect: 'FORBIDDEN',
    note: 'filtering by owner is an admin operation',
  },
  'Query.job(id)': {
    query: 'query($id: ID!) { job(id: $id) { id } }',
    vars: c => ({ id: c.jobId }),
    expect: 'NOT_FOUND',
  },
  'Query.jobEvents(jobId)': {
    query: 'query($id: ID!) { jobEvents(jobId: $id, afterSeq: 0, first: 10) { seq } }',
    vars: c => ({ id: c.jobId }),
    expect: 'NOT_FOUND',
  },
  'Query.jobs(filter.datasetId)': {
    query: 'query($d: ID) { jobs(first: 10, filter: { datasetId: $d }) { edges { node { id } } } }',
    vars: c => ({ d: c.datasetId }),
    expect: 'EMPTY',
    note: 'a filter',
  },
  'Query.jobs(filter.batchId)': {
    query: 'query($b: ID) { jobs(first: 10, filter: { batchId: $b }) { edges { node { id } } } }',
    vars: c => ({ b: c.jobId }),
    expect: 'EMPTY',
    note: 'a filter',
  },
  'Query.auditLog(filter.actorId)': {
    query: 'query($a: ID) { auditLog(first: 10, filter: { actorId: $a }) { nodes { id } } }',
    vars: c => ({ a: c.aliceId }),
    expect: 'FORBIDDEN',
    note: 'admin only',
  },
  'Query.auditLog(filter.targetId)': {
    query: 'query($t: String) { auditLog(first: 10, filter: { targetId: $t }) { nodes { id } } }',
    vars: c => ({ t: c.datasetId }),
    expect: 'FORBIDDEN',
    note: 'admin only',
  },
  'Query.usage(userId)': {
    query: 'query($u: ID) { usage(userId: $u) { __typename } }',
    vars: c => ({ u: c.aliceId }),
    expect: 'FORBIDDEN',
    note: 'another user’s usage is an admin operation',
  },
  'Mutation.cancelJob(id)': {
    query: 'mutation($id: ID!) { cancelJob(id: $id) { id } }',
    vars: c => ({ id: c.jobId }),
    expect: 'NOT_FOUND',
  },
  'Mutation.retryJob(id)': {
    query: 'mutation($id: ID!) { retryJob(id: $id) { id } }',
    vars: c => ({ id: c.jobId }),
    expect: 'NOT_FOUND',
  },
  'Mutation.completeDatasetUpload(id)': {
    query: 'mutation($id: ID!) { completeDatasetUpload(id: $id) { id } }',
    vars: c => ({ id: c.datasetId }),
    expect: 'NOT_FOUND',
  },
  'Mutation.deleteDataset(id)': {
    query: 'mutation($id: ID!) { deleteDataset(id: $id) { id } }',
    vars: c => ({ id: c.datasetId }),
    expect: 'NOT_FOUND',
  },
  'Mutation.updateDataset(id)': {
    query:
      'mutation($id: ID!) { updateDataset(id: $id, input: { name: "pwned", metadata: { x: 1 } }) { id } }',
    vars: c => ({ id: c.datasetId }),
    expect: 'NOT_FOUND',
  },
  'Mutation.revokeApiKey(id)': {
    query: 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }',
    vars: c => ({ id: c.apiKeyId }),
    expect: 'NOT_FOUND',
  },
  'Mutation.submitJob(input.datasetId)': {
    query: 'mutation($input: SubmitJobInput!) { submitJob(input: $input) { id } }',
    vars: c => ({ input: job(c) }),
    expect: 'NOT_FOUND',
  },
  'Mutation.submitJob(input.dependsOn)': {
    query: 'mutation($input: SubmitJobInput!) { submitJob(input: $input) { id } }',
    vars: c => ({ input: job(c, { datasetId: c.bobDatasetId, dependsOn: [c.jobId] }) }),
    expect: 'NOT_FOUND',
  },
  'Mutation.submitBatch(jobs.datasetId)': {
    query: 'mutation($jobs: [SubmitJobInput!]!) { submitBatch(jobs: $jobs) { id } }',
    vars: c => ({ jobs: [job(c, { datasetId: c.bobDatasetId }), job(c)] }),
    expect: 'NOT_FOUND',
  },
  'Mutation.submitBatch(jobs.dependsOn)': {
    query: 'mutation($jobs: [SubmitJobInput!]!) { submitBatch(jobs: $jobs) { id } }',
    vars: c => ({ jobs: [job(c, { datasetId: c.bobDatasetId, dependsOn: [c.jobId] })] }),
    expect: 'NOT_FOUND',
  },
  'Mutation.deactivateUser(userId)': {
    query: 'mutation($u: ID!) { deactivateUser(userId: $u) { id } }',
    vars: c => ({ u: c.aliceId }),
    expect: 'FORBIDDEN',
    note: 'admin only',
  },
  'Mutation.setUserRole(userId)': {
    query: 'mutation($u: ID!) { setUserRole(userId: $u, role: ADMIN) { id } }',
    vars: c => ({ u: c.aliceId }),
    expect: 'FORBIDDEN',
    note: 'admin only',
  },
  'Subscription.jobUpdates(jobId)': {
    query: 'subscription($id: ID!) { jobUpdates(jobId: $id, afterSeq: 0) { seq } }',
    vars: c => ({ id: c.jobId }),
    expect: 'NOT_FOUND',
    ws: true,
  },
};

/** Operations only an ADMIN may call (no id argument, so not in MATRIX). */
const ADMIN_ONLY: Record<string, string> = {
  users: '{ users(first: 5) { edges { node { id } } } }',
  auditLog: '{ auditLog(first: 5) { nodes { id } } }',
  orphanReport: '{ orphanReport(limit: 5) { __typename } }',
  workers: '{ workers { __typename } }',
  runRetention: 'mutation { runRetention { __typename } }',
  deleteOrphans: 'mutation { deleteOrphans { __typename } }',
};

describe('authorization matrix (user B on user A’s objects)', () => {
  let t: TestApp;
  let alice: Awaited<ReturnType<typeof registerUser>>;
  let bob: Awaited<ReturnType<typeof registerUser>>;
  let ctx: Ctx;

  const sql = (q: string, p: unknown[] = []) =>
    t.app.services.orm.em.getConnection().execute(q, p) as Promise<Array<Record<string, unknown>>>;

  /** Every row that belongs to A, and a count of everything B owns. */
  async function snapshot() {
    return {
      users: await sql('select * from users where id = ?', [alice.id]),
      datasets: await sql('select * from datasets where owner_id = ? order by id', [alice.id]),
      jobs: await sql('select * from jobs where owner_id = ? order by id', [alice.id]),
      apiKeys: await sql('select * from api_keys where user_id = ? order by id', [alice.id]),
      bobJobs: (await sql('select count(*)::int as n from jobs where owner_id = ?', [bob.id]))[0],
      bobDatasets: (
        await sql('select count(*)::int as n from datasets where owner_id = ?', [bob.id])
      )[0],
    };
  }

  beforeAll(async () => {
    t = await startTestApp();
    [alice, bob] = await Promise.all([registerUser(t), registerUser(t)]);
    const csv = syntheticCsv(12, 6);
    const [datasetId, bobDatasetId] = await Promise.all([
      uploadCsv(t, alice.accessToken, csv, 'alice data'),
      uploadCsv(t, bob.accessToken, csv, 'bob data'),
    ]);
    const submitted = await t.gql<{ submitJob: { id: string } }>(
      MATRIX['Mutation.submitJob(input.datasetId)']!.query,
      { input: job({ datasetId } as Ctx) },
      alice.accessToken,
    );
    const key = await t.gql<{ createApiKey: { apiKey: { id: string } } }>(
      'mutation { createApiKey(input: { name: "alice key" }) { apiKey { id } } }',
      {},
      alice.accessToken,
    );
    if (!submitted.data || !key.data) {
      throw new Error(`setup failed: ${JSON.stringify([submitted.errors, key.errors])}`);
    }
    // submitJob answers before the queue's confirmation is written (enqueued_at, the outbox
    // relay): let it land, so that the "no side effect" snapshots see a settled row.
    const jobId = submitted.data.submitJob.id;
    const deadline = Date.now() + 15_000;
    while (
      (await sql('select enqueued_at from jobs where id = ?', [jobId]))[0]?.enqueued_at == null
    ) {
      if (Date.now() > deadline) throw new Error('setup: the job was never confirmed as enqueued');
      await new Promise(r => setTimeout(r, 50));
    }
    ctx = {
      datasetId,
      bobDatasetId,
      jobId,
      apiKeyId: key.data.createApiKey.apiKey.id,
      aliceId: alice.id,
    };
  });

  afterAll(async () => {
    await t?.close();
  });

  it('has a matrix entry for every id-taking field in the schema (and none stale)', () => {
    expect(Object.keys(MATRIX).sort()).toEqual(idTakingFields());
  });

  it.each(Object.entries(MATRIX).map(([name, e]) => [name, e.expect, e] as const))(
    '%s as user B → %s, no side effect',
    async (_name, _expect, e) => {
      const before = await snapshot();
      let code: unknown;
      let data: unknown;
      if (e.ws) {
        const client = wsClient(t.wsUrl, bob.accessToken);
        const sub = subscribe(client, e.query, e.vars(ctx), 0);
        const first = await sub.next(10_000).catch((err: unknown) => ({ errors: err as never }));
        const errs = (first as { errors?: Array<{ extensions?: { code?: string } }> }).errors;
        code = Array.isArray(errs) ? errs[0]?.extensions?.code : undefined;
        data = (first as { data?: unknown }).data;
        await sub.dispose();
        await client.dispose();
      } else {
        const res = await t.gql(e.query, e.vars(ctx), bob.accessToken);
        code = res.errors?.[0]?.extensions?.code;
        data = res.data;
      }
      if (e.expect === 'EMPTY') {
        expect(code).toBeUndefined();
        expect(JSON.stringify(data)).toMatch(/"edges":\[\]/);
      } else {
        expect(code).toBe(e.expect);
        expect(JSON.stringify(data ?? null)).not.toContain(ctx.datasetId);
      }
      expect(await snapshot()).toEqual(before);
    },
  );

  it.each(Object.entries(ADMIN_ONLY))('USER calling %s → FORBIDDEN', async (_name, q) => {
    const res = await t.gql(q, {}, bob.accessToken);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(res.data ?? null).toBeNull();
  });

  it('the same admin operations work for an ADMIN (the checks above are role checks)', async () => {
    const admin = await registerUser(t);
    await setRoleInDb(t, admin.id, 'ADMIN');
    const { accessToken } = (
      await t.gql<{ login: { accessToken: string } }>(
        'mutation($input: LoginInput!) { login(input: $input) { accessToken } }',
        { input: { login: admin.email, password: admin.password } },
      )
    ).data!.login;
    for (const [name, q] of Object.entries(ADMIN_ONLY)) {
      if (name === 'deleteOrphans' || name === 'runRetention') continue; // side effects on the instance
      const res = await t.gql(q, {}, accessToken);
      expect([name, res.errors]).toEqual([name, undefined]);
    }
  });

  it('A still reaches its own objects (the NOT_FOUNDs above are about ownership)', async () => {
    const res = await t.gql<{ dataset: { id: string }; job: { id: string } }>(
      'query($d: ID!, $j: ID!) { dataset(id: $d) { id } job(id: $j) { id } }',
      { d: ctx.datasetId, j: ctx.jobId },
      alice.accessToken,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ dataset: { id: ctx.datasetId }, job: { id: ctx.jobId } });
  });
});
