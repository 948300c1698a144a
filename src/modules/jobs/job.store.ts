/**
 * SQL for job state. Every state change is ONE statement that updates the row and appends its
 * event (seq = the row's incremented `last_seq`), so the row lock serialises concurrent writers:
 * a cancel racing a completion ends in exactly one terminal state, and seqs never repeat or skip.
 *
 * Writes made by a running compute carry the run's fencing token (`attempt`): after a worker is
 * presumed dead and the job re-delivered, the old run's late writes match no row.
 */
import { type Knex } from '@mikro-orm/postgresql';
import {
  type EventKindName,
  type JobErrorCode,
  type JobEventRecord,
  type JobRecord,
  type JobResultRecord,
  type JobStatusName,
} from './job.model.js';

/** Anything that runs raw SQL with `?` bindings: the knex instance or a transaction. */
export type Db = Knex | Knex.Transaction;

/** Sentinel for `SET column = now()`. */
export const NOW = Symbol('now');

export interface JobPatch {
  progress?: number;
  stage?: string | null;
  message?: string | null;
  etaSeconds?: number | null;
  deviceUsed?: string | null;
  deviceInfo?: Record<string, unknown> | null;
  workerId?: string | null;
  errorCode?: JobErrorCode | null;
  errorMessage?: string | null;
  pool?: 'cpu' | 'gpu';
  enqueuedAt?: typeof NOW | null;
  queuedAt?: typeof NOW | null;
  startedAt?: typeof NOW | null;
  finishedAt?: typeof NOW | null;
  /** Start a new run: attempt = attempt + 1 (the new fencing token). */
  newAttempt?: true;
}

const COLUMN: Record<keyof JobPatch, string> = {
  progress: 'progress',
  stage: 'stage',
  message: 'message',
  etaSeconds: 'eta_seconds',
  deviceUsed: 'device_used',
  deviceInfo: 'device_info',
  workerId: 'worker_id',
  errorCode: 'error_code',
  errorMessage: 'error_message',
  pool: 'pool',
  enqueuedAt: 'enqueued_at',
  queuedAt: 'queued_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  newAttempt: 'attempt',
};

function setClause(patch: JobPatch): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const [key, value] of Object.entries(patch) as [keyof JobPatch, unknown][]) {
    if (value === undefined) continue;
    const col = COLUMN[key];
    if (key === 'newAttempt') parts.push('attempt = attempt + 1');
    else if (value === NOW) parts.push(`${col} = now()`);
    else if (key === 'deviceInfo') {
      parts.push(`${col} = ?::jsonb`);
      params.push(value === null ? null : JSON.stringify(value));
    } else {
      parts.push(`${col} = ?`);
      params.push(value);
    }
  }
  return { sql: parts.map(p => `, ${p}`).join(''), params };
}

export interface TransitionSpec {
  /** Statuses the row must be in for the change to apply. */
  from: readonly JobStatusName[];
  to: JobStatusName;
  kind: EventKindName;
  patch?: JobPatch;
  /** Only apply when the row's current run is this one. */
  fence?: number;
}

export interface Transitioned {
  job: JobRecord;
  events: JobEventRecord[];
}

/**
 * Apply a conditional state change and append its event atomically. Returns null when the row is
 * not in one of `from` (or the fence no longer matches): the caller lost the race.
 */
export async function transition(
  db: Db,
  jobId: string,
  spec: TransitionSpec,
): Promise<Transitioned | null> {
  const set = setClause(spec.patch ?? {});
  const fence = spec.fence === undefined ? '' : ' AND attempt = ?';
  const sql = `
    WITH j AS (
      UPDATE jobs SET status = ?, last_seq = last_seq + 1, updated_at = clock_timestamp()${set.sql}
      WHERE id = ? AND status IN (${spec.from.map(() => '?').join(', ')})${fence}
      RETURNING *
    ), e AS (
      INSERT INTO job_events (job_id, seq, kind, status, progress, stage, message, at)
      SELECT id, last_seq, ?, status, progress, stage, message, updated_at FROM j
      RETURNING *
    )
    SELECT row_to_json(j) AS job, (SELECT row_to_json(e) FROM e) AS event FROM j`;
  const params = [
    spec.to,
    ...set.params,
    jobId,
    ...spec.from,
    ...(spec.fence === undefined ? [] : [spec.fence]),
    spec.kind,
  ];
  const rows = await raw<{ job: RawRow; event: RawRow }>(db, sql, params);
  const row = rows[0];
  if (!row) return null;
  const job = toJob(row.job);
  return { job, events: [toEvent(row.event, job.ownerId)] };
}

