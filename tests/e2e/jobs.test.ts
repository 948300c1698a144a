/**
 * Jobs end to end with real PostgreSQL, Redis, storage and worker processes (dist/ build):
 * live progress over graphql-ws in order, replay with afterSeq exactly once, routing between the
 * cpu and gpu pools, idempotent submits, dependencies, and the ownership matrix.
 */
import 'reflect-metadata';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';
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
import { redisOptionsFromUrl } from '../../src/workers/compute-worker';
import { testEnv } from '../helpers/env';
import { subscribe, wsClient } from '../helpers/ws';
import { allJobEvents } from '../helpers/job-events';

// The API side of the job machinery reads the same fast timings as the workers.
Object.assign(process.env, FAST_JOB_ENV);

jest.setTimeout(180_000);

describe('jobs end to end', () => {
  let t: TestApp;
  let alice: { id: string; accessToken: string };
  let bob: { id: string; accessToken: string };
  let datasetId: string;
  let cpu: WorkerProcess;

  async function submit(
    input: Record<string, unknown>,
    token = alice.accessToken,
  ): Promise<JobView> {
    return (
      await gqlOk<{ submitJob: JobView }>(t, 'SubmitJob', { input: { datasetId, ...input } }, token)
    ).submitJob;
  }

  beforeAll(async () => {
    await ensureBuilt();
    t = await startTestApp();
    [alice, bob] = await Promise.all([registerUser(t), registerUser(t)]);
    await setRoleInDb(t, alice.id, 'RESEARCHER');
    datasetId = await uploadCsv(t, alice.accessToken, syntheticCsv(60, 300));
    cpu = startWorker(t, { pool: 'cpu' });
    await cpu.live();
  });

  afterAll(async () => {
    await stopAllWorkers();
    await t?.close();
  });

  test('submit → QUEUED, RUNNING, ≥ 3 PROGRESS, COMPLETED in order over graphql-ws; result readable', async () => {
    const client = wsClient(t.wsUrl, alice.accessToken);
    const job = await submit({
      type: 'FEATURE_SELECTION',
      config: slowSelection(300),
      device: 'CPU',
    });
    // The mutation answers with the row as read after the enqueue: an idle worker may already
    // have claimed it. The ordered QUEUED → RUNNING → COMPLETED stream is asserted below.
    expect(['QUEUED', 'RUNNING']).toContain(job.status);
    expect(job.pool).toBe('CPU');
    const sub = subscribe<{ jobUpdates: EventView }>(client, op('JobUpdates'), {
      jobId: job.id,
      afterSeq: 0,
    });
    await sub.done;
    const events = sub.results.map(r => {
      expect(r.errors).toBeUndefined();
      return r.data!.jobUpdates;
    });
    await client.dispose();

    // seq 1, 2, 3 … without gap or duplicate, and the stream completes after the terminal event.
    expect(events.map(e => e.seq)).toEqual(events.map((_, i) => i + 1));
    const statuses = events.filter(e => e.kind === 'STATUS').map(e => e.status);
    expect(statuses).toEqual(['QUEUED', 'RUNNING', 'COMPLETED']);
    const iRunning = events.findIndex(e => e.status === 'RUNNING');
    const progress = events.filter(e => e.kind === 'PROGRESS');
    expect(progress.length).toBeGreaterThanOrEqual(3);
    for (const p of progress) expect(events.indexOf(p)).toBeGreaterThan(iRunning);
    // Absolute, non-decreasing progress within the run.
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.progress).toBeGreaterThanOrEqual(progress[i - 1]!.progress);
    }
    expect(events.at(-1)).toMatchObject({ kind: 'STATUS', status: 'COMPLETED', progress: 100 });
    expect(events.at(-2)).toMatchObject({ kind: 'RESULT' });

    const done = (
      await gqlOk<{ job: JobView }>(t, 'JobWithResult', { id: job.id }, alice.accessToken)
    ).job;
    expect(done.status).toBe('COMPLETED');
    expect(done.attempts).toBe(1);
    expect(done.deviceUsed).toMatch(/^CPU/);
    expect(done.lastSeq).toBe(events.at(-1)!.seq);
    const signatures = done.result!.data.signatures as { name: string; features: string[] }[];
    expect(signatures[0]!.name).toBe('stability_selection');
    // The synthetic signal sits in g1…g5: stability selection must find most of it.
    const found = signatures[0]!.features.filter(f => ['g1', 'g2', 'g3', 'g4', 'g5'].includes(f));
    expect(found.length).toBeGreaterThanOrEqual(3);

    // A late subscriber resuming after seq 2 gets every later event exactly once, then completes.
    const late = wsClient(t.wsUrl, alice.accessToken);
    const resumed = subscribe<{ jobUpdates: EventView }>(late, op('JobUpdates'), {
      jobId: job.id,
      afterSeq: 2,
    });
    await resumed.done;
    await late.dispose();
    expect(resumed.results.map(r => r.data!.jobUpdates.seq)).toEqual(
      events.slice(2).map(e => e.seq),
    );

    // Resuming after the last event of an ended job completes at once with nothing.
    const caughtUp = wsClient(t.wsUrl, alice.accessToken);
    const none = subscribe<{ jobUpdates: EventView }>(caughtUp, op('JobUpdates'), {
      jobId: job.id,
      afterSeq: events.at(-1)!.seq,
    });
    await none.done;
    await caughtUp.dispose();
    expect(none.results).toHaveLength(0);

    // jobEvents (HTTP) returns the same stored events.
    const stored = { jobEvents: await allJobEvents(t, alice.accessToken, job.id) };
    expect(stored.jobEvents.map(e => [e.seq, e.kind, e.status])).toEqual(
      events.map(e => [e.seq, e.kind, e.status]),
    );
  });

  test('a subscriber joining mid-run with afterSeq gets the missed events once and then live ones', async () => {
    const job = await submit({
      type: 'FEATURE_SELECTION',
      config: slowSelection(600),
      device: 'CPU',
    });
    const running = await waitForJob(
      t,
      alice.accessToken,
      job.id,
      j => j.status === 'RUNNING' && j.lastSeq >= 4,
    );
    const client = wsClient(t.wsUrl, alice.accessToken);
    const sub = subscribe<{ jobUpdates: EventView }>(client, op('JobUpdates'), {
      jobId: job.id,
      afterSeq: 1,
    });
    await sub.done;
    await client.dispose();
    const seqs = sub.results.map(r => r.data!.jobUpdates.seq);
    expect(seqs[0]).toBe(2);
    expect(seqs).toEqual(seqs.map((_, i) => i + 2));
    expect(seqs.at(-1)!).toBeGreaterThan(running.lastSeq);
    expect(sub.results.at(-1)!.data!.jobUpdates.status).toBe('COMPLETED');
  });

  test('myJobUpdates streams status changes of the caller’s jobs only', async () => {
    const client = wsClient(t.wsUrl, alice.accessToken);
    const other = wsClient(t.wsUrl, bob.accessToken);
    const mine = subscribe<{ myJobUpdates: EventView }>(client, op('MyJobUpdates'));
    const theirs = subscribe<{ myJobUpdates: EventView }>(other, op('MyJobUpdates'));
    await Promise.all([mine.ready, theirs.ready]);
    const job = await submit({
      type: 'FEATURE_SELECTION',
      config: { selectors: [{ code: 't_test', k: 5 }] },
      device: 'CPU',
    });
    await waitForJob(t, alice.accessToken, job.id, j => j.status === 'COMPLETED');
    await new Promise(r => setTimeout(r, 500));
    const kinds = mine.results.map(r => r.data!.myJobUpdates).filter(e => e.jobId === job.id);
    expect(kinds.map(e => e.status)).toEqual(
      expect.arrayContaining(['QUEUED', 'RUNNING', 'COMPLETED']),
    );
    expect(kinds.every(e => e.kind === 'STATUS' || e.kind === 'RESULT')).toBe(true);
    expect(theirs.results).toHaveLength(0);
    await Promise.all([mine.dispose(), theirs.dispose()]);
    await Promise.all([client.dispose(), other.dispose()]);
  });

  test('bad config is BAD_USER_INPUT naming the field, and nothing is queued', async () => {
    const before = await gqlOk<{ jobs: { totalCount: number } }>(t, 'Jobs', {}, alice.accessToken);
    const res = await t.gql(
      op('SubmitJob'),
      {
        input: {
          datasetId,
          type: 'FEATURE_SELECTION',
          config: { selectors: [{ code: 't_test', args: { alpha: 7 } }] },
        },
      },
      alice.accessToken,
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'config.selectors[0].args.alpha',
    });
    const after = await gqlOk<{ jobs: { totalCount: number } }>(t, 'Jobs', {}, alice.accessToken);
    expect(after.jobs.totalCount).toBe(before.jobs.totalCount);
  });

  test('10 parallel submits with one idempotencyKey make one job', async () => {
    const input = {
      type: 'FEATURE_SELECTION',
      config: { selectors: [{ code: 't_test', k: 3 }] },
      device: 'CPU',
      idempotencyKey: 'same-click-1',
    };
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.gql<{ submitJob: JobView }>(
          op('SubmitJob'),
          { input: { datasetId, ...input } },
          alice.accessToken,
        ),
      ),
    );
    const ids = new Set(results.map(r => r.data?.submitJob.id));
    expect(results.every(r => !r.errors)).toBe(true);
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    const rows = await t.app.services.orm.em
      .getConnection()
      .execute('select count(*)::int as n from jobs where idempotency_key = ?', ['same-click-1']);
    expect(rows[0].n).toBe(1);
    await waitForJob(t, alice.accessToken, id!, j => j.status === 'COMPLETED');
    // The same key with a different request is refused.
    const clash = await t.gql(
      op('SubmitJob'),
      { input: { datasetId, ...input, priority: 'HIGH' } },
      alice.accessToken,
    );
    expect(clash.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      field: 'idempotencyKey',
    });
  });

  test('routing: GPU waits with its reason without a GPU worker; a gpu worker with --allow-cpu-fallback takes it; AUTO small → cpu', async () => {
    const small = await submit({
      type: 'FEATURE_SELECTION',
      config: { selectors: [{ code: 't_test', k: 3 }] },
      device: 'AUTO',
    });
    expect(small.pool).toBe('CPU');

    const gpuJob = await submit({
      type: 'FEATURE_SELECTION',
      config: { selectors: [{ code: 't_test', k: 3 }] },
      device: 'GPU',
    });
    expect(gpuJob.pool).toBe('GPU');
    expect(gpuJob.status).toBe('QUEUED');
    expect(gpuJob.message).toMatch(/Waiting for a GPU worker/);
    await new Promise(r => setTimeout(r, 2500));
    expect((await waitForJob(t, alice.accessToken, gpuJob.id, () => true)).status).toBe('QUEUED');

    // A USER may not ask for the GPU.
    const denied = await t.gql(
      op('SubmitJob'),
      {
        input: {
          datasetId: await uploadCsv(t, bob.accessToken, syntheticCsv(20, 10)),
          type: 'FEATURE_SELECTION',
          config: { selectors: [{ code: 't_test' }] },
          device: 'GPU',
        },
      },
      bob.accessToken,
    );
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    // A gpu worker without a GPU refuses to start unless told to fall back to CPU.
    const refused = startWorker(t, { pool: 'gpu' });
    const exit = await refused.exited;
    expect(exit.code).toBe(2);
    expect(refused.output()).toMatch(/No usable GPU/);

    const gpu = startWorker(t, { pool: 'gpu', allowCpuFallback: true });
    await gpu.live();
    const done = await waitForJob(t, alice.accessToken, gpuJob.id, j => j.status === 'COMPLETED');
    expect(done.deviceUsed).toMatch(/gpu pool, --allow-cpu-fallback/);
    expect(done.deviceInfo).toMatchObject({ pool: 'gpu', cpuFallback: true });
    expect(done.workerId).toMatch(/^gpu-/);

    // The admin `workers` query lists both pools with device facts.
    await setRoleInDb(t, bob.id, 'ADMIN');
    const w = await gqlOk<{
      workers: { pool: string; pid: number; device: { cpuFallback: boolean } }[];
    }>(t, 'Workers', {}, bob.accessToken);
    expect(w.workers.map(x => x.pool).sort()).toEqual(['CPU', 'GPU']);
    expect(w.workers.find(x => x.pool === 'GPU')!.device.cpuFallback).toBe(true);
    await setRoleInDb(t, bob.id, 'USER');
    const notAdmin = await t.gql(op('Workers'), {}, alice.accessToken);
    expect(notAdmin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await gpu.stop();
    await waitForJob(t, alice.accessToken, small.id, j => j.status === 'COMPLETED');
  });

  test('dependsOn: a child waits for its parent; a failed parent fails the child with a clear reason', async () => {
    const parent = await submit({
      type: 'FEATURE_SELECTION',
      config: { selectors: [{ code: 't_test', k: 5 }] },
      device: 'CPU',
    });
    const child = await submit({
      type: 'MODEL_TRAINING',
      config: { model: { code: 'knn' }, fromJob: parent.id, validation: {} },
      device: 'CPU',
    });
    expect(child.dependsOn).toEqual([parent.id]);
    const trained = await waitForJob(
      t,
      alice.accessToken,
      child.id,
      j => TERMINAL.has(j.status),
      90_000,
    );
    expect(trained.status).toBe('COMPLETED');
    expect(trained.result!.data.features).toHaveLength(5);
    expect(trained.result!.artifactKeys[0]).toMatch(
      new RegExp(`^jobs/${child.id}/attempt-1/model.json$`),
    );

    // A parent that fails (a selector needing k without one) fails its waiting child.
    const bad = await submit({
      type: 'FEATURE_SELECTION',
      config: { selectors: [{ code: 'mrmr' }] },
      device: 'CPU',
    });
    const orphan = await submit({
      type: 'MODEL_TRAINING',
      config: { model: { code: 'knn' }, fromJob: bad.id },
      device: 'CPU',
      dependsOn: [bad.id],
    });
    const failed = await waitForJob(t, alice.accessToken, bad.id, j => TERMINAL.has(j.status));
    expect(failed).toMatchObject({ status: 'FAILED', errorCode: 'BAD_CONFIG', attempts: 1 });
    expect(failed.errorMessage).toMatch(/config\.selectors\[0\]\.k/);
    const o = await waitForJob(t, alice.accessToken, orphan.id, j => TERMINAL.has(j.status));
    expect(o).toMatchObject({ status: 'FAILED', errorCode: 'DEPENDENCY_FAILED', attempts: 0 });
    expect(o.errorMessage).toContain(`job ${bad.id} it depends on failed`);

    // A prediction with the trained model on the same dataset.
    const pred = await submit({
      type: 'PREDICTION',
      config: { modelJob: child.id },
      device: 'CPU',
    });
    const scored = await waitForJob(t, alice.accessToken, pred.id, j => TERMINAL.has(j.status));
    expect(scored.status).toBe('COMPLETED');
    expect((scored.result!.data.predictions as unknown[]).length).toBe(60);
  });

  test('every job type runs: a batch of tuning, benchmarking and preprocessing', async () => {
    const jobs = [
      {
        type: 'HYPERPARAMETER_TUNING',
        config: {
          model: { code: 'knn' },
          searchSpace: { n_neighbors: { type: 'int', low: 1, high: 9 } },
          strategy: 'random',
          nTrials: 4,
          features: ['g1', 'g2', 'g3', 'g4', 'g5', 'g6'],
        },
      },
      {
        type: 'BENCHMARKING',
        config: {
          selectors: [
            { code: 't_test', k: 5 },
            { code: 'anova', k: 5 },
          ],
          signatures: [{ name: 'noise', features: ['g100', 'g200', 'g300'] }],
          models: [{ code: 'knn' }],
          cv: { nSplits: 2, nRepeats: 1 },
        },
      },
      { type: 'PREPROCESSING', config: { steps: [{ code: 'zscore' }] } },
    ].map(j => ({ ...j, datasetId, device: 'CPU' }));
    const { submitBatch } = await gqlOk<{ submitBatch: (JobView & { batchId: string })[] }>(
      t,
      'SubmitBatch',
      { jobs },
      alice.accessToken,
    );
    expect(new Set(submitBatch.map(j => j.batchId)).size).toBe(1);
    const [tuning, bench, pre] = await Promise.all(
      submitBatch.map(j =>
        waitForJob(t, alice.accessToken, j.id, x => TERMINAL.has(x.status), 150_000),
      ),
    );
    expect(tuning).toMatchObject({ status: 'COMPLETED' });
    expect((tuning!.result!.data.trials as unknown[]).length).toBe(4);
    expect(tuning!.result!.summary.metric).toBe('roc_auc');
    expect(bench).toMatchObject({ status: 'COMPLETED' });
    // The informative signatures beat three noise features.
    expect(['t_test', 'anova']).toContain(bench!.result!.summary.recommended);
    expect(pre).toMatchObject({ status: 'COMPLETED' });
    expect(pre!.result!.artifactKeys[0]).toBe(`jobs/${pre!.id}/attempt-1/preprocessed.bin`);
    expect(pre!.result!.summary).toMatchObject({ featuresBefore: 300, featuresAfter: 300 });

    // One bad config rejects the whole batch before anything is stored.
    const before = await gqlOk<{ jobs: { totalCount: number } }>(t, 'Jobs', {}, alice.accessToken);
    const bad = await t.gql(
      op('SubmitBatch'),
      {
        jobs: [jobs[2], { ...jobs[2], config: { steps: [{ code: 'zscore', args: { nope: 1 } }] } }],
      },
      alice.accessToken,
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'jobs[1].config.steps[0].args.nope',
    });
    const after = await gqlOk<{ jobs: { totalCount: number } }>(t, 'Jobs', {}, alice.accessToken);
    expect(after.jobs.totalCount).toBe(before.jobs.totalCount);
  });

  test('outbox: a committed QUEUED row that never reached the queue is enqueued and run; a queue entry without a row is skipped', async () => {
    const conn = t.app.services.orm.em.getConnection();
    const template = await submit({
      type: 'FEATURE_SELECTION',
      config: { selectors: [{ code: 't_test', k: 2 }] },
      device: 'CPU',
    });
    await waitForJob(t, alice.accessToken, template.id, j => j.status === 'COMPLETED');
    // As if the API died between its commit and queue.add: a row with no queue entry.
    const [{ id: orphanId }] = await conn.execute(
      `insert into jobs (id, owner_id, dataset_id, type, status, config, device_requested, pool, priority,
         progress, last_seq, created_at, updated_at, queued_at)
       select gen_random_uuid(), owner_id, dataset_id, type, 'QUEUED', config, device_requested, pool, priority,
         0, 0, now(), now() - interval '10 seconds', now()
       from jobs where id = ? returning id`,
      [template.id],
    );
    const ran = await waitForJob(
      t,
      alice.accessToken,
      orphanId,
      j => TERMINAL.has(j.status),
      60_000,
    );
    expect(ran.status).toBe('COMPLETED');

    // The reverse: a queue entry whose job row does not exist is acknowledged without running.
    const { Queue } = await import('bullmq');
    const q = new Queue('compute-cpu', {
      connection: redisOptionsFromUrl(testEnv().redisUrl),
      prefix: t.config.redisPrefix,
    });
    const ghost = '00000000-0000-4000-8000-00000000beef';
    await q.add('compute', { jobId: ghost }, { jobId: ghost, priority: 5 });
    const deadline = Date.now() + 30_000;
    let state = '';
    while (Date.now() < deadline && state !== 'completed') {
      state = await (await q.getJob(ghost))!.getState();
      await new Promise(r => setTimeout(r, 200));
    }
    expect(state).toBe('completed');
    expect((await q.getJob(ghost))!.returnvalue).toBe('skipped: no row');
    await q.close();
  });

  test('user B cannot read, list, subscribe to, cancel or retry user A’s job', async () => {
    const job = await submit({
      type: 'FEATURE_SELECTION',
      config: { selectors: [{ code: 't_test', k: 3 }] },
      device: 'CPU',
    });
    const b = bob.accessToken;
    for (const [name, vars] of [
      ['Job', { id: job.id }],
      ['JobEvents', { jobId: job.id }],
      ['CancelJob', { id: job.id }],
      ['RetryJob', { id: job.id }],
    ] as const) {
      const res = await t.gql(op(name), vars, b);
      expect({ name, code: res.errors?.[0]?.extensions?.code }).toEqual({
        name,
        code: 'NOT_FOUND',
      });
      expect(res.errors?.[0]?.message).toBe(`Job ${job.id} not found`);
    }
    const list = await gqlOk<{ jobs: { edges: { node: { id: string } }[] } }>(
      t,
      'Jobs',
      { first: 100 },
      b,
    );
    expect(list.jobs.edges.map(e => e.node.id)).not.toContain(job.id);
    // Depending on someone else's job is refused the same way.
    const dep = await t.gql(
      op('SubmitJob'),
      {
        input: {
          datasetId,
          type: 'FEATURE_SELECTION',
          config: { selectors: [{ code: 't_test' }] },
          dependsOn: [job.id],
        },
      },
      b,
    );
    expect(dep.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const client = wsClient(t.wsUrl, b);
    const sub = subscribe<{ jobUpdates: EventView }>(client, op('JobUpdates'), { jobId: job.id });
    // Refused at subscribe time: one error result, no event, then the stream ends.
    const first = await sub.next(10_000);
    expect(first.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(first.data ?? null).toBeNull();
    await sub.done;
    expect(sub.results).toHaveLength(1);
    await client.dispose();
    const after = await waitForJob(t, alice.accessToken, job.id, j => TERMINAL.has(j.status));
    expect(after.status).toBe('COMPLETED');
  });

  test('jobs: cursor pagination, first ≤ 100, filters', async () => {
    const page1 = await gqlOk<{
      jobs: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string };
        edges: { node: JobView }[];
      };
    }>(t, 'Jobs', { first: 2 }, alice.accessToken);
    expect(page1.jobs.edges).toHaveLength(2);
    expect(page1.jobs.pageInfo.hasNextPage).toBe(true);
    const page2 = await gqlOk<typeof page1>(
      t,
      'Jobs',
      { first: 2, after: page1.jobs.pageInfo.endCursor },
      alice.accessToken,
    );
    const ids1 = page1.jobs.edges.map(e => e.node.id);
    for (const e of page2.jobs.edges) expect(ids1).not.toContain(e.node.id);
    const tooMany = await t.gql(op('Jobs'), { first: 101 }, alice.accessToken);
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'first',
    });
    const failedOnly = await gqlOk<typeof page1>(
      t,
      'Jobs',
      { first: 100, filter: { status: ['FAILED'] } },
      alice.accessToken,
    );
    expect(failedOnly.jobs.edges.every(e => e.node.status === 'FAILED')).toBe(true);
  });
});
