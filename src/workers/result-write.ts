/**
 * The terminal write of a finished run (result row + RESULT event + COMPLETED status, one fenced
 * statement: `completeRun`), made durable across a database outage.
 *
 * A run that finishes while PostgreSQL is down or restarting used to lose its result: the write
 * failed, the job was retried (a re-run) and, with the database still down, ended FAILED. Now the
 * write is retried with capped exponential backoff for `RESULT_WRITE_RETRY_SECONDS` — only on
 * connection-level errors (refused, reset, terminated, server shutting down or starting up);
 * constraint and logic errors fail at once as before. The waits are timers, so the worker's event
 * loop stays free and BullMQ keeps renewing the job's lock meanwhile.
 *
 * Idempotent: the statement may have committed with only the reply lost (the connection dropped
 * after COMMIT). A retry then matches no row (the job is no longer RUNNING), and the stored result
 * is recognised as this run's by the fencing token (`job_results.attempt` = our attempt; one result
 * per job, unique `job_id`): the stored RESULT / COMPLETED events are returned instead of writing
 * anything again.
 */
import { isDbConnectionError } from '../errors.js';
import { log } from '../logger.js';
import { type JobEventRecord } from '../modules/jobs/job.model.js';
import {
  completeRun,
  raw,
  toEvent,
  toJob,
  type Db,
  type RawRow,
  type Transitioned,
} from '../modules/jobs/job.store.js';

// The classifier lives with the other outage classifiers (the API maps the same errors to
// UNAVAILABLE); re-exported for the worker's callers and tests.
export { isDbConnectionError };

export interface RetryOptions {
  /** Give up (rethrow the last error) after this long; 0 = no retry. */
  retryMs: number;
  /** First wait; doubles up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Stop waiting (rethrow) when this aborts, e.g. worker shutdown. */
  signal?: AbortSignal;
  /** Called before each wait (logging). */
  onRetry?: (attempt: number, delayMs: number, err: unknown) => void;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Run `fn`; on a connection error wait and run it again until it succeeds, a non-connection
 * error is thrown, `retryMs` has passed, or `signal` aborts. `fn(retrying)` learns whether an
 * earlier attempt may have reached the database.
 */
export async function retryOnConnectionError<T>(
  fn: (retrying: boolean) => Promise<T>,
  opts: RetryOptions,
): Promise<T> {
  const started = Date.now();
  const maxDelay = opts.maxDelayMs ?? 5000;
  let delay = opts.initialDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt > 1);
    } catch (err) {
      const left = opts.retryMs - (Date.now() - started);
      if (!isDbConnectionError(err) || left <= 0 || opts.signal?.aborted) throw err;
      const wait = Math.min(delay, maxDelay, left);
      opts.onRetry?.(attempt, wait, err);
      await sleep(wait, opts.signal);
      if (opts.signal?.aborted) throw err;
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

/**
 * If run `fence` of `jobId` already stored its result (a commit whose reply was lost), the job and
 * the events that commit appended; else null.
 */
export async function committedCompletion(
  db: Db,
  jobId: string,
  fence: number,
): Promise<Transitioned | null> {
  const rows = await raw<{ job: RawRow; result_attempt: number | null }>(
    db,
    `SELECT row_to_json(j) AS job, r.attempt AS result_attempt
       FROM jobs j LEFT JOIN job_results r ON r.job_id = j.id
      WHERE j.id = ?`,
    [jobId],
  );
  const row = rows[0];
  if (!row || row.result_attempt === null || Number(row.result_attempt) !== fence) return null;
  const job = toJob(row.job);
  if (job.status !== 'COMPLETED' || job.attempt !== fence) return null;
  // completeRun appended RESULT at last_seq - 1 and COMPLETED at last_seq; a COMPLETED job gets
  // no later events.
  const events = await raw<RawRow>(
    db,
    'SELECT * FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq',
    [jobId, job.lastSeq - 2],
  );
  return { job, events: events.map(e => toEvent(e, job.ownerId)) as JobEventRecord[] };
}

/**
 * `completeRun` retried across connection errors, idempotently. Null when the run is stale
 * (cancelled, or re-delivered elsewhere) — exactly as `completeRun`.
 */
export async function completeRunDurably(
  db: Db,
  jobId: string,
  fence: number,
  result: Parameters<typeof completeRun>[3],
  message: string,
  opts: RetryOptions,
): Promise<Transitioned | null> {
  return retryOnConnectionError(
    async retrying => {
      const done = await completeRun(db, jobId, fence, result, message);
      if (done || !retrying) return done;
      // An earlier attempt may have committed before its connection dropped.
      const committed = await committedCompletion(db, jobId, fence);
      if (committed)
        log.info('result write had committed before the connection dropped', { jobId });
      return committed;
    },
    {
      ...opts,
      onRetry: (attempt, delayMs, err) => {
        log.warn('result write failed (database unreachable); retrying', {
          jobId,
          attempt,
          inMs: delayMs,
          error: err instanceof Error ? err.message : String(err),
        });
        opts.onRetry?.(attempt, delayMs, err);
      },
    },
  );
}
