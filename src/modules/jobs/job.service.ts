/**
 * Job operations behind the GraphQL API: submit (validate → route → insert with its first event →
 * enqueue), cancel, retry, reads. Ownership: a user reaches only their own jobs (admins: all);
 * another user's job fails exactly like a missing one (NOT_FOUND, same message).
 */
import { createHash, randomUUID } from 'node:crypto';
import { AppError, ErrorCode } from '../../errors.js';
import { decodeCursor, encodeCursor } from '../../graphql/connection.js';
import { log } from '../../logger.js';
import { publishCancel } from '../../queue/cancel.js';
import { liveWorkers, type WorkerHeartbeat } from '../../queue/heartbeat.js';
import { needsGpuWorkerCount, routeJob } from '../../queue/routing.js';
import { isUuid } from '../../util/ids.js';
import { Role, roleAtLeast } from '../accounts/role.js';
import { DatasetStatus } from '../datasets/dataset.model.js';
import { auditRaw } from '../audit/audit.service.js';
import { jobQuotaError } from '../quotas/quotas.service.js';
import { ConfigError, validateJobConfig } from './job.config.js';
import { type JobsDeps } from './job.deps.js';
import { publishEvents } from './job.events.js';
import { enqueueJob, settleDependents, settlePending, withTimeout } from './job.lifecycle.js';
import {
  type DeviceName,
  type JobEventRecord,
  type JobRecord,
  type JobResultRecord,
  type JobStatusName,
  type JobTypeName,
} from './job.model.js';
import {
  eventsAfter,
  getJob,
  getResult,
  NOW,
  raw,
  callPrepared,
  toEvent,
  toJob,
  transition,
  type RawRow,
} from './job.store.js';

export interface Actor {
  id: string;
  role: Role;
}

export interface SubmitInput {
  type: JobTypeName;
  datasetId: string;
  config: unknown;
  device: DeviceName;
  priority: 'HIGH' | 'NORMAL' | 'LOW';
  idempotencyKey?: string | null;
  dependsOn?: string[] | null;
}

export const MAX_PAGE = 100;
export const MAX_BATCH = 50;
const MAX_DEPENDS = 20;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

function notFound(id: string, field?: string): AppError {
  const msg = `Job ${id.length > 64 ? id.slice(0, 64) : id} not found`;
  return new AppError(ErrorCode.NOT_FOUND, msg, field ? { field } : {});
}

/** A job the actor may see (owner, or admin), else NOT_FOUND. */
export async function visibleJob(deps: JobsDeps, actor: Actor, id: string): Promise<JobRecord> {
  if (!isUuid(id)) throw notFound(id);
  const job = await getJob(deps.knex, id.toLowerCase());
  if (!job || (job.ownerId !== actor.id && actor.role !== Role.ADMIN)) throw notFound(id);
  return job;
}

/** What a submit needs to know of its dataset (checked again by the insert statement). */
interface DatasetFacts {
  id: string;
  status: string;
  outcomeKind: string;
  sampleCount: number | null;
  featureCount: number | null;
}

/**
 * Facts of READY datasets by `owner:id`, so a submit needs no dataset read of its own. Only a
 * hint: the insert statement inserts nothing unless the row still matches them (owner, READY, not
 * deleted, same outcome kind and shape); on a mismatch the entry is dropped and the submit is
 * prepared again from a fresh read. Bounded (oldest entries go first) and short-lived.
 */
const datasetFacts = new Map<string, { facts: DatasetFacts; at: number }>();
const DATASET_FACTS_MAX = 10_000;
const DATASET_FACTS_TTL_MS = 60_000;

