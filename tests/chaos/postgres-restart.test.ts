/**
 * PostgreSQL restarted while a job runs. The cluster is a dedicated embedded PostgreSQL (own data
 * directory and port) so the restart disturbs nothing else; Redis is the run's shared one (own
 * key prefix). The API runs in-process, the worker as a real process. During the outage the API
 * answers UNAVAILABLE (HTTP 503 + Retry-After; WebSocket close 1013) instead of hanging; afterwards both pools recover, the job completes once
 * with one stored result, and the subscribed client reaches COMPLETED with no gap or duplicate.
 */
import 'reflect-metadata';
import { once } from 'node:events';
import { join } from 'node:path';
import WebSocket from 'ws';
import { registerUser, type TestApp } from '../helpers/app';
import { testEnv } from '../helpers/env';
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
  sql,
  startDedicatedPostgres,
  startInProcessApi,
  type DedicatedPostgres,
  waitForState,
  within,
} from './chaos-helpers';

Object.assign(process.env, FAST_JOB_ENV);

function expectUnavailable(res: {
  status: number;
  headers: Headers;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}): void {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('5');
  expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNAVAILABLE', retryAfterSeconds: 5 });
  expect(res.errors?.[0]?.extensions?.requestId).toEqual(expect.any(String));
  expect(JSON.stringify(res.errors)).not.toMatch(/ECONNREFUSED|postgres|knex|terminat/i);
}

/** Opens a raw graphql-ws socket, sends connection_init with `token`, resolves the close code. */
async function wsCloseCode(url: string, token: string): Promise<number> {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const closed = new Promise<number>(resolve => ws.on('close', code => resolve(code)));
  ws.on('error', () => undefined);
  await once(ws, 'open');
  ws.send(
    JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
  );
  return closed;
}
// Generous: on a loaded shared machine the build check and two embedded-PostgreSQL starts alone
// can take two minutes.
jest.setTimeout(300_000);

let pg: DedicatedPostgres | undefined;
let api: TestApp | undefined;

afterAll(async () => {
  await stopAllWorkers();
  await api?.close();
  await pg?.stop();
});

test('PostgreSQL restart mid-job: clean errors during the outage, then the job completes once and the subscriber sees it', async () => {
  await ensureBuilt();
  const dataDir = join(testEnv().tmpDir, 'chaos-pg', 'data');
  pg = await startDedicatedPostgres(dataDir);
  const port = pg.port;
  const d = newDeployment(db => pg!.urlFor(db));
  api = await startInProcessApi(d);
  const db = sql(d.databaseUrl);
  try {
    const user = await registerUser(api);
    // Registered but never authenticated before the outage: no cached user row.
    const other = await registerUser(api);
    const datasetId = await uploadCsv(api, user.accessToken, syntheticCsv(60, 200));
    const w = startWorker(api, { pool: 'cpu', env: { DATABASE_URL: d.databaseUrl } });
    await w.live();
    const submitted = await api.gql<{ submitJob: JobView }>(
      op('SubmitJob'),
      {
        input: {
          datasetId,
          type: 'FEATURE_SELECTION',
          device: 'CPU',
          config: slowSelection(16000),
        },
      },
      user.accessToken,
    );
    // Long enough to outlast the ≥ 3 s outage plus the restart on a fast machine: a run that
    // finishes while PostgreSQL is down is a different fault (see the README's known gaps).
    const jobId = submitted.data!.submitJob.id;
    const client = wsClient(api.wsUrl, user.accessToken);
    const sub = subscribe<{ jobUpdates: EventView }>(client, op('JobUpdates'), { jobId });
    await waitForState(
      api,
      user.accessToken,
      jobId,
      j => j.status === 'RUNNING' && j.progress >= 3,
    );
    phase('job running; stopping PostgreSQL');

    await pg.stop();
    const downAt = Date.now();
    // The API answers (an error) instead of hanging while the database is gone.
    const during = await within(
      api.gql('query($id: ID!) { job(id: $id) { id status } }', { id: jobId }, user.accessToken),
      10_000,
      'the API hung during the database outage',
    );
    expect(during.errors?.length).toBeGreaterThan(0);
    // A transient outage, like Redis down: UNAVAILABLE, HTTP 503 + Retry-After, a request id, no
    // driver text. This user's row is cached, so the failure comes from the resolver's read.
    expectUnavailable(during);
    // A user the API has not seen yet: the failure comes from reading the user row while
    // authenticating (the context function) — the same contract.
    expectUnavailable(
      await within(
        api.gql('{ datasets(first: 1) { totalCount } }', {}, other.accessToken),
        10_000,
        'the API hung during the database outage (context)',
      ),
    );
    // A WebSocket connection_init that needs the user row is told to try again later (1013, which
    // graphql-ws clients retry), not refused as if the token were bad (4403).
    expect(
      await within(wsCloseCode(api.wsUrl, other.accessToken), 10_000, 'socket left open'),
    ).toBe(1013);
    const ready = await within(fetch(`${api.baseUrl}/ready`), 10_000, '/ready hung');
    expect(ready.status).toBe(503);
    const left = 3000 - (Date.now() - downAt);
    if (left > 0) await new Promise(r => setTimeout(r, left));
    pg = await startDedicatedPostgres(dataDir, port);
    phase(`PostgreSQL back after ${Date.now() - downAt} ms`);

    await within(sub.done, 120_000, 'the subscriber did not reach the terminal event');
    await client.dispose();
    const events = eventsOf(sub.results);
    expect(contiguous(events.map(e => e.seq))).toBe(true);
    expect(events.at(-1)).toMatchObject({ kind: 'STATUS', status: 'COMPLETED' });

    const facts = await jobFacts(db, jobId);
    expect(facts).toMatchObject({ status: 'COMPLETED', resultRows: 1 });
    expect(facts.statuses.filter(s => s === 'COMPLETED')).toHaveLength(1);
    expect(contiguous(facts.seqs)).toBe(true);
    expect(facts.seqs).toEqual(events.map(e => e.seq));
    // The API's own pool recovered too.
    const after = await waitForState(api, user.accessToken, jobId, () => true);
    expect(after.status).toBe('COMPLETED');
    // Recovered for the other user too: HTTP, and a WebSocket that was refused with 1013.
    // (The client's retry loop: a pooled connection the restart broke may still answer 503 once.)
    const pageQuery = () =>
      api!.gql<{ datasets: { totalCount: number } }>(
        '{ datasets(first: 1) { totalCount } }',
        {},
        other.accessToken,
      );
    let page = await pageQuery();
    for (let i = 0; i < 20 && page.status === 503; i++) {
      await new Promise(r => setTimeout(r, 500));
      page = await pageQuery();
    }
    expect(page.status).toBe(200);
    expect(page.data?.datasets.totalCount).toBe(0);
    const ws = wsClient(api.wsUrl, other.accessToken);
    const me = subscribe<{ me: { id: string } }>(ws, '{ me { id } }', {});
    await within(me.done, 10_000, 'WebSocket query after the outage');
    expect(me.results[0]?.data?.me.id).toBe(other.id);
    await ws.dispose();
    console.info(
      `postgres restart: job attempts ${facts.attempt}, statuses ${facts.statuses.join(' → ')}`,
    );
    await w.stop();
  } finally {
    await db.destroy();
  }
});