/**
 * Complete a run: store its result (one per job, unique job_id), then a RESULT and a terminal
 * STATUS event, all in one statement fenced by the run's attempt. Null when the run is stale
 * (cancelled, re-delivered elsewhere) — the result is then not stored.
 */
export async function completeRun(
  db: Db,
  jobId: string,
  fence: number,
  result: { summary: Record<string, unknown>; data: Record<string, unknown>; artifacts: string[] },
  message: string,
): Promise<Transitioned | null> {
  const sql = `
    WITH j AS (
      UPDATE jobs SET status = 'COMPLETED', last_seq = last_seq + 2, progress = 100, eta_seconds = 0,
        stage = 'done', message = ?, finished_at = clock_timestamp(), updated_at = clock_timestamp(),
        error_code = NULL, error_message = NULL
      WHERE id = ? AND status = 'RUNNING' AND attempt = ?
      RETURNING *
    ), r AS (
      INSERT INTO job_results (job_id, attempt, summary, data, artifacts, created_at)
      SELECT id, attempt, ?::jsonb, ?::jsonb, ?::jsonb, updated_at FROM j
      RETURNING job_id
    ), e AS (
      INSERT INTO job_events (job_id, seq, kind, status, progress, stage, message, at)
      SELECT id, last_seq - 1, 'RESULT', 'RUNNING', 100, 'result', ?, updated_at FROM j
      UNION ALL
      SELECT id, last_seq, 'STATUS', status, progress, stage, message, updated_at FROM j
      RETURNING *
    )
    SELECT row_to_json(j) AS job,
      (SELECT json_agg(e ORDER BY e.seq) FROM e) AS events,
      (SELECT count(*) FROM r) AS stored
    FROM j`;
  const rows = await raw<{ job: RawRow; events: RawRow[] }>(db, sql, [
    message,
    jobId,
    fence,
    JSON.stringify(result.summary),
    JSON.stringify(result.data),
    JSON.stringify(result.artifacts),
    `Result stored (${describeSummary(result.summary)})`,
  ]);
  const row = rows[0];
  if (!row) return null;
  const job = toJob(row.job);
  return { job, events: row.events.map(e => toEvent(e, job.ownerId)) };
}

function describeSummary(summary: Record<string, unknown>): string {
  const parts = Object.entries(summary)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
    .slice(0, 4)
    .map(([k, v]) => `${k}: ${typeof v === 'number' ? +v.toPrecision(4) : v}`);
  return parts.join(', ') || 'ok';
}

export async function getJob(db: Db, id: string): Promise<JobRecord | null> {
  const rows = await raw<RawRow>(db, 'SELECT * FROM jobs WHERE id = ?', [id]);
  return rows[0] ? toJob(rows[0]) : null;
}

export async function getResult(db: Db, jobId: string): Promise<JobResultRecord | null> {
  const rows = await raw<RawRow>(db, 'SELECT * FROM job_results WHERE job_id = ?', [jobId]);
  const r = rows[0];
  if (!r) return null;
  return {
    jobId: r.job_id as string,
    attempt: r.attempt as number,
    summary: r.summary as Record<string, unknown>,
    data: r.data as Record<string, unknown>,
    artifacts: (r.artifacts as string[] | null) ?? [],
    createdAt: new Date(r.created_at as string),
  };
}

/** Stored events after `afterSeq` (optionally up to `toSeq`), in order. */
export async function eventsAfter(
  db: Db,
  job: Pick<JobRecord, 'id' | 'ownerId'>,
  afterSeq: number,
  limit = 1000,
  toSeq?: number,
): Promise<JobEventRecord[]> {
  const upTo = toSeq === undefined ? '' : ' AND seq <= ?';
  const rows = await raw<RawRow>(
    db,
    `SELECT * FROM job_events WHERE job_id = ? AND seq > ?${upTo} ORDER BY seq LIMIT ?`,
    [job.id, afterSeq, ...(toSeq === undefined ? [] : [toSeq]), limit],
  );
  return rows.map(r => toEvent(r, job.ownerId));
}

// ---------------------------------------------------------------------------------------------

export type RawRow = Record<string, unknown>;

export async function raw<T = RawRow>(db: Db, sql: string, params: unknown[] = []): Promise<T[]> {
  const res = (await db.raw(sql, params as Knex.RawBinding[])) as { rows: T[] };
  return res.rows;
}

const date = (v: unknown): Date | null =>
  v === null || v === undefined ? null : new Date(v as string);

