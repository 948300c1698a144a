/**
 * Redis restarted EMPTY (no persistence: every BullMQ entry, lock and heartbeat is gone) while one
 * job runs and another waits in the queue. The AOF-backed restart is covered by
 * tests/e2e/jobs-faults.test.ts; here the queue itself is lost, so only the reconciler's
 * lost-entry repair (PostgreSQL is the source of truth) can save the jobs. Expected: both jobs
 * reach COMPLETED with exactly one stored result each, and their subscribers (which also lose
 * their Redis subscriptions) reach the terminal event with every seq once.
 */
import 'reflect-metadata';
import { once } from 'node:events';
import WebSocket from 'ws';
import { freePort } from '../../src/services/ports';
import { startRedis, type RedisHandle } from '../../src/services/redis';
import { registerUser, type TestApp } from '../helpers/app';
import { databaseUrl } from '../helpers/env';
import {
  ensureBuilt,
  FAST_JOB_ENV,
  op,
  slowSelection,
  startWorker,
  stopAllWorkers,
  syntheticCsv,
  uploadCsv,
  type EventView,
  type JobView,
} from '../helpers/worker';
import { subscribe, wsClient } from '../helpers/ws';
import {
  contiguous,
  eventsOf,
  jobFacts,
  newDeployment,
  phase,
  queueEntries,
  sql,
  startInProcessApi,
  waitForState,
  within,
} from './chaos-helpers';

Object.assign(process.env, FAST_JOB_ENV);
// Generous: on a loaded shared machine the build check, service starts and worker spawns alone
// can take minutes (an idle CI machine needs a fraction).
jest.setTimeout(300_000);

let redis: RedisHandle;
let api: TestApp;
let port: number;
let d: ReturnType<typeof newDeployment>;
let db: ReturnType<typeof sql>;
let user: { id: string; accessToken: string };
let datasetId: string;

async function submit(config: Record<string, unknown>): Promise<JobView> {
  const res = await api.gql<{ submitJob: JobView }>(
    op('SubmitJob'),
    { input: { datasetId, type: 'FEATURE_SELECTION', device: 'CPU', config } },
    user.accessToken,
  );
  if (!res.data) throw new Error(`submit failed: ${JSON.stringify(res.errors)}`);
  return res.data.submitJob;
}

beforeAll(async () => {
  await ensureBuilt();
  port = await freePort();
  redis = await startRedis({ port }); // no data dir: nothing survives a restart
  d = newDeployment(databaseUrl, redis.url);
  api = await startInProcessApi(d);
  db = sql(d.databaseUrl);
  user = await registerUser(api);
  datasetId = await uploadCsv(api, user.accessToken, syntheticCsv(60, 200));
});

afterAll(async () => {
  await stopAllWorkers();
  await api?.close();
  await redis?.stop();
  await db?.destroy();
});

test('Redis restarted empty with a job running and one waiting: the reconciler re-queues both; each completes once', async () => {
  const w = startWorker(api, { pool: 'cpu', concurrency: 1, env: { REDIS_URL: redis.url } });
  await w.live();
  const running = (await submit(slowSelection(2000))).id;
  await waitForState(api, user.accessToken, running, j => j.status === 'RUNNING');
  const waiting = (await submit({ selectors: [{ code: 't_test', k: 3 }] })).id;
  const client = wsClient(api.wsUrl, user.accessToken);
  const subs = [running, waiting].map(jobId =>
    subscribe<{ jobUpdates: EventView }>(client, op('JobUpdates'), { jobId }),
  );
  await waitForState(api, user.accessToken, running, j => j.progress >= 3);
  expect((await waitForState(api, user.accessToken, waiting, () => true)).status).toBe('QUEUED');
  expect(await queueEntries(redis.url, d.prefix, waiting)).toEqual(['cpu']);
  phase('one running, one waiting; restarting Redis empty');

  await redis.stop();
  await new Promise(r => setTimeout(r, 1000));
  redis = await startRedis({ port });
  expect(await queueEntries(redis.url, d.prefix, waiting)).toEqual([]);
  phase('Redis back, empty');

  for (const s of subs)
    await within(s.done, 120_000, 'a subscriber did not reach the terminal event');
  await client.dispose();
  for (const [i, jobId] of [running, waiting].entries()) {
    const events = eventsOf(subs[i]!.results);
    expect(contiguous(events.map(e => e.seq))).toBe(true);
    expect(events.at(-1)).toMatchObject({ kind: 'STATUS', status: 'COMPLETED' });
    const facts = await jobFacts(db, jobId);
    expect(facts).toMatchObject({ status: 'COMPLETED', resultRows: 1 });
    expect(facts.statuses.filter(s => s === 'COMPLETED')).toHaveLength(1);
    expect(facts.seqs).toEqual(events.map(e => e.seq));
    console.info(`job ${i}: attempts ${facts.attempt}, ${facts.statuses.join(' → ')}`);
  }
  await w.stop();
});

