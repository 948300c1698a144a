/**
 * Periodic repair of the PostgreSQL ↔ Redis dual write. One process at a time runs a pass (a Redis
 * lock with a TTL); every API and worker process takes part, so repair continues while any runs.
 *
 * A pass:
 * 1. outbox relay: QUEUED rows never confirmed in BullMQ (API died between commit and add, or
 *    Redis was down) are (re-)added;
 * 2. lost entries: QUEUED/RUNNING rows whose BullMQ entry vanished (Redis lost data) are re-added;
 *    entries BullMQ failed on its own — the second stall, "job stalled more than allowable limit" —
 *    fail the job with a clear reason;
 * 3. dependencies: PENDING jobs are queued or failed as their parents ended;
 * 4. GPU waits: QUEUED gpu jobs say why they wait while no GPU worker is live.
 */
import { randomUUID } from 'node:crypto';
import { log } from '../../logger.js';
import { liveWorkers } from '../../queue/heartbeat.js';
import { NO_GPU_WORKER } from '../../queue/routing.js';
import { type JobsDeps } from './job.deps.js';
import { publishEvents } from './job.events.js';
import { enqueueJob, failRun, settlePending, withTimeout } from './job.lifecycle.js';
import { NOW, raw, toJob, transition } from './job.store.js';

const BATCH = 200;

export const GPU_WORKER_LIVE = 'Waiting for a free slot on a GPU worker';

export function stallMessage(reason: string | null): {
  code: 'WORKER_LOST' | 'TRANSIENT';
  text: string;
} {
  if (
    reason &&
    /stalled more than allowable limit|started more than allowable limit/.test(reason)
  ) {
    return {
      code: 'WORKER_LOST',
      text:
        'the worker running this job stopped responding twice (crashed, was killed or ran out of ' +
        'memory); not retrying automatically — use retryJob to try again',
    };
  }
  return { code: 'TRANSIENT', text: reason ?? 'the queue entry failed' };
}

export async function reconcileOnce(deps: JobsDeps): Promise<void> {
  const { knex, settings } = deps;
  const graceMs = settings.JOBS_OUTBOX_GRACE_MS;

  // 1. Outbox relay.
  const unconfirmed = await raw(
    knex,
    `SELECT * FROM jobs WHERE status = 'QUEUED' AND enqueued_at IS NULL
       AND updated_at < now() - make_interval(secs => ?) ORDER BY updated_at LIMIT ?`,
    [graceMs / 1000, BATCH],
  );
  for (const r of unconfirmed) await enqueueJob(deps, toJob(r));

  // 2. Lost or failed queue entries.
  const active = await raw(
    knex,
    `SELECT * FROM jobs
      WHERE (status = 'QUEUED' AND enqueued_at < now() - make_interval(secs => ?))
         OR (status = 'RUNNING' AND started_at < now() - make_interval(secs => ?))
      ORDER BY updated_at LIMIT ?`,
    [graceMs / 1000, graceMs / 1000, BATCH],
  );
  for (const r of active) {
    const job = toJob(r);
    const entry = await withTimeout(deps.queues.entryState(job.pool, job.id), 3000, 'queue state');
    if (entry.state === 'live') continue;
    if (entry.state === 'failed') {
      const { code, text } = stallMessage(entry.reason);
      await failRun(deps, job.id, undefined, code, text);
      continue;
    }
    // Missing (Redis lost it) or completed while the row says otherwise: put it back.
    const t = await transition(knex, job.id, {
      from: [job.status],
      to: 'QUEUED',
      kind: 'STATUS',
      patch: {
        enqueuedAt: null,
        queuedAt: NOW,
        message: 'Re-queued: its queue entry was lost (Redis restarted without its data?)',
      },
    });
    if (t) {
      publishEvents(deps.bus, t.events);
      await enqueueJob(deps, t.job);
    }
  }

  // 3. Dependencies.
  const pending = await raw<{ id: string }>(
    knex,
    `SELECT id FROM jobs WHERE status = 'PENDING' ORDER BY created_at LIMIT ?`,
    [BATCH],
  );
  for (const r of pending) await settlePending(deps, r.id);

  // 4. Why GPU jobs wait.
  const gpuLive =
    (await liveWorkers(deps.redis, deps.prefix, settings.WORKER_HEARTBEAT_TTL_MS, 'gpu')).length >
    0;
  const want = gpuLive ? GPU_WORKER_LIVE : NO_GPU_WORKER;
  const stale = await raw<{ id: string }>(
    knex,
    `SELECT id FROM jobs WHERE status = 'QUEUED' AND pool = 'gpu' AND message IS DISTINCT FROM ?
       AND (NOT ? OR message = ?) LIMIT ?`,
    [want, gpuLive, NO_GPU_WORKER, BATCH],
  );
  for (const r of stale) {
    const t = await transition(knex, r.id, {
      from: ['QUEUED'],
      to: 'QUEUED',
      kind: 'LOG',
      patch: { message: want },
    });
    if (t) publishEvents(deps.bus, t.events);
  }
}

/** Run passes every JOBS_RECONCILE_MS while holding the cluster-wide lock; returns a stop function. */
export function startReconciler(deps: JobsDeps): () => void {
  const token = randomUUID();
  const key = `${deps.prefix}:reconciler-lock`;
  const every = deps.settings.JOBS_RECONCILE_MS;
  let stopped = false;
  let running = false;
  const tick = async () => {
    if (stopped || running) return;
    running = true;
    try {
      const got = await withTimeout(
        deps.redis.set(key, token, 'PX', every * 2, 'NX').then(async r => {
          if (r === 'OK') return true;
          // Still ours from the previous pass: extend.
          return (await deps.redis.get(key)) === token
            ? (await deps.redis.pexpire(key, every * 2)) === 1
            : false;
        }),
        2000,
        'reconciler lock',
      );
      if (got) await reconcileOnce(deps);
    } catch (err) {
      log.warn('reconciler pass failed', { error: String(err) });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), every);
  timer.unref();
  void tick();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