async function readDataset(
  deps: JobsDeps,
  ownerId: string,
  datasetId: string,
  fresh: boolean,
): Promise<DatasetFacts | null> {
  const key = `${ownerId}:${datasetId}`;
  const hit = datasetFacts.get(key);
  if (hit && !fresh && Date.now() - hit.at < DATASET_FACTS_TTL_MS) return hit.facts;
  datasetFacts.delete(key);
  const rows = await raw<{
    id: string;
    status: string;
    outcome_kind: string;
    sample_count: number | null;
    feature_count: number | null;
  }>(
    deps.knex,
    `SELECT id, status, coalesce(outcome->>'kind', 'none') AS outcome_kind, sample_count, feature_count
       FROM datasets WHERE id = ? AND owner_id = ? AND deleted_at IS NULL`,
    [datasetId, ownerId],
  );
  const r = rows[0];
  if (!r) return null;
  const facts: DatasetFacts = {
    id: r.id,
    status: r.status,
    outcomeKind: r.outcome_kind,
    sampleCount: r.sample_count === null ? null : Number(r.sample_count),
    featureCount: r.feature_count === null ? null : Number(r.feature_count),
  };
  if (facts.status === DatasetStatus.READY) {
    if (datasetFacts.size >= DATASET_FACTS_MAX) {
      datasetFacts.delete(datasetFacts.keys().next().value!);
    }
    datasetFacts.set(key, { facts, at: Date.now() });
  }
  return facts;
}

interface Prepared {
  id: string;
  dataset: DatasetFacts;
  input: SubmitInput;
  config: Record<string, unknown>;
  dependsOn: string[];
  waitingFor: string[];
  pool: 'cpu' | 'gpu';
  status: 'PENDING' | 'QUEUED';
  message: string;
  requestHash: string;
}

/** All checks of a submit, without writing anything. `at` prefixes fields (batches). */
async function prepare(
  deps: JobsDeps,
  actor: Actor,
  input: SubmitInput,
  at = '',
  freshDataset = false,
): Promise<Prepared> {
  const key = input.idempotencyKey ?? null;
  if (key !== null && !IDEMPOTENCY_KEY.test(key)) {
    throw AppError.badInput(
      'idempotencyKey must be 1–128 characters of A–Z, a–z, 0–9, . _ : -',
      `${at}idempotencyKey`,
    );
  }
  if (input.device === 'GPU' && !roleAtLeast(actor.role, Role.RESEARCHER)) {
    throw AppError.forbidden('GPU jobs need the RESEARCHER or ADMIN role (use device CPU or AUTO)');
  }
  let validated;
  try {
    validated = validateJobConfig(input.type, input.config);
  } catch (e) {
    if (e instanceof ConfigError) throw AppError.badInput(e.message, at + e.field);
    throw e;
  }

  // The dataset: the submitter's own, and parsed.
  if (!isUuid(input.datasetId))
    throw AppError.notFound('Dataset', String(input.datasetId).slice(0, 64));
  const ds = await readDataset(deps, actor.id, input.datasetId.toLowerCase(), freshDataset);
  if (!ds)
    throw new AppError(ErrorCode.NOT_FOUND, `Dataset ${input.datasetId} not found`, {
      field: `${at}datasetId`,
    });
  if (ds.status !== DatasetStatus.READY) {
    throw AppError.badInput(
      `dataset ${ds.id} is not ready (status ${ds.status})`,
      `${at}datasetId`,
    );
  }
  const task = ds.outcomeKind === 'none' ? 'unsupervised' : ds.outcomeKind;
  for (const m of validated.methods) {
    if (input.type === 'PREDICTION') break;
    if (!(m.tasks as readonly string[]).includes(task)) {
      throw AppError.badInput(
        `${m.path}: ${m.code} does not support ${task} outcomes (it supports ${m.tasks.join(', ')})`,
        at + m.path,
      );
    }
  }

  // Jobs it depends on: listed, plus the jobs its config reads (signatures, models).
  const listed = [...new Set((input.dependsOn ?? []).map(s => s.toLowerCase()))];
  if (listed.length > MAX_DEPENDS) {
    throw AppError.badInput(`dependsOn allows at most ${MAX_DEPENDS} jobs`, `${at}dependsOn`);
  }
  const refs = [
    ...listed.map((id, i) => ({
      id,
      field: `${at}dependsOn[${i}]`,
      types: null as readonly JobTypeName[] | null,
    })),
    ...validated.jobRefs.map(r => ({ id: r.jobId, field: at + r.path, types: r.types })),
  ];
  for (const r of refs) if (!isUuid(r.id)) throw notFound(r.id, r.field);
  const found = new Map<string, JobRecord>();
  if (refs.length) {
    const rows = await raw(
      deps.knex,
      `SELECT * FROM jobs WHERE id IN (${refs.map(() => '?').join(', ')})`,
      refs.map(r => r.id),
    );
    for (const row of rows) found.set(row.id as string, toJob(row));
  }
  const dependsOn = new Set<string>(listed);
  for (const r of refs) {
    const parent = found.get(r.id);
    if (!parent || parent.ownerId !== actor.id) throw notFound(r.id, r.field);
    if (r.types && !r.types.includes(parent.type)) {
      throw AppError.badInput(
        `job ${r.id} is a ${parent.type} job; expected ${r.types.join(' or ')}`,
        r.field,
      );
    }
    if (parent.status === 'FAILED' || parent.status === 'CANCELLED') {
      throw AppError.badInput(
        `job ${r.id} ${parent.status === 'FAILED' ? 'failed' : 'was cancelled'}; retry it first`,
        r.field,
      );
    }
    if (parent.status !== 'COMPLETED') dependsOn.add(r.id);
  }
  const waitingFor = [...dependsOn].filter(id => found.get(id)?.status !== 'COMPLETED');

  // Routing. Only a GPU job, or an AUTO job that could go to the GPU, needs the live GPU worker
  // count: CPU jobs and AUTO jobs ruled out by their methods or size skip its Redis round trips.
  const facts = {
    device: input.device,
    methods: validated.methods.filter(m => m.kind === 'selector' || m.kind === 'model'),
    cells: (ds.sampleCount ?? 0) * (ds.featureCount ?? 0),
    defaultGpuMinCells: deps.gpuAutoMinCells,
  };
  const gpuWorkers = !needsGpuWorkerCount(facts)
    ? []
    : await withTimeout(
        liveWorkers(deps.redis, deps.prefix, deps.settings.WORKER_HEARTBEAT_TTL_MS, 'gpu'),
        2000,
        'worker lookup',
      ).catch(() => [] as WorkerHeartbeat[]);
  const route = routeJob({ ...facts, liveGpuWorkers: gpuWorkers.length });

  const status = waitingFor.length ? 'PENDING' : 'QUEUED';
  const message =
    status === 'PENDING'
      ? `Waiting for job${waitingFor.length > 1 ? 's' : ''} ${waitingFor.join(', ')} to complete`
      : (route.waitingReason ?? `Queued on the ${route.pool} pool (${route.explanation})`);
  const requestHash = createHash('sha256')
    .update(
      JSON.stringify([
        input.type,
        ds.id,
        validated.config,
        input.device,
        input.priority,
        [...dependsOn].sort(),
      ]),
    )
    .digest('hex');
  return {
    id: randomUUID(),
    dataset: ds,
    input: { ...input, datasetId: ds.id },
    config: validated.config,
    dependsOn: [...dependsOn],
    waitingFor,
    pool: route.pool,
    status,
    message,
    requestHash,
  };
}