test('Redis down at submit: the API fails fast and commits nothing; the client retry after Redis returns runs once', async () => {
  const countJobs = async () =>
    (
      await db.raw<{ rows: Array<{ n: number }> }>(
        'select count(*)::int as n from jobs where owner_id = ?',
        [user.id],
      )
    ).rows[0]!.n;
  const before = await countJobs();
  const config = { selectors: [{ code: 't_test', k: 3 }] };
  const input = { datasetId, type: 'FEATURE_SELECTION', device: 'CPU', config };
  const idempotencyKey = 'chaos-redis-down';
  await redis.stop();
  let job: JobView | undefined;
  try {
    const t0 = Date.now();
    const res = await within(
      api.gql<{ submitJob: JobView }>(
        op('SubmitJob'),
        { input: { ...input, idempotencyKey } },
        user.accessToken,
      ),
      10_000,
      'submit hung while Redis was down',
    );
    const ms = Date.now() - t0;
    console.info(`submit with Redis down: ${res.errors?.[0]?.extensions?.code} in ${ms} ms`);
    expect(res.data?.submitJob ?? null).toBeNull();
    // A transient outage, not a bug: UNAVAILABLE, HTTP 503 with a retry hint (no driver text).
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.errors?.[0]?.extensions).toMatchObject({
      code: 'UNAVAILABLE',
      retryAfterSeconds: 5,
    });
    expect(JSON.stringify(res.errors)).not.toMatch(
      /max retries|Connection is closed|ECONNREFUSED/i,
    );
    expect(ms).toBeLessThan(5000);
    expect(await countJobs()).toBe(before);
    // A WebSocket client is told to try again later (1013, retried by graphql-ws clients), not
    // refused as if its token were bad (4403).
    const ws = new WebSocket(api.wsUrl, 'graphql-transport-ws');
    const closed = new Promise<number>(resolve => ws.on('close', code => resolve(code)));
    ws.on('error', () => undefined);
    await once(ws, 'open');
    ws.send(
      JSON.stringify({
        type: 'connection_init',
        payload: { authorization: `Bearer ${user.accessToken}` },
      }),
    );
    expect(await within(closed, 10_000, 'socket not closed while Redis was down')).toBe(1013);
  } finally {
    redis = await startRedis({ port });
  }
  // The client retries (same idempotency key) until the API's Redis connection is back.
  const deadline = Date.now() + 30_000;
  while (!job && Date.now() < deadline) {
    const res = await api.gql<{ submitJob: JobView }>(
      op('SubmitJob'),
      { input: { ...input, idempotencyKey } },
      user.accessToken,
    );
    job = res.data?.submitJob;
    if (!job) await new Promise(r => setTimeout(r, 500));
  }
  expect(job).toBeDefined();
  expect(await countJobs()).toBe(before + 1);
  const w = startWorker(api, { pool: 'cpu', env: { REDIS_URL: redis.url } });
  await w.live();
  const done = await waitForState(api, user.accessToken, job!.id, j =>
    ['COMPLETED', 'FAILED', 'CANCELLED'].includes(j.status),
  );
  expect(done.status).toBe('COMPLETED');
  const facts = await jobFacts(db, job!.id);
  expect(facts).toMatchObject({ status: 'COMPLETED', attempt: 1, resultRows: 1 });
  expect(facts.statuses).toEqual(['QUEUED', 'RUNNING', 'COMPLETED']);
  await w.stop();
});
