/**
 * Queue, worker and job-event tuning, read once from the environment.
 *
 * Defaults are BullMQ's production values; tests shorten the lock and stall timings so a killed
 * worker's job is taken over in about a second instead of 30 s.
 */
import { z } from 'zod';

const int = (def: number) => z.coerce.number().int().positive().default(def);

const schema = z.object({
  /** Job lock lifetime; a worker that stops renewing it for this long is considered stalled. */
  JOBS_LOCK_DURATION_MS: int(30_000),
  /** How often workers look for stalled jobs. */
  JOBS_STALLED_INTERVAL_MS: int(30_000),
  /** Stalls tolerated before a job fails ("stopped responding twice"). */
  JOBS_MAX_STALLED_COUNT: z.coerce.number().int().min(0).default(1),
  /** Attempts for transient (I/O) failures; bad data or config never retries. */
  JOBS_ATTEMPTS: int(3),
  /** First retry delay; doubles each attempt. */
  JOBS_BACKOFF_MS: int(2_000),
  /** Time a cancelled compute gets to stop on its own before its process is killed. */
  JOBS_CANCEL_GRACE_MS: int(2_000),
  /** Minimum spacing of stored PROGRESS events per job (≤ ~10/s by default). */
  JOBS_PROGRESS_MIN_INTERVAL_MS: int(100),
  /** Heartbeat period; a worker is live while its last heartbeat is younger than the TTL. */
  WORKER_HEARTBEAT_MS: int(2_000),
  WORKER_HEARTBEAT_TTL_MS: int(10_000),
  /** Reconciler period (outbox relay, dependency promotion, stalled-out jobs). */
  JOBS_RECONCILE_MS: int(5_000),
  /** A QUEUED row not confirmed in the queue after this long is (re-)enqueued by the reconciler. */
  JOBS_OUTBOX_GRACE_MS: int(3_000),
  /** Subscriptions re-read stored events after this much silence (covers lost pub/sub messages). */
  JOBS_SUBSCRIPTION_POLL_MS: int(3_000),
  /** Completed / failed BullMQ entries kept in Redis (history lives in PostgreSQL). */
  JOBS_KEEP_COMPLETED: int(1_000),
  JOBS_KEEP_FAILED: int(5_000),
});

export type QueueSettings = z.infer<typeof schema>;

let cached: QueueSettings | null = null;

/** Parse the environment once; throws a message naming the bad variable. */
export function queueSettings(env: NodeJS.ProcessEnv = process.env): QueueSettings {
  if (env === process.env && cached) return cached;
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`invalid environment variable ${issue.path.join('.')}: ${issue.message}`);
  }
  if (env === process.env) cached = parsed.data;
  return parsed.data;
}

/** Forget the cached settings (tests that change the environment). */
export function resetQueueSettings(): void {
  cached = null;
}