/** What the submit statement answered. */
interface InsertOutcome {
  job: RawRow | null;
  event: RawRow | null;
  existing: RawRow | null;
  dataset_ok: boolean;
  active: number | null;
  gpu_seconds: number | null;
}

/**
 * The submit as ONE round trip: `omicselector_submit_job` (migration
 * `Migration20261122130000_submit_job_function`) called through a named prepared statement, so
 * PostgreSQL neither re-parses a long script nor re-plans it on every submit. With quotas on, the
 * function first takes the owner's quota lock, then runs one statement whose snapshot is taken
 * after the lock was granted: it re-checks the dataset facts `prepare` used, finds a job already
 * submitted under the same idempotency key, counts the owner's usage, and inserts the job and its
 * first event only when the dataset still matches, the key is new and the quota fits. Parallel
 * submits of one user are serialised by the lock; users never wait on each other. One implicit
 * transaction: all or nothing.
 */
async function insertStatement(
  deps: JobsDeps,
  actor: Actor,
  p: Prepared,
  batchId: string | null,
): Promise<InsertOutcome> {
  const ds = p.dataset;
  const q = deps.quotas;
  // Mirrors quotas.service (`jobQuotaError`) and the migration's omicselector_submit_job: the
  // GPU-minutes check applies to GPU-pool jobs when that quota is set; 0 means "no limit" for both.
  const gpuLimitSeconds =
    q && p.pool === 'gpu' && q.gpuMinutesPerMonth > 0 ? q.gpuMinutesPerMonth * 60 : null;
  const rows = await callPrepared<InsertOutcome>(deps.knex, SUBMIT_CALL, [
    Boolean(q),
    q ? Math.max(0, q.concurrentJobs) : 0,
    gpuLimitSeconds,
    ds.id,
    actor.id,
    DatasetStatus.READY,
    ds.outcomeKind,
    ds.sampleCount,
    ds.featureCount,
    p.input.idempotencyKey ?? null,
    p.id,
    p.input.type,
    p.status,
    JSON.stringify(p.config),
    p.input.device,
    p.pool,
    p.input.priority,
    p.requestHash,
    `{${p.dependsOn.join(',')}}`,
    batchId,
    p.message,
  ]);
  const row = rows[0];
  if (!row) throw AppError.internal('submit statement returned no row');
  return row;
}

