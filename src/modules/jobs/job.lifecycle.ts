/**
 * Transitions shared by the API, the workers and the reconciler: enqueue with outbox
 * confirmation, dependency promotion/failure, and marking runs failed.
 */
import { type Knex } from '@mikro-orm/postgresql';
import { log } from '../../logger.js';
import { TickBatcher } from '../../queue/batch.js';
import { type JobsDeps } from './job.deps.js';
import { publishEvents } from './job.events.js';
import { type JobErrorCode, type JobRecord } from './job.model.js';
import { NOW, raw, toJob, transition, type RawRow } from './job.store.js';

/** Wait at most `ms` for Redis: during an outage the outbox + reconciler take over. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Outbox confirmations, per database: one UPDATE for all of a batch. Awaited confirmations go out
 * at the end of the tick; a fresh submit's (not awaited) wait up to `CONFIRM_WINDOW_MS` so that
 * the submits of a busy moment share one statement.
 */
const confirmers = new WeakMap<Knex, { now: TickBatcher<string>; later: TickBatcher<string> }>();
const CONFIRM_WINDOW_MS = 20;

function confirmEnqueued(knex: Knex, jobId: string, soon: boolean): Promise<void> {
  let batchers = confirmers.get(knex);
  if (!batchers) {
    const run = async (ids: string[]) => {
      await raw(
        knex,
        'UPDATE jobs SET enqueued_at = now() WHERE id = ANY(?::uuid[]) AND enqueued_at IS NULL',
        [`{${ids.join(',')}}`],
      );
    };
    batchers = {
      now: new TickBatcher<string>(run),
      later: new TickBatcher<string>(run, 500, CONFIRM_WINDOW_MS),
    };
    confirmers.set(knex, batchers);
  }
  return (soon ? batchers.now : batchers.later).add(jobId);
}

/**
 * Put a QUEUED job into its BullMQ queue and confirm it in the row (the outbox flag). Failure is
 * not an error for the caller: the row stays unconfirmed and the reconciler retries. Parallel
 * calls share their round trips (one addBulk per pool, one confirming UPDATE).
 *
 * `awaitConfirm: false` (a fresh submit) returns once the queue has the entry and lets the
 * confirmation follow in a shared UPDATE: the job is committed and queued at that point, and a
 * confirmation that never lands (crash, outage) is the state the reconciler already repairs — it
 * re-adds the entry, which is idempotent by job id — so the client need not wait for it.
 */
export async function enqueueJob(
  deps: JobsDeps,
  job: JobRecord,
  fresh = false,
  awaitConfirm = true,
): Promise<boolean> {
  try {
    const add = fresh
      ? deps.queues.enqueue(job.pool, job.id, job.priority)
      : deps.queues.requeue(job.pool, job.id, job.priority);
    await withTimeout(add, 3000, 'enqueue');
    // Any status: a worker may already have claimed the job; the flag still has to be set so the
    // reconciler checks a RUNNING job's queue entry too.
    const confirmed = confirmEnqueued(deps.knex, job.id, awaitConfirm);
    if (awaitConfirm) await confirmed;
    else
      confirmed.catch(err =>
        log.warn('outbox confirmation deferred to the reconciler', {
          jobId: job.id,
          error: String(err),
        }),
      );
    return true;
  } catch (err) {
    log.warn('enqueue deferred to the reconciler', { jobId: job.id, error: String(err) });
    return false;
  }
}

/**
 * A PENDING job: fail it when a parent failed or was cancelled (or vanished), queue it when every
 * parent completed, else leave it waiting.
 */
export async function settlePending(deps: JobsDeps, jobId: string): Promise<void> {
  const rows = await raw<{
    pid: string | null;
    status: string | null;
    error_message: string | null;
  }>(
    deps.knex,
    `SELECT d.pid, p.status, p.error_message
       FROM jobs c LEFT JOIN LATERAL unnest(c.depends_on) AS d(pid) ON true
       LEFT JOIN jobs p ON p.id = d.pid
      WHERE c.id = ? AND c.status = 'PENDING'`,
    [jobId],
  );
  if (rows.length === 0) return;
  const parents = rows.filter(r => r.pid !== null);
  const bad = parents.find(
    r => r.status === null || r.status === 'FAILED' || r.status === 'CANCELLED',
  );
  if (bad) {
    const why =
      bad.status === null
        ? `job ${bad.pid} it depends on no longer exists`
        : `job ${bad.pid} it depends on ${bad.status === 'FAILED' ? 'failed' : 'was cancelled'}` +
          (bad.error_message ? ` (${bad.error_message})` : '');
    const t = await transition(deps.knex, jobId, {
      from: ['PENDING'],
      to: 'FAILED',
      kind: 'STATUS',
      patch: {
        errorCode: 'DEPENDENCY_FAILED',
        errorMessage: `Not run: ${why}`,
        message: `Not run: ${why}`,
        finishedAt: NOW,
      },
    });
    if (t) {
      publishEvents(deps.bus, t.events);
      await settleDependents(deps, jobId);
    }
    return;
  }
  if (parents.some(r => r.status !== 'COMPLETED')) return;
  const t = await transition(deps.knex, jobId, {
    from: ['PENDING'],
    to: 'QUEUED',
    kind: 'STATUS',
    patch: { queuedAt: NOW, message: 'Queued: the jobs it depends on have completed' },
  });
  if (!t) return;
  publishEvents(deps.bus, t.events);
  await enqueueJob(deps, t.job);
}

/** After a job ends, move on the jobs waiting for it. */
export async function settleDependents(deps: JobsDeps, parentId: string): Promise<void> {
  const children = await raw<{ id: string }>(
    deps.knex,
    `SELECT id FROM jobs WHERE status = 'PENDING' AND depends_on @> ARRAY[?]::uuid[]`,
    [parentId],
  );
  for (const c of children) await settlePending(deps, c.id);
}

/** Fail the current run (fenced), then fail its dependents. */
export async function failRun(
  deps: JobsDeps,
  jobId: string,
  fence: number | undefined,
  code: JobErrorCode,
  message: string,
): Promise<JobRecord | null> {
  const t = await transition(deps.knex, jobId, {
    from: fence === undefined ? ['QUEUED', 'RUNNING'] : ['RUNNING'],
    to: 'FAILED',
    kind: 'STATUS',
    fence,
    patch: {
      errorCode: code,
      errorMessage: message,
      message: `Failed: ${message}`,
      etaSeconds: null,
      finishedAt: NOW,
    },
  });
  if (!t) return null;
  publishEvents(deps.bus, t.events);
  await settleDependents(deps, jobId);
  return t.job;
}

export function jobRows(rows: RawRow[]): JobRecord[] {
  return rows.map(toJob);
}
