/**
 * Scale-out on one machine: TWO API processes (`node dist/src/main.js`, what `npm start` runs, with
 * EMBEDDED_WORKER=0) and TWO worker processes (`node dist/src/workers/main.js --pool cpu`) share
 * nothing but the suite's one PostgreSQL database, one Redis namespace and one S3 bucket (s3rver),
 * exactly like replicas behind a load balancer and workers on other hosts.
 *
 *  1. jobs submitted through both APIs are shared by both workers, each run exactly once
 *     (attempt 1, one RESULT event, QUEUED → RUNNING → COMPLETED once);
 *  2. a client on API #2 follows a job submitted through API #1 (and the other way round) and gets
 *     every event once, in order, up to the terminal state; `myJobUpdates` (live pub/sub only, no
 *     store replay) on the watching API sees the job's status changes too. Both APIs run with a 5 min
 *     store re-read interval (JOBS_SUBSCRIPTION_POLL_MS), so events that arrive within the test's
 *     limits came through Redis pub/sub, not through the fallback poll;
 *  3. a cancel sent to API #1 reaches the worker running the job (it frees its slot) and the
 *     client following the job on API #2 (CANCELLED is published by API #1);
 *  4. a dataset uploaded through API #1 is listed and readable (values) through API #2, and a token
 *     issued by one API is accepted by the other (same JWT_SECRET).
 *
 * Loaded 2-core machine: every wait polls with a generous deadline; nothing sleeps for a fixed time
 * except the 0.5–1.5 s "subscription is active" grace of graphql-ws (see tests/helpers/ws.ts).
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { type GqlResponse, type TestApp } from '../helpers/app';
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
  uploadCsv,
  type EventView,
  type JobView,
  type WorkerProcess,
} from '../helpers/worker';
import { subscribe, wsClient } from '../helpers/ws';
import { allJobEvents } from '../helpers/job-events';
import { parseConfig } from '../../src/config';
import { freePort } from '../../src/services/ports';

jest.setTimeout(600_000);

const ROOT = resolve(__dirname, '../..');
const MAIN = join(ROOT, 'dist/src/main.js');
/** Store re-read interval of both APIs: far longer than any wait below (see header). */
const POLL_MS = 300_000;

interface ApiProcess extends TestApp {
  child: ChildProcess;
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The environment every process of this deployment shares (what a shared `.env` would hold). */
function sharedEnv(): Record<string, string> {
  const env = testEnv();
  const id = randomUUID().replace(/-/g, '').slice(0, 12);
  return {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl(`scale_${id}`),
    REDIS_URL: env.redisUrl,
    REDIS_PREFIX: `scale${id}`,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    S3_ENDPOINT: `http://${env.s3.endpoint}:${env.s3.port}`,
    S3_ACCESS_KEY: env.s3.accessKey,
    S3_SECRET_KEY: env.s3.secretKey,
    S3_BUCKET: `scale-${id}`,
    S3_REGION: env.s3.region,
  };
}

async function gqlAt<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GqlResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: { data?: T | null; errors?: GqlResponse<T>['errors'] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = { errors: [{ message: `non-JSON response (${res.status}): ${text.slice(0, 200)}` }] };
  }
  return { status: res.status, headers: res.headers, data: body.data, errors: body.errors };
}

/**
 * `node dist/src/main.js` with the shared environment plus its own port and DATA_DIR. Returns a
 * TestApp-shaped handle so the job helpers (uploadCsv, gqlOk, waitForJob, startWorker) work on it.
 */
async function startApi(shared: Record<string, string>, name: string): Promise<ApiProcess> {
  const port = await freePort();
  const vars: Record<string, string> = {
    ...shared,
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: mkdtempSync(join(testEnv().tmpDir, `${name}-`)),
    EMBEDDED_WORKER: '0',
    RETENTION_INTERVAL: '0',
    LOG_LEVEL: 'warn',
    ...FAST_JOB_ENV,
    JOBS_SUBSCRIPTION_POLL_MS: String(POLL_MS),
  };
  const parsed = parseConfig(vars);
  if (!parsed.ok) throw new Error(`bad config:\n${parsed.errors.join('\n')}`);
  let out = '';
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...vars },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (b: Buffer) => (out = (out + b.toString()).slice(-20_000));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(r =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const api = {
    url: `${baseUrl}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    baseUrl,
    config: parsed.config,
    // Workers take DATABASE_URL from databaseUrl(databaseName): the same database as the APIs.
    databaseName: new URL(shared.DATABASE_URL!).pathname.slice(1),
    child,
    output: () => out,
    exit,
    gql: <T>(q: string, v: Record<string, unknown> = {}, token?: string) =>
      gqlAt<T>(`${baseUrl}/graphql`, q, v, token),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(timer);
    },
  } as unknown as ApiProcess;
  // Ready = PostgreSQL, Redis and storage reachable from this process.
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start-up:\n${out}`);
    try {
      if ((await fetch(`${baseUrl}/ready`)).status === 200) return api;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} not ready in 180 s:\n${out}`);
    await new Promise(r => setTimeout(r, 250));
  }
}

/** Waits for a subscription to complete (the server ends it after the terminal event). */
async function completed(done: Promise<void>, timeoutMs: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    done,
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: not completed in ${timeoutMs} ms`)),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it returns true (or throws with `what` after timeoutMs). */
async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: () => string,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise(r => setTimeout(r, 200));
  }
}

