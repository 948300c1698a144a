/**
 * The API dies between the database commit and the BullMQ add (OMICSELECTOR_FAULT=
 * crash-after-commit: SIGKILL right after the job row and its unconfirmed outbox flag commit).
 * A fresh API's reconciler must put the job into the queue exactly once (one BullMQ `added`
 * event, even though the client also retries its submit with the same idempotency key), and the
 * job must run once, store one result and reach COMPLETED for a subscribed client. The reverse
 * order (a queue entry without a committed row) is acknowledged by the worker without a run.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queueName } from '../../src/queue/names';
import { registerUser } from '../helpers/app';
import { databaseUrl } from '../helpers/env';
import {
  ensureBuilt,
  FAST_JOB_ENV,
  op,
  startWorker,
  stopAllWorkers,
  syntheticCsv,
  TERMINAL,
  uploadCsv,
  type EventView,
  type JobView,
} from '../helpers/worker';
import { subscribe, wsClient } from '../helpers/ws';
import {
  contiguous,
  eventsOf,
  jobFacts,
  killAllApis,
  newDeployment,
  queueEntries,
  sql,
  startApiProcess,
  waitForState,
  within,
} from './chaos-helpers';

Object.assign(process.env, FAST_JOB_ENV);
// Generous: on a loaded shared machine the build check, service starts and worker spawns alone
// can take minutes (an idle CI machine needs a fraction).
jest.setTimeout(300_000);

/** BullMQ writes one `added` event per real add to the queue's event stream (a no-op re-add writes `duplicated`). */
async function addedEvents(redisUrl: string, prefix: string, jobId: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const entries = await redis.xrange(`${prefix}:${queueName('cpu')}:events`, '-', '+');
    return entries.filter(([, fields]) => {
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
      return f.get('event') === 'added' && f.get('jobId') === jobId;
    }).length;
  } finally {
    redis.disconnect();
  }
}

afterAll(async () => {
  await stopAllWorkers();
  await killAllApis();
});

test('crash between commit and enqueue: a fresh API enqueues the job exactly once; it runs once and completes', async () => {
  await ensureBuilt();
  const d = newDeployment(databaseUrl);
  const db = sql(d.databaseUrl);
  try {
    const crashing = await startApiProcess(d, { OMICSELECTOR_FAULT: 'crash-after-commit' });
    const user = await registerUser(crashing.t);
    const datasetId = await uploadCsv(crashing.t, user.accessToken, syntheticCsv(40, 40));
    const input = {
      datasetId,
      type: 'FEATURE_SELECTION',
      device: 'CPU',
      idempotencyKey: 'chaos-crash-1',
      config: { selectors: [{ code: 't_test', k: 3 }] },
    };

    // The submit never gets an answer: the process is gone.
    const lost = await crashing.t.gql(op('SubmitJob'), { input }, user.accessToken).then(
      () => 'answered',
      (e: unknown) => `failed: ${String(e)}`,
    );
    expect(lost).toMatch(/^failed/);
    expect(await crashing.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(crashing.output()).toMatch(/fault injection: crash-after-commit \(job [0-9a-f-]{36}\)/);

    // Committed but never enqueued: the outbox flag is still unset and BullMQ has nothing.
    const rows = (
      await db.raw<{ rows: Array<{ id: string; status: string; enqueued_at: unknown }> }>(
        'select id, status, enqueued_at from jobs where idempotency_key = ?',
        ['chaos-crash-1'],
      )
    ).rows;
    expect(rows).toHaveLength(1);
    const jobId = rows[0]!.id;
    expect(rows[0]).toMatchObject({ status: 'QUEUED', enqueued_at: null });
    expect(await queueEntries(d.redisUrl, d.prefix, jobId)).toEqual([]);

    // A fresh API (no worker yet), and no client request: its reconciler starts with the
    // process and relays the unconfirmed row into BullMQ on its own.
    const fresh = await startApiProcess(d);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const enqueued = (
        await db.raw<{ rows: Array<{ enqueued_at: unknown }> }>(
          'select enqueued_at from jobs where id = ?',
          [jobId],
        )
      ).rows[0]!.enqueued_at;
      if (enqueued !== null) break;
      if (Date.now() > deadline) throw new Error(`reconciler did not enqueue:\n${fresh.output()}`);
      await new Promise(r => setTimeout(r, 200));
    }
    expect(await queueEntries(d.redisUrl, d.prefix, jobId)).toEqual(['cpu']);
    const client = wsClient(fresh.t.wsUrl, user.accessToken);
    const sub = subscribe<{ jobUpdates: EventView }>(client, op('JobUpdates'), { jobId });
    await sub.ready;

    // The client retries its submit (same idempotency key): same job, no second row or entry.
    const retried = await fresh.t.gql<{ submitJob: JobView }>(
      op('SubmitJob'),
      { input },
      user.accessToken,
    );
    expect(retried.errors).toBeUndefined();
    expect(retried.data!.submitJob.id).toBe(jobId);
    const count = await db.raw<{ rows: Array<{ n: number }> }>(
      'select count(*)::int as n from jobs where owner_id = ?',
      [user.id],
    );
    expect(count.rows[0]!.n).toBe(1);

    const w = startWorker(fresh.t, { pool: 'cpu' });
    await w.live();
    const done = await waitForState(fresh.t, user.accessToken, jobId, j => TERMINAL.has(j.status));
    expect(done.status).toBe('COMPLETED');

    // The subscribed client reached the terminal state; nothing lost, nothing twice.
    await within(sub.done, 20_000, 'the subscription did not reach the terminal event');
    await client.dispose();
    const events = eventsOf(sub.results);
    expect(contiguous(events.map(e => e.seq))).toBe(true);
    expect(events.at(-1)).toMatchObject({ kind: 'STATUS', status: 'COMPLETED' });

    const facts = await jobFacts(db, jobId);
    expect(facts).toMatchObject({ status: 'COMPLETED', attempt: 1, resultRows: 1 });
    expect(facts.statuses).toEqual(['QUEUED', 'RUNNING', 'COMPLETED']);
    expect(contiguous(facts.seqs)).toBe(true);
    expect(await addedEvents(d.redisUrl, d.prefix, jobId)).toBe(1);

    // The reverse order (a queue entry whose row never committed): the worker acknowledges it
    // without running anything and keeps working.
    const orphan = randomUUID();
    const conn = new Redis(d.redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue(queueName('cpu'), { connection: conn, prefix: d.prefix });
    try {
      await queue.add('compute', { jobId: orphan }, { jobId: orphan, priority: 5 });
      let state = '';
      for (let i = 0; i < 100 && state !== 'completed'; i++) {
        await new Promise(r => setTimeout(r, 200));
        state = String(await (await queue.getJob(orphan))?.getState());
      }
      expect(state).toBe('completed');
      expect((await queue.getJob(orphan))!.returnvalue).toBe('skipped: no row');
      const rowsFor = await db.raw<{ rows: unknown[] }>('select 1 from jobs where id = ?', [
        orphan,
      ]);
      expect(rowsFor.rows).toHaveLength(0);
    } finally {
      await queue.close();
      conn.disconnect();
    }
    await w.stop();
  } finally {
    await db.destroy();
  }
});
