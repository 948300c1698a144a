/**
 * PostgreSQL restarted while a job runs. The cluster is a dedicated embedded PostgreSQL (own data
 * directory and port) so the restart disturbs nothing else; Redis is the run's shared one (own
 * key prefix). The API runs in-process, the worker as a real process. During the outage the API
 * answers with an error instead of hanging; afterwards both pools recover, the job completes once
 * with one stored result, and the subscribed client reaches COMPLETED with no gap or duplicate.
 */
import 'reflect-metadata';
import { join } from 'node:path';
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
jest.setTimeout(150_000);

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
    // Masked (no driver text), with a request id; readiness reports the outage.
    expect(during.errors![0]!.extensions).toMatchObject({ code: 'INTERNAL' });
    expect(JSON.stringify(during.errors)).not.toMatch(/ECONNREFUSED|postgres/i);
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
    console.info(
      `postgres restart: job attempts ${facts.attempt}, statuses ${facts.statuses.join(' → ')}`,
    );
    await w.stop();
  } finally {
    await db.destroy();
  }
});