export function toJob(r: RawRow): JobRecord {
  return {
    id: r.id as string,
    ownerId: r.owner_id as string,
    datasetId: r.dataset_id as string,
    type: r.type as JobRecord['type'],
    status: r.status as JobStatusName,
    config: (r.config ?? {}) as Record<string, unknown>,
    deviceRequested: r.device_requested as JobRecord['deviceRequested'],
    pool: r.pool as JobRecord['pool'],
    priority: r.priority as JobRecord['priority'],
    idempotencyKey: (r.idempotency_key as string | null) ?? null,
    dependsOn: (r.depends_on as string[] | null) ?? [],
    batchId: (r.batch_id as string | null) ?? null,
    progress: Number(r.progress ?? 0),
    stage: (r.stage as string | null) ?? null,
    message: (r.message as string | null) ?? null,
    etaSeconds:
      r.eta_seconds === null || r.eta_seconds === undefined ? null : Number(r.eta_seconds),
    attempt: Number(r.attempt ?? 0),
    deviceUsed: (r.device_used as string | null) ?? null,
    deviceInfo: (r.device_info as Record<string, unknown> | null) ?? null,
    workerId: (r.worker_id as string | null) ?? null,
    errorCode: (r.error_code as JobErrorCode | null) ?? null,
    errorMessage: (r.error_message as string | null) ?? null,
    lastSeq: Number(r.last_seq ?? 0),
    enqueuedAt: date(r.enqueued_at),
    createdAt: date(r.created_at)!,
    updatedAt: date(r.updated_at)!,
    queuedAt: date(r.queued_at),
    startedAt: date(r.started_at),
    finishedAt: date(r.finished_at),
  };
}

export function toEvent(r: RawRow, ownerId: string): JobEventRecord {
  return {
    jobId: r.job_id as string,
    ownerId,
    seq: Number(r.seq),
    kind: r.kind as EventKindName,
    status: r.status as JobStatusName,
    progress: Number(r.progress ?? 0),
    stage: (r.stage as string | null) ?? null,
    message: (r.message as string | null) ?? null,
    at: new Date(r.at as string),
  };
}

/** A SQL literal for `runScript` (same escaping as libpq's PQescapeLiteral). */
export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v !== 'string') throw new Error(`no SQL literal for a ${typeof v}`);
  const quoted = v.replace(/'/g, "''");
  return v.includes('\\') ? ` E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}

/** Replaces each `?` of `sql` by the next value as a literal (`sql` has no other `?`). */
export function inline(sql: string, params: readonly unknown[]): string {
  let i = 0;
  const out = sql.replace(/\?/g, () => {
    if (i >= params.length) throw new Error('more ? than values');
    return sqlLiteral(params[i++]);
  });
  if (i !== params.length) throw new Error('more values than ?');
  return out;
}

/**
 * Several statements sent as ONE simple-protocol query: one round trip, and PostgreSQL runs them
 * as one implicit transaction (all or nothing; an error rolls everything back and leaves the
 * connection clean). Each statement still takes its own snapshot (READ COMMITTED), so a statement
 * after `pg_advisory_xact_lock` sees every commit made before the lock was granted. Values are
 * inlined as escaped literals (`inline`) because the simple protocol has no bind parameters.
 * Returns the rows of the last statement.
 */
export async function runScript<T = RawRow>(
  knex: Knex,
  statements: ReadonlyArray<readonly [sql: string, params: readonly unknown[]]>,
): Promise<T[]> {
  const text = statements.map(([sql, params]) => inline(sql, params)).join(';\n');
  const client = knex.client as {
    acquireConnection(): Promise<PgConnection>;
    releaseConnection(c: PgConnection): Promise<unknown>;
  };
  const conn = await client.acquireConnection();
  try {
    const res = await conn.query(text);
    const last = Array.isArray(res) ? res[res.length - 1] : res;
    return (last?.rows ?? []) as T[];
  } finally {
    await client.releaseConnection(conn);
  }
}

/**
 * One statement through a NAMED prepared statement (extended protocol): pg parses and plans
 * `statement.text` once per pooled connection and afterwards sends only the name and the bound
 * values. Values travel as parameters (no inlining, no escaping). `name` must identify `text`
 * uniquely for the life of the process (change the name when the text changes).
 */
export async function callPrepared<T = RawRow>(
  knex: Knex,
  statement: { readonly name: string; readonly text: string },
  values: readonly unknown[],
): Promise<T[]> {
  const client = knex.client as {
    acquireConnection(): Promise<PgConnection>;
    releaseConnection(c: PgConnection): Promise<unknown>;
  };
  const conn = await client.acquireConnection();
  try {
    const res = await conn.query({ name: statement.name, text: statement.text, values });
    return (Array.isArray(res) ? (res[res.length - 1]?.rows ?? []) : res.rows) as T[];
  } finally {
    await client.releaseConnection(conn);
  }
}

interface PgResult {
  rows: unknown[];
}
interface PgConnection {
  query(
    q: string | { name: string; text: string; values: readonly unknown[] },
  ): Promise<PgResult | PgResult[]>;
}
