/**
 * A run that FINISHES while PostgreSQL is down. The worker (OMICSELECTOR_FAULT=pause-before-result)
 * stops right before its result write and tells us; we stop the dedicated PostgreSQL, release the
 * worker (SIGUSR2) so its write meets the outage and is retried, then restart the database. The
 * job must end COMPLETED on its first attempt (no re-run), with one result row and one COMPLETED
 * event, and the subscribed client must receive the terminal event.
 *
 * Also, against the run's shared PostgreSQL: the write is idempotent when the statement committed
 * but its reply was lost (no second result, the stored events are returned), a refused connection
 * is retried, a constraint error is not, and the retry gives up after its time budget.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { type Knex } from '@mikro-orm/postgresql';
import { transition, type Db } from '../../src/modules/jobs/job.store';
import { completeRunDurably } from '../../src/workers/result-write';
import { registerUser, startTestApp, type TestApp } from '../helpers/app';
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
  within,
} from './chaos-helpers';

Object.assign(process.env, FAST_JOB_ENV);
// Generous: on a loaded shared machine the build check, service starts and worker spawns alone
// can take minutes (an idle CI machine needs a fraction).
jest.setTimeout(300_000);

let pg: DedicatedPostgres | undefined;
let api: TestApp | undefined;
let shared: TestApp | undefined;

afterAll(async () => {
  await stopAllWorkers();
  await api?.close();
  await shared?.close();
  await pg?.stop();
});

async function waitForOutput(out: () => string, text: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!out().includes(text)) {
    if (Date.now() > deadline) throw new Error(`no "${text}" in ${ms} ms:\n${out()}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

test('a run finishing while PostgreSQL is down stores its result once the database is back', async () => {
  await ensureBuilt();
  const dataDir = join(testEnv().tmpDir, 'chaos-pg-result', 'data');
  pg = await startDedicatedPostgres(dataDir);
  const port = pg.port;
  const d = newDeployment(db => pg!.urlFor(db));
  api = await startInProcessApi(d);
  const db = sql(d.databaseUrl);
  try {
    const user = await registerUser(api);
    const datasetId = await uploadCsv(api, user.accessToken, syntheticCsv(40, 60));
    const w = startWorker(api, {
      pool: 'cpu',
      env: {
        DATABASE_URL: d.databaseUrl,
        OMICSELECTOR_FAULT: 'pause-before-result',
        RESULT_WRITE_RETRY_SECONDS: '90',
      },
    });
    await w.live();
    const submitted = await api.gql<{ submitJob: JobView }>(
      op('SubmitJob'),
      {
        input: { datasetId, type: 'FEATURE_SELECTION', device: 'CPU', config: slowSelection(20) },
      },
      user.accessToken,
    );
    expect(submitted.errors).toBeUndefined();
    const jobId = submitted.data!.submitJob.id;
    const client = wsClient(api.wsUrl, user.accessToken);
    const sub = subscribe<{ jobUpdates: EventView }>(client, op('JobUpdates'), { jobId });

    await waitForOutput(w.output, `fault injection: pause-before-result (job ${jobId})`, 90_000);
    phase('compute done, worker paused before the result write; stopping PostgreSQL');
    await pg.stop();
    const downAt = Date.now();
    w.kill('SIGUSR2');
    // The write meets the outage and is retried (not failed, not handed back to BullMQ).
    await waitForOutput(w.output, 'result write failed (database unreachable); retrying', 20_000);
    const left = 4000 - (Date.now() - downAt);
    if (left > 0) await new Promise(r => setTimeout(r, left));
    expect(w.proc.exitCode).toBeNull();
    pg = await startDedicatedPostgres(dataDir, port);
    phase(`PostgreSQL back after ${Date.now() - downAt} ms`);

    await within(sub.done, 120_000, 'the subscriber did not reach the terminal event');
    await client.dispose();
    const events = eventsOf(sub.results);
    expect(events.at(-1)).toMatchObject({ kind: 'STATUS', status: 'COMPLETED' });
    expect(events.filter(e => e.kind === 'RESULT')).toHaveLength(1);
    expect(contiguous(events.map(e => e.seq))).toBe(true);

    const facts = await jobFacts(db, jobId);
    // First attempt: the run was not repeated; one result, one COMPLETED.
    expect(facts).toMatchObject({ status: 'COMPLETED', attempt: 1, resultRows: 1 });
    expect(facts.statuses).toEqual(['QUEUED', 'RUNNING', 'COMPLETED']);
    expect(contiguous(facts.seqs)).toBe(true);
    expect(facts.seqs).toEqual(events.map(e => e.seq));
    expect(w.output()).not.toMatch(/retrying in|after \d+ attempts/);
    await w.stop();
  } finally {
    await db.destroy();
  }
});

describe('completeRunDurably against PostgreSQL', () => {
  let knex: Knex;
  let token: string;
  let datasetId: string;

  beforeAll(async () => {
    shared = await startTestApp();
    knex = shared.app.services.orm.em.getKnex();
    const user = await registerUser(shared);
    token = user.accessToken;
    datasetId = await uploadCsv(shared, token, syntheticCsv(20, 10));
  });

  /** A submitted job claimed by a (pretend) run 1, as a worker would. */
  async function runningJob(): Promise<string> {
    const res = await shared!.gql<{ submitJob: JobView }>(
      op('SubmitJob'),
      { input: { datasetId, type: 'FEATURE_SELECTION', device: 'CPU', config: slowSelection(5) } },
      token,
    );
    const id = res.data!.submitJob.id;
    const t = await transition(knex, id, {
      from: ['QUEUED'],
      to: 'RUNNING',
      kind: 'STATUS',
      patch: { newAttempt: true },
    });
    expect(t?.job.attempt).toBe(1);
    return id;
  }

  const result = { summary: { nFeatures: 10 }, data: { selected: ['g1'] }, artifacts: [] };

  /** A Db whose raw() calls go through `hook` (which may run the real statement first). */
  function flaky(hook: (n: number, run: () => Promise<unknown>) => Promise<unknown>): {
    db: Db;
    calls: () => number;
  } {
    let n = 0;
    const db = {
      raw: (sqlText: string, params: unknown[]) =>
        hook(++n, () => knex.raw(sqlText, params as Knex.RawBinding[])),
    } as unknown as Db;
    return { db, calls: () => n };
  }

  async function stored(jobId: string) {
    const r = await knex.raw<{ rows: Array<{ n: number }> }>(
      'select count(*)::int as n from job_results where job_id = ?',
      [jobId],
    );
    const e = await knex.raw<{ rows: Array<{ seq: number; kind: string; status: string }> }>(
      'select seq, kind, status from job_events where job_id = ? order by seq',
      [jobId],
    );
    return { results: r.rows[0]!.n, events: e.rows };
  }

  const lost = () =>
    Object.assign(new Error('Connection terminated unexpectedly'), { code: undefined });

  test('committed but the reply was lost: the retry returns the stored events, no second result', async () => {
    const jobId = await runningJob();
    const { db, calls } = flaky(async (n, run) => {
      const out = await run();
      if (n === 1) throw lost(); // the COMMIT happened; only the answer is gone
      return out;
    });
    const done = await completeRunDurably(db, jobId, 1, result, 'Completed', {
      retryMs: 10_000,
      initialDelayMs: 10,
    });
    expect(calls()).toBeGreaterThanOrEqual(3); // the write, its retry, the committed-check reads
    expect(done?.job.status).toBe('COMPLETED');
    expect(done?.events.map(e => [e.kind, e.status])).toEqual([
      ['RESULT', 'RUNNING'],
      ['STATUS', 'COMPLETED'],
    ]);
    const s = await stored(jobId);
    expect(s.results).toBe(1);
    expect(s.events.map(e => e.seq)).toEqual([1, 2, 3, 4]);
    expect(done?.events.map(e => e.seq)).toEqual([3, 4]);
  });

  test('refused connections are retried until the write goes through', async () => {
    const jobId = await runningJob();
    const { db, calls } = flaky(async (n, run) => {
      if (n <= 3) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return run();
    });
    const done = await completeRunDurably(db, jobId, 1, result, 'Completed', {
      retryMs: 10_000,
      initialDelayMs: 10,
    });
    expect(calls()).toBe(4);
    expect(done?.job.status).toBe('COMPLETED');
    expect((await stored(jobId)).results).toBe(1);
  });

  test('a constraint error is not retried; a stale fence is not a retry either', async () => {
    const jobId = await runningJob();
    const { db, calls } = flaky(() =>
      Promise.reject(Object.assign(new Error('duplicate key value'), { code: '23505' })),
    );
    await expect(
      completeRunDurably(db, jobId, 1, result, 'Completed', { retryMs: 10_000 }),
    ).rejects.toThrow('duplicate key value');
    expect(calls()).toBe(1);
    // Run 2 never started: its write matches nothing and nothing is stored.
    expect(
      await completeRunDurably(knex, jobId, 2, result, 'Completed', { retryMs: 0 }),
    ).toBeNull();
    expect((await stored(jobId)).results).toBe(0);
  });

  test('the retry gives up after its time budget with the connection error', async () => {
    const jobId = await runningJob();
    const { db, calls } = flaky(() =>
      Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    );
    await expect(
      completeRunDurably(db, jobId, 1, result, 'Completed', {
        retryMs: 300,
        initialDelayMs: 20,
        maxDelayMs: 50,
      }),
    ).rejects.toThrow('ECONNREFUSED');
    expect(calls()).toBeGreaterThan(2);
    expect((await stored(jobId)).results).toBe(0);
  });
});
