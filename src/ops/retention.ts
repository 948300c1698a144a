/**
 * Retention and the orphan scan.
 *
 * `runRetention` purges datasets soft-deleted more than RETENTION_DELETED_DATASETS_DAYS ago (objects,
 * then rows, via the datasets module) and deletes the event logs of jobs that ended more than
 * RETENTION_JOB_EVENTS_DAYS ago (the job row and its result stay), and the artifacts of jobs that
 * ended more than RETENTION_ARTIFACT_DAYS ago (see `purgeJobArtifacts`). `startRetentionSchedule`
 * runs it every RETENTION_INTERVAL in the API; a Redis lock (SET NX PX) makes one replica do each
 * round.
 *
 * `orphanScan` compares storage with the database: objects under `datasets/<id>/` or
 * `jobs/<id>/` whose row is gone (or whose id is not a UUID), and READY datasets whose upload or
 * matrix object is missing. Optionally deletes the orphaned objects.
 */
import { randomUUID } from 'node:crypto';
import type { AppServices } from '../context.js';
import { log } from '../logger.js';
import { purgeDeletedDatasets } from '../modules/datasets/dataset.service.js';
import { isUuid } from '../util/ids.js';

export interface RetentionReport {
  datasetsPurged: number;
  jobEventsDeleted: number;
  /** Jobs whose artifacts were purged this round. */
  jobArtifactsPurged: number;
  /** Storage objects deleted by the artifact purge. */
  artifactObjectsDeleted: number;
}

const DAY_MS = 86_400_000;

export async function runRetention(app: AppServices, now = new Date()): Promise<RetentionReport> {
  const { deletedDatasetDays, jobEventDays, artifactDays } = app.config.retention;
  let datasetsPurged = 0;
  const olderThan = new Date(now.getTime() - deletedDatasetDays * DAY_MS);
  for (;;) {
    const n = await purgeDeletedDatasets(
      { em: app.orm.em.fork(), storage: app.storage },
      olderThan,
    );
    datasetsPurged += n;
    if (n === 0) break;
  }
  let jobEventsDeleted = 0;
  if (jobEventDays > 0) {
    const cutoff = new Date(now.getTime() - jobEventDays * DAY_MS);
    const res = (await app.orm.em.getKnex().raw(
      `DELETE FROM job_events e USING jobs j
          WHERE e.job_id = j.id AND j.finished_at IS NOT NULL AND j.finished_at < ?
            AND j.status IN ('COMPLETED', 'FAILED', 'CANCELLED')`,
      [cutoff],
    )) as { rowCount?: number };
    jobEventsDeleted = res.rowCount ?? 0;
  }
  let jobArtifactsPurged = 0;
  let artifactObjectsDeleted = 0;
  if (artifactDays > 0) {
    const cutoff = new Date(now.getTime() - artifactDays * DAY_MS);
    ({ jobs: jobArtifactsPurged, objects: artifactObjectsDeleted } = await purgeJobArtifacts(
      app,
      cutoff,
      now,
    ));
  }
  const report = { datasetsPurged, jobEventsDeleted, jobArtifactsPurged, artifactObjectsDeleted };
  if (datasetsPurged || jobEventsDeleted || jobArtifactsPurged) {
    log.info('retention purge', { ...report });
  }
  return report;
}

const ARTIFACT_BATCH = 100;

/**
 * Deletes every object under `jobs/<id>/` of jobs that ended (COMPLETED, FAILED, CANCELLED) before
 * `cutoff` and still hold artifacts, then marks their result: `artifacts` becomes `[]` (so nothing
 * hands out download URLs for dead objects), `data.artifactsPurged = {at, keys, objects}` records
 * what went, and `data.modelArtifact` moves into that record so a PREDICTION from the job is refused
 * as "no trained model" instead of failing on a missing object. The job row, the rest of the
 * result document and the events stay.
 *
 * Only jobs whose result lists artifacts are candidates; partial objects of failed or cancelled
 * runs are removed by their worker, and anything left behind shows up in the orphan scan.
 * Objects go first, then the row: if the row update fails the next round deletes nothing new and
 * marks it then. The row update is conditional on the artifact list it read, so a concurrent round
 * in another replica cannot mark twice.
 */