/** The named statement of the submit call (prepared once per connection, then reused). */
const SUBMIT_CALL = {
  name: 'omicselector_submit_job_v1',
  text: `SELECT job, event, existing, dataset_ok, active, gpu_seconds
           FROM omicselector_submit_job(${Array.from({ length: 21 }, (_, i) => `$${i + 1}`).join(', ')})`,
};

/** Insert (or find the job already submitted under the same idempotency key), then enqueue. */
async function insert(
  deps: JobsDeps,
  actor: Actor,
  prepared: Prepared,
  batchId: string | null,
  at = '',
): Promise<JobRecord> {
  let p = prepared;
  const key = p.input.idempotencyKey ?? null;
  let out = await insertStatement(deps, actor, p, batchId);
  if (!out.dataset_ok) {
    // The dataset changed since its facts were read (deleted, re-parsed, …): prepare again from a
    // fresh read, which throws the right error if it no longer qualifies.
    p = { ...(await prepare(deps, actor, p.input, at, true)), id: p.id };
    out = await insertStatement(deps, actor, p, batchId);
    if (!out.dataset_ok) {
      throw AppError.conflict(
        `dataset ${p.input.datasetId} changed while the job was submitted; submit again`,
        `${at}datasetId`,
      );
    }
  }
  if (!out.job) {
    const existingRow =
      out.existing ??
      (out.active === null
        ? // No quota lock: a parallel submit with the same key may have won the insert race.
          (
            await raw(deps.knex, 'SELECT * FROM jobs WHERE owner_id = ? AND idempotency_key = ?', [
              actor.id,
              key,
            ])
          )[0]
        : undefined);
    if (!existingRow) {
      const refused =
        deps.quotas && jobQuotaError(deps.quotas, p.pool, Number(out.active ?? 0), out.gpu_seconds);
      throw refused || AppError.internal('submit inserted no job');
    }
    // Same idempotency key: the first submit won; every caller gets its job.
    const job = toJob(existingRow);
    if (existingRow.request_hash !== p.requestHash) {
      throw AppError.conflict(
        `idempotencyKey "${key}" was already used for a different request (job ${job.id})`,
        `${at}idempotencyKey`,
      );
    }
    if (job.status === 'QUEUED' && !job.enqueuedAt) await enqueueJob(deps, job, true);
    return job;
  }
  const job = toJob(out.job);
  if (deps.fault === 'crash-after-commit') crashForFaultInjection(job.id);
  publishEvents(deps.bus, [toEvent(out.event!, job.ownerId)]);
  if (job.status === 'PENDING') {
    // A parent may have completed between our check and the insert.
    await settlePending(deps, job.id);
    return (await getJob(deps.knex, job.id)) ?? job;
  }
  // The row as committed (QUEUED) and in its queue (else the reconciler adds it); the outbox
  // confirmation follows without the client waiting for it.
  if (await enqueueJob(deps, job, true, false)) job.enqueuedAt ??= new Date();
  return job;
}

/**
 * Fault injection (chaos tests only, OMICSELECTOR_FAULT=crash-after-commit, ignored in
 * production): die like a crash — SIGKILL, no exit handlers, no response — after the job row and
 * its unconfirmed outbox flag are committed and before the BullMQ add. The reconciler of any
 * other process (or of the restarted API) must then enqueue the job exactly once.
 */
