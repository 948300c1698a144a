/**
 * Per-user quotas: stored bytes, live datasets, concurrent jobs, GPU minutes per calendar month.
 *
 * Usage is always computed from the rows themselves (no counters that can drift). Atomicity comes
 * from a per-user transaction-scoped advisory lock: every check takes the lock, counts, and inserts
 * (or reserves) in the same transaction, so two parallel requests of one user are serialised and
 * cannot both pass a check that only one of them fits in. Users never wait on each other.
 */
import { type EntityManager, type Knex } from '@mikro-orm/postgresql';
import { type QuotaConfig } from '../../config.js';
import { AppError } from '../../errors.js';

export type QuotaLimits = QuotaConfig;

/** Runs one SQL statement (inside the caller's transaction) and returns its rows. */
export type Exec = (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

export const ACTIVE_JOB_STATUSES = ['PENDING', 'QUEUED', 'RUNNING'];

export function knexExec(knex: Knex): Exec {
  return async (sql, params) => {
    const res = (await knex.raw(sql, params as Knex.RawBinding[])) as {
      rows: Array<Record<string, unknown>>;
    };
    return res.rows;
  };
}

export function emExec(em: EntityManager): Exec {
  return (sql, params) => em.execute(sql, params, 'all');
}

/** Serialises quota checks of one user until the surrounding transaction ends. */
export async function lockUserQuota(exec: Exec, userId: string): Promise<void> {
  // Two-key form: the first key namespaces quota locks away from any other advisory lock.
  await exec(`SELECT pg_advisory_xact_lock(7301, hashtext(?))`, [userId]);
}

export interface Usage {
  storageBytes: number;
  datasets: number;
  concurrentJobs: number;
  gpuMinutesThisMonth: number;
}

export async function storageAndDatasets(
  exec: Exec,
  userId: string,
): Promise<Pick<Usage, 'storageBytes' | 'datasets'>> {
  const [row] = await exec(
    `SELECT count(*)::int AS n,
            coalesce(sum(coalesce(size_bytes, 0) + coalesce(matrix_size_bytes, 0)), 0)::bigint AS bytes
       FROM datasets WHERE owner_id = ? AND deleted_at IS NULL`,
    [userId],
  );
  return { datasets: Number(row?.n ?? 0), storageBytes: Number(row?.bytes ?? 0) };
}

/** Column `n`: the user's (`?`) pending, queued and running jobs. */
const ACTIVE_JOBS_SQL = `SELECT count(*)::int AS n FROM jobs WHERE owner_id = ? AND status IN ('PENDING', 'QUEUED', 'RUNNING')`;

/** Column `s`: GPU-pool seconds of the user's (`?`) jobs started this calendar month (UTC). */
const GPU_SECONDS_SQL = `SELECT coalesce(sum(extract(epoch FROM coalesce(finished_at, clock_timestamp()) - started_at)), 0)::float8 AS s
       FROM jobs
      WHERE owner_id = ? AND pool = 'gpu' AND started_at IS NOT NULL
        AND started_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;

export async function activeJobs(exec: Exec, userId: string): Promise<number> {
  const [row] = await exec(ACTIVE_JOBS_SQL, [userId]);
  return Number(row?.n ?? 0);
}

/** GPU-pool wall time of jobs started this calendar month (UTC); running jobs count up to now. */
export async function gpuMinutesThisMonth(exec: Exec, userId: string): Promise<number> {
  const [row] = await exec(GPU_SECONDS_SQL, [userId]);
  return Number(row?.s ?? 0) / 60;
}

export async function usageOf(exec: Exec, userId: string): Promise<Usage> {
  const [sd, jobs, gpu] = await Promise.all([
    storageAndDatasets(exec, userId),
    activeJobs(exec, userId),
    gpuMinutesThisMonth(exec, userId),
  ]);
  return { ...sd, concurrentJobs: jobs, gpuMinutesThisMonth: gpu };
}

const over = (limit: number, value: number) => limit > 0 && value > limit;

/**
 * Call with the lock held, before inserting a dataset row: one more dataset, plus `addBytes`
 * (declared size of a presigned upload, or the received size of a multipart one) must fit.
 * `existing` is true when the dataset row already counts (reserving bytes for it).
 */
export async function assertDatasetFits(
  exec: Exec,
  userId: string,
  limits: QuotaLimits,
  addBytes: number,
  existing = false,
): Promise<void> {
  const u = await storageAndDatasets(exec, userId);
  if (!existing && over(limits.datasets, u.datasets + 1)) {
    throw AppError.quotaExceeded(
      `Dataset quota reached: ${u.datasets} of ${limits.datasets} datasets; delete one first`,
    );
  }
  if (over(limits.storageBytes, u.storageBytes + addBytes)) {
    throw AppError.quotaExceeded(
      `Storage quota exceeded: ${u.storageBytes} bytes used + ${addBytes} new > ${limits.storageBytes} bytes`,
    );
  }
}

/** Call with the lock held, before inserting a job row. */
export async function assertJobFits(
  exec: Exec,
  userId: string,
  limits: QuotaLimits,
  pool: string,
): Promise<void> {
  const n = await activeJobs(exec, userId);
  const concurrent = jobQuotaError(limits, pool, n, null);
  if (concurrent) throw concurrent;
  if (pool === 'gpu' && limits.gpuMinutesPerMonth > 0) {
    const used = await gpuMinutesThisMonth(exec, userId);
    const gpu = jobQuotaError(limits, pool, n, used * 60);
    if (gpu) throw gpu;
  }
}

/** Whether the GPU-minutes check applies to a job of this pool. */
const gpuChecked = (limits: QuotaLimits, pool: string) =>
  pool === 'gpu' && limits.gpuMinutesPerMonth > 0;

/** The quota error for `active` jobs and `gpuSeconds` used this month (null: not checked), or null. */
export function jobQuotaError(
  limits: QuotaLimits,
  pool: string,
  active: number,
  gpuSeconds: number | null,
): AppError | null {
  if (over(limits.concurrentJobs, active + 1)) {
    return AppError.quotaExceeded(
      `Concurrent job quota reached: ${active} of ${limits.concurrentJobs} jobs are pending, queued or running`,
    );
  }
  if (gpuChecked(limits, pool) && gpuSeconds !== null) {
    const used = gpuSeconds / 60;
    if (used >= limits.gpuMinutesPerMonth) {
      return AppError.quotaExceeded(
        `GPU quota used up: ${used.toFixed(1)} of ${limits.gpuMinutesPerMonth} GPU minutes this month`,
      );
    }
  }
  return null;
}

/**
 * Runs `fn` in a MikroORM transaction on `em` itself (so entities already persisted on it are
 * flushed inside), with the user's quota lock held. Rolls back on error.
 */
export async function withDatasetQuota<T>(
  em: EntityManager,
  userId: string,
  fn: (exec: Exec) => Promise<T>,
): Promise<T> {
  await em.begin();
  try {
    const exec = emExec(em);
    await lockUserQuota(exec, userId);
    const out = await fn(exec);
    await em.commit();
    return out;
  } catch (e) {
    await em.rollback();
    throw e;
  }
}

/**
 * Once an upload's size is known (`size_bytes`), or its parsed matrix's (`matrix_size_bytes`):
 * with the lock held, check the bytes fit and record them on the row in the same transaction, so
 * parallel uploads see each other's bytes. The column's old value doesn't count (a re-parse
 * replaces the old matrix).
 */
export async function reserveDatasetBytes(
  knex: Knex,
  userId: string,
  limits: QuotaLimits,
  datasetId: string,
  bytes: number,
  column: 'size_bytes' | 'matrix_size_bytes' = 'size_bytes',
): Promise<void> {
  await knex.transaction(async trx => {
    const exec = knexExec(trx);
    await lockUserQuota(exec, userId);
    await exec(`UPDATE datasets SET ${column} = NULL WHERE id = ?`, [datasetId]);
    await assertDatasetFits(exec, userId, limits, bytes, true);
    await exec(`UPDATE datasets SET ${column} = ? WHERE id = ?`, [bytes, datasetId]);
  });
}

/**
 * For the jobs service, inside its insert transaction: take the lock and check. A resubmit with an
 * idempotency key already used returns the existing job, so it is not checked.
 */
export async function checkJobQuota(
  trx: Knex,
  userId: string,
  limits: QuotaLimits,
  pool: string,
  idempotencyKey: string | null,
): Promise<void> {
  const exec = knexExec(trx);
  await lockUserQuota(exec, userId);
  if (idempotencyKey) {
    const [dup] = await exec(`SELECT 1 FROM jobs WHERE owner_id = ? AND idempotency_key = ?`, [
      userId,
      idempotencyKey,
    ]);
    if (dup) return;
  }
  await assertJobFits(exec, userId, limits, pool);
}