export async function purgeJobArtifacts(
  app: AppServices,
  cutoff: Date,
  now = new Date(),
): Promise<{ jobs: number; objects: number }> {
  const knex = app.orm.em.getKnex();
  let jobs = 0;
  let objects = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const batch = (await knex.raw(
      `SELECT j.id::text AS id, r.artifacts
         FROM jobs j JOIN job_results r ON r.job_id = j.id
        WHERE j.finished_at IS NOT NULL AND j.finished_at < ?
          AND j.status IN ('COMPLETED', 'FAILED', 'CANCELLED')
          AND jsonb_array_length(r.artifacts) > 0
          AND j.id > ?::uuid
        ORDER BY j.id
        LIMIT ?`,
      [cutoff, after, ARTIFACT_BATCH],
    )) as { rows: Array<{ id: string; artifacts: string[] }> };
    if (batch.rows.length === 0) break;
    for (const row of batch.rows) {
      after = row.id;
      let deleted: number;
      try {
        deleted = await app.storage.deletePrefix(`jobs/${row.id}/`);
        // Keys listed outside the job's folder (none today) are deleted one by one.
        for (const key of row.artifacts) {
          if (!key.startsWith(`jobs/${row.id}/`)) {
            await app.storage.delete(key);
            deleted++;
          }
        }
      } catch (err) {
        log.warn('artifact purge: storage delete failed; retried next round', {
          jobId: row.id,
          error: String(err),
        });
        continue;
      }
      const marked = (await knex.raw(
        `UPDATE job_results
            SET data = (data - 'modelArtifact') || jsonb_build_object('artifactsPurged',
                  jsonb_strip_nulls(jsonb_build_object(
                    'at', ?::text, 'keys', artifacts, 'objects', ?::int,
                    'modelArtifact', data -> 'modelArtifact'))),
                artifacts = '[]'::jsonb
          WHERE job_id = ?::uuid AND artifacts = ?::jsonb`,
        [now.toISOString(), deleted, row.id, JSON.stringify(row.artifacts)],
      )) as { rowCount?: number };
      if ((marked.rowCount ?? 0) > 0) {
        jobs++;
        objects += deleted;
      }
    }
    if (batch.rows.length < ARTIFACT_BATCH) break;
  }
  return { jobs, objects };
}

/** Runs `runRetention` every interval in one replica at a time; returns a stop function. */
export function startRetentionSchedule(app: AppServices): () => void {
  const seconds = app.config.retention.intervalSeconds;
  if (seconds <= 0) return () => undefined;
  const me = randomUUID();
  const tick = async () => {
    try {
      // The lock lives a little shorter than the interval so a crashed holder never blocks a round.
      const got = await app.redis.set(
        'retention:lock',
        me,
        'PX',
        Math.max(1000, seconds * 900),
        'NX',
      );
      if (got !== 'OK') return;
      await runRetention(app);
    } catch (err) {
      log.warn('retention purge failed', { error: String(err) });
    }
  };
  const timer = setInterval(() => void tick(), seconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

export interface OrphanReport {
  objectsScanned: number;
  /** Keys whose dataset/job row does not exist. */
  orphanObjects: string[];
  /** Dataset ids that are READY but miss their upload or matrix object. */
  datasetsMissingObjects: string[];
  deleted: number;
}

export async function orphanScan(
  app: AppServices,
  options: { delete?: boolean; limit?: number } = {},
): Promise<OrphanReport> {
  const limit = options.limit ?? 10_000;
  const knex = app.orm.em.getKnex();
  const byPrefix = new Map<string, string[]>();
  let objectsScanned = 0;
  for (const top of ['datasets/', 'jobs/']) {
    for await (const key of app.storage.list(top)) {
      objectsScanned++;
      const id = key.split('/')[1] ?? '';
      const group = `${top}${id}`;
      byPrefix.set(group, [...(byPrefix.get(group) ?? []), key]);
    }
  }
  const ids = (top: string) =>
    [...byPrefix.keys()]
      .filter(g => g.startsWith(top))
      .map(g => g.slice(top.length))
      .filter(isUuid);
  const existing = async (table: string, list: string[]) => {
    if (list.length === 0) return new Set<string>();
    // Soft-deleted datasets still own their objects until the purge: they count as existing.
    const res = (await knex.raw(`SELECT id::text FROM ${table} WHERE id = ANY(?::uuid[])`, [
      `{${list.join(',')}}`,
    ])) as { rows: Array<{ id: string }> };
    return new Set(res.rows.map(r => r.id));
  };
  const datasetIds = await existing('datasets', ids('datasets/'));
  const jobIds = await existing('jobs', ids('jobs/'));
  const orphanObjects: string[] = [];
  for (const [group, keys] of byPrefix) {
    const [top, id] = group.split('/') as [string, string];
    const known = top === 'datasets' ? datasetIds : jobIds;
    if (!isUuid(id) || !known.has(id.toLowerCase())) orphanObjects.push(...keys);
  }
  const ready = (await knex.raw(
    `SELECT id::text, upload_key, matrix_key FROM datasets WHERE status = 'READY' AND deleted_at IS NULL`,
  )) as { rows: Array<{ id: string; upload_key: string; matrix_key: string }> };
  const present = new Set([...byPrefix.values()].flat());
  const datasetsMissingObjects = ready.rows
    .filter(r => !present.has(r.upload_key) || !present.has(r.matrix_key))
    .map(r => r.id);
  let deleted = 0;
  if (options.delete) {
    for (const key of orphanObjects) {
      await app.storage.delete(key);
      deleted++;
    }
  }
  return {
    objectsScanned,
    orphanObjects: orphanObjects.slice(0, limit),
    datasetsMissingObjects: datasetsMissingObjects.slice(0, limit),
    deleted,
  };
}