function crashForFaultInjection(jobId: string): never {
  process.stderr.write(`fault injection: crash-after-commit (job ${jobId})\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL did not end the process');
}

export async function submitJob(
  deps: JobsDeps,
  actor: Actor,
  input: SubmitInput,
): Promise<JobRecord> {
  const p = await prepare(deps, actor, input);
  return insert(deps, actor, p, null);
}

/** All jobs are validated first: one bad config rejects the batch before anything is queued. */
export async function submitBatch(
  deps: JobsDeps,
  actor: Actor,
  inputs: SubmitInput[],
): Promise<JobRecord[]> {
  if (inputs.length < 1 || inputs.length > MAX_BATCH) {
    throw AppError.badInput(`a batch holds 1 to ${MAX_BATCH} jobs`, 'jobs');
  }
  const prepared: Prepared[] = [];
  for (const [i, input] of inputs.entries())
    prepared.push(await prepare(deps, actor, input, `jobs[${i}].`));
  const batchId = randomUUID();
  const out: JobRecord[] = [];
  for (const [i, p] of prepared.entries())
    out.push(await insert(deps, actor, p, batchId, `jobs[${i}].`));
  return out;
}

export async function cancelJob(deps: JobsDeps, actor: Actor, id: string): Promise<JobRecord> {
  const job = await visibleJob(deps, actor, id);
  const by = job.ownerId === actor.id ? 'the owner' : 'an administrator';
  const t = await transition(deps.knex, job.id, {
    from: ['PENDING', 'QUEUED', 'RUNNING'],
    to: 'CANCELLED',
    kind: 'STATUS',
    patch: { finishedAt: NOW, etaSeconds: null, message: `Cancelled by ${by}` },
  });
  if (!t) {
    const now = (await getJob(deps.knex, job.id))!;
    if (now.status === 'CANCELLED') return now;
    throw AppError.badInput(`job ${job.id} already ended (${now.status}); nothing to cancel`, 'id');
  }
  publishEvents(deps.bus, t.events);
  await auditRaw(deps.knex, {
    action: 'job.cancel',
    actorId: actor.id,
    targetType: 'job',
    targetId: job.id,
    details: { by: job.ownerId === actor.id ? 'owner' : 'admin', from: job.status },
  }).catch(err => log.warn('audit write failed', { jobId: job.id, error: String(err) }));
  // Reach the worker running it (if any) and drop a waiting queue entry; both best effort (the
  // worker also notices through its fenced writes and its status poll).
  await Promise.allSettled([
    withTimeout(publishCancel(deps.redis, deps.prefix, job.id), 2000, 'cancel signal'),
    withTimeout(deps.queues.removeWaiting(job.pool, job.id), 2000, 'queue removal'),
  ]).then(results => {
    for (const r of results)
      if (r.status === 'rejected')
        log.warn('cancel step failed', { jobId: job.id, error: String(r.reason) });
  });
  await settleDependents(deps, job.id);
  return t.job;
}

export async function retryJob(deps: JobsDeps, actor: Actor, id: string): Promise<JobRecord> {
  const job = await visibleJob(deps, actor, id);
  if (job.status !== 'FAILED' && job.status !== 'CANCELLED') {
    throw AppError.badInput(
      `only FAILED or CANCELLED jobs can be retried (job ${job.id} is ${job.status})`,
      'id',
    );
  }
  let waiting = false;
  if (job.dependsOn.length) {
    const parents = await raw<{ id: string; status: JobStatusName }>(
      deps.knex,
      `SELECT id, status FROM jobs WHERE id IN (${job.dependsOn.map(() => '?').join(', ')})`,
      job.dependsOn,
    );
    const bad = parents.find(p => p.status === 'FAILED' || p.status === 'CANCELLED');
    if (bad)
      throw AppError.badInput(
        `job ${bad.id} it depends on is ${bad.status}; retry that first`,
        'id',
      );
    if (parents.length < job.dependsOn.length)
      throw AppError.badInput('a job it depends on no longer exists', 'id');
    waiting = parents.some(p => p.status !== 'COMPLETED');
  }
  const t = await transition(deps.knex, job.id, {
    from: ['FAILED', 'CANCELLED'],
    to: waiting ? 'PENDING' : 'QUEUED',
    kind: 'STATUS',
    patch: {
      errorCode: null,
      errorMessage: null,
      finishedAt: null,
      progress: 0,
      stage: null,
      etaSeconds: null,
      enqueuedAt: null,
      queuedAt: NOW,
      message: waiting ? 'Retry requested; waiting for the jobs it depends on' : 'Retry requested',
    },
  });
  if (!t) throw AppError.conflict(`job ${job.id} changed meanwhile; reload it`, 'id');
  publishEvents(deps.bus, t.events);
  if (t.job.status === 'QUEUED') await enqueueJob(deps, t.job);
  return (await getJob(deps.knex, job.id)) ?? t.job;
}

export async function jobResult(deps: JobsDeps, job: JobRecord): Promise<JobResultRecord | null> {
  return job.status === 'COMPLETED' ? getResult(deps.knex, job.id) : null;
}

export async function jobEvents(
  deps: JobsDeps,
  actor: Actor,
  jobId: string,
  afterSeq: number,
  first: number,
): Promise<JobEventRecord[]> {
  if (!Number.isInteger(afterSeq) || afterSeq < 0)
    throw AppError.badInput('afterSeq must be ≥ 0', 'afterSeq');
  if (!Number.isInteger(first) || first < 1 || first > 100)
    throw AppError.badInput('first must be 1–100', 'first');
  const job = await visibleJob(deps, actor, jobId);
  return eventsAfter(deps.knex, job, afterSeq, first);
}

export interface JobListFilter {
  status?: JobStatusName[] | null;
  type?: JobTypeName | null;
  datasetId?: string | null;
  batchId?: string | null;
}

export interface JobPage {
  nodes: JobRecord[];
  cursors: string[];
  hasNextPage: boolean;
  totalCount: number;
}

/** Newest first; keyset pagination on (createdAt, id). Admins see everyone's jobs. */
export async function listJobs(
  deps: JobsDeps,
  actor: Actor,
  args: { first: number; after?: string | null; filter?: JobListFilter | null },
): Promise<JobPage> {
  const first = args.first;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) {
    throw AppError.badInput(`first must be between 1 and ${MAX_PAGE}`, 'first');
  }
  const where: string[] = [];
  const params: unknown[] = [];
  if (actor.role !== Role.ADMIN) {
    where.push('owner_id = ?');
    params.push(actor.id);
  }
  const f = args.filter ?? {};
  if (f.status?.length) {
    where.push(`status IN (${f.status.map(() => '?').join(', ')})`);
    params.push(...f.status);
  }
  if (f.type) {
    where.push('type = ?');
    params.push(f.type);
  }
  for (const [col, v, name] of [
    ['dataset_id', f.datasetId, 'filter.datasetId'],
    ['batch_id', f.batchId, 'filter.batchId'],
  ] as const) {
    if (!v) continue;
    if (!isUuid(v)) throw AppError.badInput(`${name} is not a valid id`, name);
    where.push(`${col} = ?`);
    params.push(v);
  }
  const page = [...where];
  const pageParams = [...params];
  if (args.after) {
    const c = decodeCursor(args.after);
    page.push('(created_at, id) < (?, ?)');
    pageParams.push(c.createdAt.toISOString(), c.id);
  }
  const clause = (w: string[]) => (w.length ? `WHERE ${w.join(' AND ')}` : '');
  const [rows, count] = await Promise.all([
    raw(deps.knex, `SELECT * FROM jobs ${clause(page)} ORDER BY created_at DESC, id DESC LIMIT ?`, [
      ...pageParams,
      first + 1,
    ]),
    raw<{ n: string }>(deps.knex, `SELECT count(*) AS n FROM jobs ${clause(where)}`, params),
  ]);
  const nodes = rows.slice(0, first).map(toJob);
  return {
    nodes,
    cursors: nodes.map(n => encodeCursor({ createdAt: n.createdAt, id: n.id })),
    hasNextPage: rows.length > first,
    totalCount: Number(count[0]?.n ?? 0),
  };
}

export async function listWorkers(deps: JobsDeps): Promise<WorkerHeartbeat[]> {
  return liveWorkers(deps.redis, deps.prefix, deps.settings.WORKER_HEARTBEAT_TTL_MS);
}