interface Settled {
  id: string;
  status: string;
  attempts: number;
  workerId: string | null;
  result: { attempt: number } | null;
}

/** Polls `job(id)` on `api` until it has ended (an inline query: only the fields used here). */
async function settled(
  api: ApiProcess,
  token: string,
  id: string,
  timeoutMs = 300_000,
): Promise<Settled> {
  let last: Settled | undefined;
  await until(
    async () => {
      const res = await api.gql<{ job: Settled }>(
        `query($id: ID!) { job(id: $id) { id status attempts workerId result { attempt } } }`,
        { id },
        token,
      );
      if (res.errors?.length) throw new Error(JSON.stringify(res.errors));
      last = res.data!.job;
      return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(last.status);
    },
    timeoutMs,
    () => `job ${id} did not end: ${JSON.stringify(last)}`,
  );
  return last!;
}

const pidOf = (workerId: string | null) => Number(/-(\d+)-[0-9a-f]{8}$/.exec(workerId ?? '')?.[1]);

describe('two APIs and two workers on one PostgreSQL, Redis and S3', () => {
  let api1: ApiProcess;
  let api2: ApiProcess;
  let workers: WorkerProcess[] = [];
  let token: string;
  let csv: string;
  let datasetId: string;

  beforeAll(async () => {
    await ensureBuilt();
    const shared = sharedEnv();
    // The first replica creates the database and applies migrations; the second finds them done
    // (migrations take no cross-process lock: see README "Scaling out").
    api1 = await startApi(shared, 'api1');
    api2 = await startApi(shared, 'api2');
    workers = [startWorker(api1, { pool: 'cpu' }), startWorker(api2, { pool: 'cpu' })];
    await Promise.all(workers.map(w => w.live(120_000)));

    // Register on API #1, use the token on API #2 (same JWT_SECRET, same database).
    const reg = await api1.gql<{ register: { accessToken: string; user: { id: string } } }>(
      `mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }`,
      { input: { email: 'scale@example.org', username: 'scale', password: 'scale out 12345' } },
    );
    expect(reg.errors).toBeUndefined();
    token = reg.data!.register.accessToken;
    const me = await api2.gql<{ me: { id: string } }>('{ me { id } }', {}, token);
    expect(me.data?.me.id).toBe(reg.data!.register.user.id);
    // FEATURE_SELECTION needs no role; the dataset is uploaded through API #1 only.
    csv = syntheticCsv(40, 60, 7);
    datasetId = await uploadCsv(api1, token, csv, 'scale-out');
  }, 600_000);

  afterAll(async () => {
    await stopAllWorkers();
    await Promise.all([api1?.close(), api2?.close()]);
  });

  test('a dataset uploaded through API #1 is listed and readable through API #2', async () => {
    // Dataset operations live in datasets.graphql (op() reads jobs.graphql): inline queries.
    const one = await api2.gql<{
      dataset: { id: string; status: string; sampleCount: number; featureCount: number };
    }>(
      `query($id: ID!) { dataset(id: $id) { id status sampleCount featureCount } }`,
      { id: datasetId },
      token,
    );
    expect(one.errors).toBeUndefined();
    expect(one.data!.dataset).toEqual({
      id: datasetId,
      status: 'READY',
      sampleCount: 40,
      featureCount: 60,
    });

    const list = await api2.gql<{
      datasets: { totalCount: number; edges: { node: { id: string } }[] };
    }>(`{ datasets(first: 10) { totalCount edges { node { id } } } }`, {}, token);
    expect(list.data!.datasets.edges.map(e => e.node.id)).toContain(datasetId);

    // The values come from the matrix object API #1 wrote to S3.
    const preview = await api2.gql<{
      datasetPreview: { sampleIds: string[]; featureNames: string[]; values: (number | null)[][] };
    }>(
      `query($id: ID!) { datasetPreview(id: $id, rows: 3, columns: 4) { sampleIds featureNames values } }`,
      { id: datasetId },
      token,
    );
    expect(preview.errors).toBeUndefined();
    const p = preview.data!.datasetPreview;
    expect(p.sampleIds).toEqual(['S1', 'S2', 'S3']);
    expect(p.featureNames).toEqual(['g1', 'g2', 'g3', 'g4']);
    const rows = csv
      .trim()
      .split('\n')
      .slice(1, 4)
      .map(l => l.split(',').slice(2, 6).map(Number));
    expect(p.values).toHaveLength(3);
    p.values.forEach(
      (row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(rows[i]![j]!, 4)), // stored as float; CSV has 4 dp
    );
  });

  test('jobs submitted through both APIs are shared by both workers, each run exactly once', async () => {
    const apis = [api1, api2];
    const jobs: Settled[] = [];
    const seenPids = () => new Set(jobs.filter(j => j.workerId).map(j => pidOf(j.workerId)));
    // Batches of four small jobs (two through each API) until both workers have taken some; with
    // one job at a time per worker that is normally the first batch.
    for (let batch = 0; batch < 5 && seenPids().size < 2; batch++) {
      const submitted = await Promise.all(
        [0, 1, 2, 3].map(i =>
          gqlOk<{ submitJob: JobView }>(
            apis[i % 2]!,
            'SubmitJob',
            {
              input: {
                datasetId,
                type: 'FEATURE_SELECTION',
                device: 'CPU',
                config: slowSelection(40),
              },
            },
            token,
          ).then(r => r.submitJob),
        ),
      );
      // Each job is followed through the API it was NOT submitted to.
      const finished = await Promise.all(
        submitted.map((j, i) => settled(apis[(i + 1) % 2]!, token, j.id)),
      );
      jobs.push(...finished);
    }
    const workerPids = new Set(workers.map(w => w.pid));
    expect(seenPids()).toEqual(workerPids);

    for (const j of jobs) {
      expect(j).toMatchObject({ status: 'COMPLETED', attempts: 1 });
      expect(j.result).toMatchObject({ attempt: 1 });
      expect(workerPids.has(pidOf(j.workerId))).toBe(true);
      // One run, one result: the stored events (read through the other API) show QUEUED, RUNNING
      // and COMPLETED once each and exactly one RESULT.
      const jobEvents = await allJobEvents(api2, token, j.id);
      expect(jobEvents.filter(e => e.kind === 'STATUS').map(e => e.status)).toEqual([
        'QUEUED',
        'RUNNING',
        'COMPLETED',
      ]);
      expect(jobEvents.filter(e => e.kind === 'RESULT')).toHaveLength(1);
      expect(jobEvents.map(e => e.seq)).toEqual(jobEvents.map((_, i) => i + 1));
    }
    const { jobs: page } = await gqlOk<{ jobs: { totalCount: number } }>(api1, 'Jobs', {}, token);
    expect(page.totalCount).toBe(jobs.length);
  });

  test.each([
    ['submitted via API #1, watched on API #2', 0, 1],
    ['submitted via API #2, watched on API #1', 1, 0],
  ])('job %s: every event once, in order, to the terminal state', async (_name, from, to) => {
    const submitter = [api1, api2][from]!;
    const watcher = [api1, api2][to]!;
    const client = wsClient(watcher.wsUrl, token);
    try {
      // Live only (no replay from the store): proves the API #2 ← Redis → API #1/worker path.
      // Pub/sub is at-most-once: a slow SUBSCRIBE on a loaded box may miss QUEUED (sent at
      // submit), so wait a little longer than the helper's default and only require the later
      // changes, which come seconds after.
      const mine = subscribe<{ myJobUpdates: EventView }>(client, op('MyJobUpdates'), {}, 1500);
      await mine.ready;
      const job = (
        await gqlOk<{ submitJob: JobView }>(
          submitter,
          'SubmitJob',
          {
            input: {
              datasetId,
              type: 'FEATURE_SELECTION',
              device: 'CPU',
              config: slowSelection(300),
            },
          },
          token,
        )
      ).submitJob;
      const sub = subscribe<{ jobUpdates: EventView }>(client, op('JobUpdates'), {
        jobId: job.id,
        afterSeq: 0,
      });
      // Far below POLL_MS: completion must come through pub/sub.
      await completed(
        sub.done,
        240_000,
        `jobUpdates(${job.id}) on ${to === 1 ? 'API #2' : 'API #1'}`,
      );
      const events = sub.results.map(r => {
        expect(r.errors).toBeUndefined();
        return r.data!.jobUpdates;
      });
      expect(events.every(e => e.jobId === job.id)).toBe(true);
      expect(events.map(e => e.seq)).toEqual(events.map((_, i) => i + 1)); // no gap, no duplicate
      expect(events.filter(e => e.kind === 'STATUS').map(e => e.status)).toEqual([
        'QUEUED',
        'RUNNING',
        'COMPLETED',
      ]);
      const progress = events.filter(e => e.kind === 'PROGRESS');
      expect(progress.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < progress.length; i++) {
        expect(progress[i]!.progress).toBeGreaterThanOrEqual(progress[i - 1]!.progress);
      }
      expect(events.at(-1)).toMatchObject({ kind: 'STATUS', status: 'COMPLETED', progress: 100 });

      // Exactly what the submitting API has stored.
      const jobEvents = await allJobEvents(submitter, token, job.id);
      expect(jobEvents.map(e => [e.seq, e.kind, e.status])).toEqual(
        events.map(e => [e.seq, e.kind, e.status]),
      );

      // myJobUpdates on the watcher saw this job's status changes live, in order, once each.
      const live = () =>
        mine.results.map(r => r.data!.myJobUpdates).filter(e => e.jobId === job.id);
      await until(
        () => live().some(e => e.status === 'COMPLETED'),
        60_000,
        () => `myJobUpdates saw ${JSON.stringify(live())}`,
      );
      const liveSeqs = live().map(e => e.seq);
      expect(liveSeqs).toEqual([...new Set(liveSeqs)].sort((a, b) => a - b));
      const liveStatuses = live()
        .filter(e => e.kind === 'STATUS')
        .map(e => e.status);
      expect(liveStatuses.filter(x => x !== 'QUEUED')).toEqual(['RUNNING', 'COMPLETED']);
      expect(liveStatuses.indexOf('QUEUED')).toBeLessThanOrEqual(0); // first, if seen at all
      await mine.dispose();
      await sub.dispose();
    } finally {
      await client.dispose();
    }
  });

  test('a cancel sent to API #1 reaches the worker running the job and the client on API #2', async () => {
    const job = (
      await gqlOk<{ submitJob: JobView }>(
        api2,
        'SubmitJob',
        {
          input: {
            datasetId,
            type: 'FEATURE_SELECTION',
            device: 'CPU',
            config: slowSelection(20_000),
          },
        },
        token,
      )
    ).submitJob;
    // Running (and past its first progress) on one of the workers.
    let running: Settled | undefined;
    await until(
      async () => {
        const r = await api2.gql<{ job: Settled & { lastSeq: number } }>(
          `query($id: ID!) { job(id: $id) { id status attempts workerId lastSeq result { attempt } } }`,
          { id: job.id },
          token,
        );
        running = r.data?.job;
        return running?.status === 'RUNNING' && r.data!.job.lastSeq >= 3;
      },
      240_000,
      () => `job never ran: ${JSON.stringify(running)}`,
    );
    const client = wsClient(api2.wsUrl, token);
    try {
      const sub = subscribe<{ jobUpdates: EventView }>(client, op('JobUpdates'), {
        jobId: job.id,
        afterSeq: 0,
      });
      await sub.ready;
      // The CANCELLED event is written and published by API #1, which handles the mutation.
      const cancelled = await gqlOk<{ cancelJob: JobView }>(
        api1,
        'CancelJob',
        { id: job.id },
        token,
      );
      expect(cancelled.cancelJob.status).toBe('CANCELLED');
      await completed(sub.done, 120_000, `jobUpdates(${job.id}) on API #2 after cancel`);
      const events = sub.results.map(r => r.data!.jobUpdates);
      expect(events.map(e => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.at(-1)).toMatchObject({ kind: 'STATUS', status: 'CANCELLED' });
      expect(events.filter(e => e.status === 'COMPLETED')).toHaveLength(0);
      await sub.dispose();
    } finally {
      await client.dispose();
    }
    // The worker that held it stopped the compute: it is free for the next job (its heartbeat
    // lists no running job) long before 20,000 subsamples could have finished.
    const pid = pidOf(running!.workerId);
    const redis = new Redis(testEnv().redisUrl, { maxRetriesPerRequest: 1 });
    try {
      const prefix = api1.config.redisPrefix;
      let beat = '';
      await until(
        async () => {
          const ids = await redis.zrange(`${prefix}:workers`, 0, -1);
          const id = ids.find(x => x.includes(`-${pid}-`));
          beat = id ? ((await redis.get(`${prefix}:worker:${id}`)) ?? '') : '';
          return beat !== '' && !beat.includes(job.id);
        },
        60_000,
        () => `worker ${pid} still reports the job: ${beat}`,
      );
    } finally {
      redis.disconnect();
    }
  });
});
