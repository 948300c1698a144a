/**
 * submitJob's write path (issue #9 (c)): the submit is one PostgreSQL round trip (quota lock,
 * dataset re-check, idempotency lookup, usage count, job + first event in one implicit
 * transaction) plus one batched outbox confirmation; the dataset facts cached by the API are only
 * a hint that the statement re-checks. No workers run here: jobs stay QUEUED.
 */
import { registerUser, startTestApp, type TestApp } from '../helpers/app';
import { syntheticCsv, uploadCsv } from '../helpers/worker';
import { jobsDeps } from '../../src/modules/jobs/job.runtime';
import { inline, runScript } from '../../src/modules/jobs/job.store';
import { queueName } from '../../src/queue/names';

const SUBMIT = `mutation($input: SubmitJobInput!) {
  submitJob(input: $input) { id status lastSeq } }`;

let t: TestApp;
let token: string;
let datasetId: string;

beforeAll(async () => {
  t = await startTestApp({
    env: { QUOTA_CONCURRENT_JOBS: '1000', RATE_LIMIT_PER_USER: '0', RATE_LIMIT_PER_IP: '0' },
  });
  const u = await registerUser(t);
  token = u.accessToken;
  datasetId = await uploadCsv(t, token, syntheticCsv(20, 10));
});

afterAll(async () => {
  await t?.close();
});

const submit = (key: string | null, config: Record<string, unknown> = {}, ds = datasetId) =>
  t.gql<{ submitJob: { id: string; status: string; lastSeq: number } }>(
    SUBMIT,
    {
      input: {
        type: 'FEATURE_SELECTION',
        datasetId: ds,
        device: 'CPU',
        config: { selectors: [{ code: 't_test', k: 3 }], ...config },
        ...(key ? { idempotencyKey: key } : {}),
      },
    },
    token,
  );

const knex = () => t.app.services.orm.em.getKnex();

/**
 * Rows of `sql` once there are `n` of them (at most 5 s): the outbox confirmation of a submit is
 * batched over a short window after the answer.
 */
async function confirmed(sql: string, params: unknown[], n: number) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const rows = (await knex().raw(sql, params as never)).rows as Array<Record<string, unknown>>;
    if (rows.length >= n && rows.every(r => !('enqueued_at' in r) || r.enqueued_at !== null))
      return rows;
    if (Date.now() > deadline) return rows;
    await new Promise(r => setTimeout(r, 20));
  }
}

/** The queries this process sends to PostgreSQL while `fn` runs. */
async function queriesDuring(fn: () => Promise<unknown>): Promise<string[]> {
  // The pg Client class, from one of knex's pooled connections (pg has no bundled types).
  const pool = knex().client as {
    acquireConnection(): Promise<object>;
    releaseConnection(c: object): Promise<unknown>;
  };
  const conn = await pool.acquireConnection();
  const proto = Object.getPrototypeOf(conn) as { query: (...args: unknown[]) => unknown };
  await pool.releaseConnection(conn);
  const original = proto.query;
  const seen: string[] = [];
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    seen.push(typeof q === 'string' ? q : (q?.text ?? ''));
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto.query = original;
  }
  return seen;
}

it('a warm submit costs at most two PostgreSQL round trips and is in the database and its queue', async () => {
  expect((await submit('warm-1')).errors).toBeUndefined(); // caches the user row and dataset facts
  const queries = await queriesDuring(async () => {
    const r = await submit('counted-1');
    expect(r.errors).toBeUndefined();
  });
  // The submit call (omicselector_submit_job: lock; dataset/idempotency/quota/insert) and the
  // outbox confirmation (which the client does not wait for: it may land just after the answer).
  expect(queries.length).toBeLessThanOrEqual(2);
  expect(queries.some(q => /FROM omicselector_submit_job\(\$1,/.test(q))).toBe(true);

  const row = await confirmed(
    `SELECT id, status, enqueued_at, last_seq FROM jobs WHERE idempotency_key = 'counted-1'`,
    [],
    1,
  ).then(rows => rows[0]);
  expect(row.status).toBe('QUEUED');
  expect(row.enqueued_at).not.toBeNull();
  const events = (await knex().raw('SELECT seq, kind FROM job_events WHERE job_id = ?', [row.id]))
    .rows;
  expect(events).toEqual([{ seq: 1, kind: 'STATUS' }]);
  const deps = jobsDeps(t.app.services);
  expect(await deps.redis.exists(`${deps.prefix}:${queueName('cpu')}:${row.id}`)).toBe(1);
});

it('parallel submits all land in the database and the queue, confirmed (batched enqueue)', async () => {
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => submit(`par-${i}`)));
  for (const r of results) expect(r.errors).toBeUndefined();
  const ids = results.map(r => r.data!.submitJob.id);
  expect(new Set(ids).size).toBe(12);
  const rows = await confirmed(
    `SELECT id FROM jobs WHERE id = ANY(?::uuid[]) AND enqueued_at IS NOT NULL`,
    [ids],
    12,
  );
  expect(rows).toHaveLength(12);
  const deps = jobsDeps(t.app.services);
  for (const id of ids)
    expect(await deps.redis.exists(`${deps.prefix}:${queueName('cpu')}:${id}`)).toBe(1);
});

it('the same idempotency key returns the same job; a different request under it conflicts', async () => {
  const a = await submit('idem-1');
  const b = await submit('idem-1');
  expect(b.data!.submitJob.id).toBe(a.data!.submitJob.id);
  const c = await submit('idem-1', { seed: 7 });
  expect(c.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  const n = (
    await knex().raw(`SELECT count(*)::int AS n FROM jobs WHERE idempotency_key = 'idem-1'`)
  ).rows[0].n;
  expect(n).toBe(1);
});

it('cached dataset facts are re-checked: not ready, then deleted, refuse the submit', async () => {
  const ds = await uploadCsv(t, token, syntheticCsv(20, 10, 2));
  expect((await submit(null, {}, ds)).errors).toBeUndefined(); // facts now cached
  await knex().raw(`UPDATE datasets SET status = 'PROCESSING' WHERE id = ?`, [ds]);
  const notReady = await submit(null, {}, ds);
  expect(notReady.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  expect(notReady.errors?.[0]?.message).toMatch(/not ready/);
  await knex().raw(`UPDATE datasets SET status = 'READY', deleted_at = now() WHERE id = ?`, [ds]);
  const gone = await submit(null, {}, ds);
  expect(gone.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  const jobs = (await knex().raw(`SELECT count(*)::int AS n FROM jobs WHERE dataset_id = ?`, [ds]))
    .rows[0].n;
  expect(jobs).toBe(1);
});

it('values reach PostgreSQL verbatim through the one-round-trip script (escaping)', async () => {
  const values = [
    `it's a \\ back'slash? $1 ; DROP TABLE jobs; --`,
    `\\'; SELECT 1; --`,
    'ünïcødé ✓ \n new line',
    '',
    '?',
  ];
  for (const v of values) {
    const rows = await runScript<{ v: string; n: number | null }>(knex(), [
      ['SELECT ?::text AS v, ?::int AS n', [v, null]],
    ]);
    expect(rows).toEqual([{ v, n: null }]);
  }
  expect(() => inline('SELECT ?', [])).toThrow();
  expect(() => inline('SELECT 1', [1])).toThrow();
});
