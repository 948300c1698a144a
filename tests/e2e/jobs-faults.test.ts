/**
 * Jobs under failure, with real worker processes: a worker killed with SIGKILL mid-job (the job
 * completes on another worker with one result), a second stall (the job fails with a clear reason),
 * cancel of a running compute (stopped within 5 s, the worker takes new work, retry works), and a
 * Redis restart during a job (the job completes and the subscriber reaches the terminal state).
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startApp } from '../../src/app';
import { parseConfig } from '../../src/config';
import { freePort } from '../../src/services/ports';
import { startRedis, type RedisHandle } from '../../src/services/redis';
import { registerUser, startTestApp, type TestApp } from '../helpers/app';
import { databaseUrl, testEnv } from '../helpers/env';
import {
  ensureBuilt,
  FAST_JOB_ENV,
  gqlOk,
  op,
  slowSelection,
  startWorker,
  stopAllWorkers,
  syntheticCsv,
  TERMINAL,
  uploadCsv,
  waitForJob,
  type EventView,
  type JobView,
  type WorkerProcess,
} from '../helpers/worker';
import { subscribe, wsClient } from '../helpers/ws';
import { allJobEvents } from '../helpers/job-events';

Object.assign(process.env, FAST_JOB_ENV);
jest.setTimeout(240_000);

async function resultRows(t: TestApp, jobId: string): Promise<number> {
  const rows = await t.app.services.orm.em
    .getConnection()
    .execute('select count(*)::int as n from job_results where job_id = ?', [jobId]);
  return rows[0].n as number;
}

async function statusEvents(t: TestApp, token: string, jobId: string): Promise<EventView[]> {
  const jobEvents = await allJobEvents(t, token, jobId);
  return jobEvents.filter(e => e.kind === 'STATUS');
}

/** The jobs listed in a worker's current heartbeat. */
async function runningOn(
  t: TestApp,
  w: WorkerProcess,
  redisUrl = testEnv().redisUrl,
): Promise<string[]> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const ids = await redis.zrange(`${t.config.redisPrefix}:workers`, 0, -1);
    const id = ids.find(x => x.includes(`-${w.pid}-`));
    const raw = id ? await redis.get(`${t.config.redisPrefix}:worker:${id}`) : null;
    return raw ? (JSON.parse(raw) as { running: string[] }).running : [];
  } finally {
    redis.disconnect();
  }
}

