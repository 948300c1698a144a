/**
 * Redis restarted EMPTY (no persistence: every BullMQ entry, lock and heartbeat is gone) while one
 * job runs and another waits in the queue. The AOF-backed restart is covered by
 * tests/e2e/jobs-faults.test.ts; here the queue itself is lost, so only the reconciler's
 * lost-entry repair (PostgreSQL is the source of truth) can save the jobs. Expected: both jobs
 * reach COMPLETED with exactly one stored result each, and their subscribers (which also lose
 * their Redis subscriptions) reach the terminal event with every seq once.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { freePort } from '../../src/services/ports';
import { startRedis, type RedisHandle } from '../../src/services/redis';
import { registerUser, type TestApp } from '../helpers/app';
import { databaseUrl, testEnv } from '../helpers/env';
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
jest.setTimeout(150_000);

let redis: RedisHandle | undefined;
let api: TestApp | undefined;

afterAll(async () => {
  await stopAllWorkers();
  await api?.close();
  await redis?.stop();
});

test('Redis restarted empty with a job running and one waiting: the reconciler re-queues both; each completes once', async () => {
  await ensureBuilt();
  mkdirSync(join(testEnv().tmpDir, 'chaos-redis'), { recursive: true });
  const port = await freePort();
  redis = await startRedis({ port }); // no data dir: nothing survives a restart
  const d = newDeployment(databaseUrl, redis.url);
  api = await startInProcessApi(d);
  const db = sql(d.databaseUrl);
  try {
    const user = await registerUser(api);
    const datasetId = await uploadCsv(api, user.accessToken, syntheticCsv(60, 200));
    const w = startWorker(api, { pool: 'cpu', concurrency: 1, env: { REDIS_URL: redis.url } });
    await w.live();
    const submit = async (config: Record<string, unknown>) =>
      (
        await api!.gql<{ submitJob: JobView }>(
          op('SubmitJob'),
          { input: { datasetId, type: 'FEATURE_SELECTION', device: 'CPU', config } },
          user.accessToken,
        )
      ).data!.submitJob.id;
    const running = await submit(slowSelection(2000));
    await waitForState(api, user.accessToken, running, j => j.status === 'RUNNING');
    const waiting = await submit({ selectors: [{ code: 't_test', k: 3 }] });
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
  } finally {
    await db.destroy();
  }
});
