/**
 * `omicselector_submit_job(...)`: the job submit (quota lock, dataset re-check, idempotency lookup,
 * usage count, job + first event insert) as a server-side function, so the API sends one short
 * call through a named prepared statement instead of a ~2.5 KB script PostgreSQL parses and plans
 * on every submit (PL/pgSQL keeps its statement plans per connection).
 *
 * Same semantics as the script it replaces (src/modules/jobs/job.service.ts, `insertStatement`):
 * with `p_quota` the owner's quota lock (`pg_advisory_xact_lock(7301, hashtext(owner))`, the
 * same key as `lockUserQuota`) is taken first, and the main statement — VOLATILE, so under READ
 * COMMITTED it takes its own snapshot after the lock was granted — sees every commit made before.
 * Runs in the caller's (implicit) transaction: all or nothing.
 *
 * `p_max_active` 0 = no concurrent-job limit; `p_gpu_limit_seconds` NULL = GPU quota not checked.
 * Returns one row: the inserted job and event (NULL when nothing was inserted), the job already
 * stored under the idempotency key, whether the dataset still matches, and the owner's usage
 * (NULL without quotas).
 */
import { Migration } from '@mikro-orm/migrations';

const SIGNATURE = `omicselector_submit_job(boolean, int, float8, uuid, text, text, text, int, int, text, uuid, text, text, jsonb, text, text, text, text, uuid[], uuid, text)`;

export class Migration20261122130000_submit_job_function extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
CREATE OR REPLACE FUNCTION omicselector_submit_job(
  p_quota boolean, p_max_active int, p_gpu_limit_seconds float8,
  p_dataset_id uuid, p_owner text, p_ds_status text, p_outcome_kind text,
  p_sample_count int, p_feature_count int, p_idempotency_key text,
  p_id uuid, p_type text, p_status text, p_config jsonb, p_device text, p_pool text,
  p_priority text, p_request_hash text, p_depends_on uuid[], p_batch_id uuid, p_message text)
RETURNS TABLE (job json, event json, existing json, dataset_ok boolean, active int,
  gpu_seconds float8)
LANGUAGE plpgsql VOLATILE AS $submit$
#variable_conflict use_column
BEGIN
  IF p_quota THEN
    PERFORM pg_advisory_xact_lock(7301, hashtext(p_owner));
  END IF;
  RETURN QUERY
  WITH ds AS (
    SELECT 1 FROM datasets d
     WHERE d.id = p_dataset_id AND d.owner_id = p_owner::uuid AND d.deleted_at IS NULL
       AND d.status = p_ds_status AND coalesce(d.outcome->>'kind', 'none') = p_outcome_kind
       AND d.sample_count IS NOT DISTINCT FROM p_sample_count
       AND d.feature_count IS NOT DISTINCT FROM p_feature_count
  ), dup AS (
    SELECT * FROM jobs x WHERE x.owner_id = p_owner::uuid AND x.idempotency_key = p_idempotency_key
  ), u AS (
    SELECT
      CASE WHEN p_quota THEN (
        SELECT count(*)::int FROM jobs a
         WHERE a.owner_id = p_owner::uuid AND a.status IN ('PENDING', 'QUEUED', 'RUNNING')
      ) END AS n_active,
      CASE WHEN p_quota AND p_gpu_limit_seconds IS NOT NULL THEN (
        SELECT coalesce(sum(extract(epoch FROM coalesce(g.finished_at, clock_timestamp()) - g.started_at)), 0)::float8
          FROM jobs g
         WHERE g.owner_id = p_owner::uuid AND g.pool = 'gpu' AND g.started_at IS NOT NULL
           AND g.started_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
      ) END AS gpu_s
  ), go AS (
    SELECT 1 FROM u
     WHERE EXISTS (SELECT 1 FROM ds) AND NOT EXISTS (SELECT 1 FROM dup)
       AND (NOT p_quota OR (
         (p_max_active <= 0 OR u.n_active + 1 <= p_max_active)
         AND (p_gpu_limit_seconds IS NULL OR u.gpu_s < p_gpu_limit_seconds)))
  ), j AS (
    INSERT INTO jobs (id, owner_id, dataset_id, type, status, config, device_requested, pool,
      priority, idempotency_key, request_hash, depends_on, batch_id, progress, message, last_seq,
      created_at, updated_at, queued_at)
    SELECT p_id, p_owner::uuid, p_dataset_id, p_type, p_status, p_config, p_device, p_pool,
      p_priority, p_idempotency_key, p_request_hash, p_depends_on, p_batch_id, 0, p_message, 1,
      date_trunc('milliseconds', clock_timestamp()), clock_timestamp(),
      CASE WHEN p_status = 'QUEUED' THEN clock_timestamp() END
      FROM go
    ON CONFLICT (owner_id, idempotency_key) DO NOTHING
    RETURNING *
  ), e AS (
    INSERT INTO job_events (job_id, seq, kind, status, progress, stage, message, at)
    SELECT j.id, 1, 'STATUS', j.status, 0, NULL, j.message, j.updated_at FROM j
    RETURNING *
  )
  SELECT (SELECT row_to_json(j) FROM j), (SELECT row_to_json(e) FROM e),
    (SELECT row_to_json(dup) FROM dup), EXISTS (SELECT 1 FROM ds), u.n_active, u.gpu_s
    FROM u;
END
$submit$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`DROP FUNCTION IF EXISTS ${SIGNATURE};`);
  }
}