describe('jobs under failure', () => {
  let t: TestApp;
  let alice: { id: string; accessToken: string };
  let datasetId: string;

  async function submit(input: Record<string, unknown>): Promise<JobView> {
    return (
      await gqlOk<{ submitJob: JobView }>(
        t,
        'SubmitJob',
        { input: { datasetId, device: 'CPU', ...input } },
        alice.accessToken,
      )
    ).submitJob;
  }

  beforeAll(async () => {
    await ensureBuilt();
    t = await startTestApp();
    alice = await registerUser(t);
    datasetId = await uploadCsv(t, alice.accessToken, syntheticCsv(60, 300));
  });

  afterAll(async () => {
    await stopAllWorkers();
    await t?.close();
  });

  beforeEach(async () => {
    // A failed test must not leave workers that would take the next test's jobs.
    await stopAllWorkers();
  });

  test('kill -9 of the worker mid-job: the job completes on another worker with exactly one result', async () => {
    const a = startWorker(t, { pool: 'cpu' });
    await a.live();
    const job = await submit({ type: 'FEATURE_SELECTION', config: slowSelection(1500) });
    const running = await waitForJob(
      t,
      alice.accessToken,
      job.id,
      j => j.status === 'RUNNING' && j.progress >= 5,
    );
    expect(running.workerId).toContain(`-${a.pid}-`);
    // Kill first, then start the survivor: the job cannot finish on A in the meantime.
    a.kill('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    const b = startWorker(t, { pool: 'cpu' });
    await b.live();

    const done = await waitForJob(
      t,
      alice.accessToken,
      job.id,
      j => TERMINAL.has(j.status),
      150_000,
    );
    expect(done.status).toBe('COMPLETED');
    expect(done.workerId).toContain(`-${b.pid}-`);
    expect(done.attempts).toBe(2);
    expect(done.result!.attempt).toBe(2);
    expect(await resultRows(t, job.id)).toBe(1);
    const statuses = await statusEvents(t, alice.accessToken, job.id);
    expect(statuses.map(e => e.status)).toEqual(['QUEUED', 'RUNNING', 'RUNNING', 'COMPLETED']);
    expect(statuses[2]!.message).toMatch(/^Restarted on /);
    await b.stop();
  });

  test('a second stall fails the job with a clear reason (no endless re-runs)', async () => {
    const a = startWorker(t, { pool: 'cpu' });
    await a.live();
    const job = await submit({ type: 'FEATURE_SELECTION', config: slowSelection(3000) });
    await waitForJob(t, alice.accessToken, job.id, j => j.status === 'RUNNING' && j.progress >= 2);
    a.kill('SIGKILL');
    await a.exited;
    const b = startWorker(t, { pool: 'cpu' });
    await b.live();
    await waitForJob(
      t,
      alice.accessToken,
      job.id,
      j => j.status === 'RUNNING' && j.attempts === 2 && j.progress >= 2,
      60_000,
    );
    b.kill('SIGKILL');
    await b.exited;
    // A third worker's stall check finds the job stalled a second time.
    const c = startWorker(t, { pool: 'cpu' });
    await c.live();
    const failed = await waitForJob(
      t,
      alice.accessToken,
      job.id,
      j => TERMINAL.has(j.status),
      60_000,
    );
    expect(failed).toMatchObject({ status: 'FAILED', errorCode: 'WORKER_LOST', attempts: 2 });
    expect(failed.errorMessage).toMatch(/stopped responding twice/);
    expect(await resultRows(t, job.id)).toBe(0);
    await c.stop();
  });

  test('cancel stops a running compute within 5 s; the worker takes new work; retry runs it again', async () => {
    const w = startWorker(t, { pool: 'cpu' });
    await w.live();
    const job = await submit({ type: 'FEATURE_SELECTION', config: slowSelection(1200) });
    await waitForJob(t, alice.accessToken, job.id, j => j.status === 'RUNNING' && j.progress >= 5);
    expect(await runningOn(t, w)).toEqual([job.id]);

    const t0 = Date.now();
    const cancelled = (
      await gqlOk<{ cancelJob: JobView }>(t, 'CancelJob', { id: job.id }, alice.accessToken)
    ).cancelJob;
    expect(cancelled.status).toBe('CANCELLED');
    // The compute is gone from the worker (its heartbeat no longer lists it) within 5 s.
    while ((await runningOn(t, w)).includes(job.id)) {
      expect(Date.now() - t0).toBeLessThan(5000);
      await new Promise(r => setTimeout(r, 100));
    }
    const stoppedMs = Date.now() - t0;
    expect(stoppedMs).toBeLessThan(5000);
    console.info(`cancel → compute gone from the worker in ${stoppedMs} ms`);
    // Exactly one terminal state, no event after it, no result, no retry.
    await new Promise(r => setTimeout(r, 1500));
    const after = await waitForJob(t, alice.accessToken, job.id, () => true);
    expect(after.status).toBe('CANCELLED');
    expect(after.lastSeq).toBe(cancelled.lastSeq);
    expect(after.attempts).toBe(1);
    expect(await resultRows(t, job.id)).toBe(0);
    // Cancelling again is a no-op; a finished job cannot be cancelled.
    expect(
      (await gqlOk<{ cancelJob: JobView }>(t, 'CancelJob', { id: job.id }, alice.accessToken))
        .cancelJob.status,
    ).toBe('CANCELLED');

    const quick = await submit({
      type: 'FEATURE_SELECTION',
      config: { selectors: [{ code: 't_test', k: 3 }] },
    });
    const quickDone = await waitForJob(t, alice.accessToken, quick.id, j => TERMINAL.has(j.status));
    expect(quickDone.status).toBe('COMPLETED');
    expect(quickDone.workerId).toContain(`-${w.pid}-`);
    const late = await t.gql(op('CancelJob'), { id: quick.id }, alice.accessToken);
    expect(late.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const retried = (
      await gqlOk<{ retryJob: JobView }>(t, 'RetryJob', { id: job.id }, alice.accessToken)
    ).retryJob;
    expect(['QUEUED', 'RUNNING']).toContain(retried.status);
    const again = await waitForJob(
      t,
      alice.accessToken,
      job.id,
      j => TERMINAL.has(j.status),
      120_000,
    );
    expect(again).toMatchObject({ status: 'COMPLETED', attempts: 2, errorCode: null });
    expect(await resultRows(t, job.id)).toBe(1);
    await w.stop();
  });

  test('Redis restarted during a job: the job completes and the subscriber reaches the terminal state', async () => {
    // Its own Redis (append-only file, fixed port) so restarting it disturbs no other test.
    const env = testEnv();
    const dir = mkdtempSync(join(env.tmpDir, 'redis-restart-'));
    const port = await freePort();
    let redis: RedisHandle = await startRedis({ dataDir: dir, port });
    const id = randomUUID().replace(/-/g, '').slice(0, 12);
    const appPort = await freePort();
    const parsed = parseConfig({
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(appPort),
      DATA_DIR: mkdtempSync(join(env.tmpDir, 'app-')),
      JWT_SECRET: randomBytes(32).toString('base64url'),
      REDIS_PREFIX: `r${id}`,
    });
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    const databaseName = `r_${id}`;
    const app = await startApp(parsed.config, {
      databaseUrl: databaseUrl(databaseName),
      redisUrl: redis.url,
    });
    const base = `http://127.0.0.1:${app.port}`;
    const rt = {
      ...t,
      url: `${base}/graphql`,
      wsUrl: `ws://127.0.0.1:${app.port}/graphql`,
      baseUrl: base,
      config: parsed.config,
      databaseName,
      app,
      gql: async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
        const res = await fetch(`${base}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await res.json()) as { data?: never; errors?: never };
        return { status: res.status, headers: res.headers, data: body.data, errors: body.errors };
      },
      close: () => app.close(),
    } as TestApp;
    try {
      const user = await registerUser(rt);
      const ds = await uploadCsv(rt, user.accessToken, syntheticCsv(60, 300));
      const w = startWorker(rt, {
        pool: 'cpu',
        env: { REDIS_URL: redis.url, JOBS_LOCK_DURATION_MS: '15000' },
      });
      await w.live();
      const job = (
        await gqlOk<{ submitJob: JobView }>(
          rt,
          'SubmitJob',
          {
            input: {
              datasetId: ds,
              type: 'FEATURE_SELECTION',
              device: 'CPU',
              config: slowSelection(1500),
            },
          },
          user.accessToken,
        )
      ).submitJob;
      const client = wsClient(rt.wsUrl, user.accessToken);
      const sub = subscribe<{ jobUpdates: EventView }>(client, op('JobUpdates'), { jobId: job.id });
      await waitForJob(
        rt,
        user.accessToken,
        job.id,
        j => j.status === 'RUNNING' && j.progress >= 5,
      );

      await redis.stop();
      await new Promise(r => setTimeout(r, 2000));
      redis = await startRedis({ dataDir: dir, port });

      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        sub.done,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('subscription did not end')), 150_000);
        }),
      ]).finally(() => clearTimeout(timer));
      await client.dispose();
      const events = sub.results.map(r => r.data!.jobUpdates);
      const seqs = events.map(e => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // nothing lost, nothing twice
      expect(events.at(-1)).toMatchObject({ kind: 'STATUS', status: 'COMPLETED' });
      const done = await waitForJob(rt, user.accessToken, job.id, () => true);
      expect(done.status).toBe('COMPLETED');
      expect(await resultRows(rt, job.id)).toBe(1);
      await w.stop();
    } finally {
      await app.close();
      await redis.stop();
    }
  });
});
