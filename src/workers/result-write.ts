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

/** Node socket errors that mean "the server is unreachable / the connection broke". */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs of an unusable connection: class 08 (connection exception), 57P01–57P03
 * (admin / crash shutdown, cannot connect now: restarting), 53300 (too many connections).
 */
const PG_CONNECTION_STATE = /^(08...|57P0[123]|53300)$/;

/** Driver and pool messages without a code (pg, knex/tarn). */
const CONNECTION_MESSAGE =
  /Connection terminated|connection error and is not queryable|Timeout acquiring a connection|Connection ended unexpectedly|Client was closed and is not queryable|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command/i;

/**
 * True when `err` (or its cause / aggregated errors) is a lost or refused database connection —
 * worth retrying — and false for everything else (constraints, syntax, timeouts of a statement).
 */
export function isDbConnectionError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || PG_CONNECTION_STATE.test(e.code)))
    return true;
  if (typeof e.message === 'string' && CONNECTION_MESSAGE.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some(x => isDbConnectionError(x, depth + 1))) return true;
  return isDbConnectionError(e.cause, depth + 1);
}

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
