/**
 * Datasets: upload (multipart or presigned), parse into the binary matrix, list, preview, update,
 * soft delete. Every lookup goes through `findVisible`, so a user only ever reaches their own
 * datasets and another user's id fails exactly like a missing one (NOT_FOUND, same message).
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { type EntityManager, type FilterQuery } from '@mikro-orm/postgresql';
import { type Dataset } from '../../../compute/core/dataset.js';
import {
  DEFAULT_LIMITS,
  TabularParseError,
  type TabularLimits,
  type TabularOptions,
  type TabularResult,
} from '../../../compute/io/tabular.js';
import { parseTabularOffThread } from '../../../compute/io/parse-thread.js';
import { AppError, isStorageUnavailable } from '../../errors.js';
import { decodeCursor, encodeCursor } from '../../graphql/connection.js';
import { log } from '../../logger.js';
import { type ObjectStorage } from '../../storage/index.js';
import { assertIdOrNotFound, isUuid } from '../../util/ids.js';
import { Semaphore } from '../../util/semaphore.js';
import { Role } from '../accounts/role.js';
import { User } from '../accounts/user.entity.js';
import { audit } from '../audit/audit.service.js';
import {
  assertDatasetFits,
  reserveDatasetBytes,
  withDatasetQuota,
  type QuotaLimits,
} from '../quotas/quotas.service.js';
import { DatasetEntity, NOT_DELETED } from './dataset.entity.js';
import type { DatasetRow } from './dataset.types.js';
import {
  DatasetStatus,
  type DataType,
  type FailureRecord,
  type ParseOptionsRecord,
} from './dataset.model.js';
import { matrixOf } from './dataset.matrix.js';
import {
  datasetKeys,
  putSized,
  putUpload,
  uploadTooLarge,
  UploadTooLargeError,
} from './dataset.storage.js';

export { loadDatasetMatrix } from './dataset.matrix.js';

export interface Actor {
  id: string;
  role: Role;
}

export interface DatasetDeps {
  em: EntityManager;
  storage: ObjectStorage;
  maxUploadBytes: number;
  presignTtlSeconds: number;
  /** Per-user quotas, checked atomically where rows are created (absent: unlimited). */
  quotas?: QuotaLimits;
  /**
   * Called after each committed write to a user's dataset rows (`bumpDatasetsVersion`: cached
   * list pages of that user are stale on every instance). Required, so that no write path can
   * forget it; a caller whose process caches no lists passes `async () => undefined`.
   */
  changed: (ownerId: string) => Promise<void>;
}

/** After a committed write to `ownerId`'s rows (see `DatasetDeps.changed`). */
async function changed(deps: Pick<DatasetDeps, 'changed'>, ownerId: string): Promise<void> {
  await deps.changed(ownerId);
}

/** Flushes the new row inside the owner's quota lock (one more dataset + `bytes` must fit). */
async function flushNewRow(deps: DatasetDeps, actor: Actor, bytes: number): Promise<void> {
  const limits = deps.quotas;
  if (!limits) await deps.em.flush();
  else {
    await withDatasetQuota(deps.em, actor.id, exec =>
      assertDatasetFits(exec, actor.id, limits, bytes),
    );
  }
  await changed(deps, actor.id);
}

export interface DatasetFields {
  name: string;
  description?: string | null;
  dataType: DataType;
  metadata?: Record<string, unknown> | null;
}

export interface NewDataset extends DatasetFields {
  parseOptions: ParseOptionsRecord;
  filename?: string | null;
}

export const MAX_PAGE_SIZE = 100;
export const MAX_PREVIEW = 100;
const MAX_METADATA_BYTES = 64 * 1024;

/**
 * At most two uploads are parsed at once per API process: a parse holds up to ~2× the matrix in
 * memory at its peak, and the CPU is shared with request handling. Others wait their turn.
 */
const parsing = new Semaphore(2);

// ---------------------------------------------------------------------------------------------
// Validation of client input

function cleanName(name: string): string {
  const n = name.trim();
  if (n.length < 1 || n.length > 200) {
    throw AppError.badInput('name must be 1 to 200 characters', 'name');
  }
  return n;
}

function cleanDescription(d: string | null | undefined): string | undefined {
  if (d === null || d === undefined) return undefined;
  if (d.length > 10_000)
    throw AppError.badInput('description is longer than 10,000 characters', 'description');
  return d;
}

function cleanMetadata(m: Record<string, unknown> | null | undefined): Record<string, unknown> {
  if (m === null || m === undefined) return {};
  if (typeof m !== 'object' || Array.isArray(m))
    throw AppError.badInput('metadata must be a JSON object', 'metadata');
  if (Buffer.byteLength(JSON.stringify(m)) > MAX_METADATA_BYTES) {
    throw AppError.badInput(
      `metadata is larger than ${MAX_METADATA_BYTES} bytes of JSON`,
      'metadata',
    );
  }
  return m;
}

// Control characters and bidi overrides (which can disguise "evil‮vsc.exe" as "evilexe.csv").
// eslint-disable-next-line no-control-regex
const UNSAFE_NAME_CHARS = /[\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Display name only: no path, no control or bidi-override characters, bounded length. */
export function sanitizeFilename(name: string | null | undefined): string | undefined {
  if (!name) return undefined;
  const base = name.split(/[/\\]/).pop() ?? '';
  const clean = base.replace(UNSAFE_NAME_CHARS, '').trim();
  return clean ? clean.slice(0, 255) : undefined;
}

function checkId(id: string): void {
  assertIdOrNotFound(id, 'Dataset');
}

// ---------------------------------------------------------------------------------------------
// Lookups

/** The dataset if `actor` may see it (owner, or admin), else NOT_FOUND with the same message. */
export async function findVisible(
  deps: Pick<DatasetDeps, 'em'>,
  actor: Actor,
  id: string,
  options: { includeDeleted?: boolean } = {},
): Promise<DatasetEntity> {
  checkId(id);
  const admin = actor.role === Role.ADMIN;
  const where: FilterQuery<DatasetEntity> = admin ? { id } : { id, owner: actor.id };
  const ds = await deps.em.findOne(DatasetEntity, where, {
    filters: admin && options.includeDeleted ? { [NOT_DELETED]: false } : undefined,
  });
  if (!ds) throw AppError.notFound('Dataset', id);
  return ds;
}

export interface DatasetFilter {
  status?: DatasetStatus | null;
  dataType?: DataType | null;
  /** Case-insensitive substring of the name. */
  search?: string | null;
  /** Admins only: include soft-deleted datasets. */
  includeDeleted?: boolean | null;
  /** Admins only: one owner's datasets. */
  ownerId?: string | null;
}

export interface DatasetPage {
  nodes: DatasetRow[];
  cursors: string[];
  hasNextPage: boolean;
  totalCount: number;
}

/** A column a list page reads, and how its raw value becomes the `DatasetRow` property. */
interface ListColumn {
  prop: string;
  column: string;
  kind: 'plain' | 'boolean' | 'date' | 'bigint' | 'ref';
}

/**
 * Every non-lazy column (not the feature-name / sample-id arrays), from the entity metadata, with
 * the conversions MikroORM's result mapper would apply (booleans, dates through the platform)
 * plus the owner as `{ id }` and BIGINT (`BigIntType('number')`, a string from pg) as a number.
 */
let listColumnsCache: ListColumn[] | undefined;
function listColumns(em: EntityManager): ListColumn[] {
  listColumnsCache ??= em
    .getMetadata()
    .get(DatasetEntity.name)
    .props.filter(p => !p.lazy && p.persist !== false && (p.kind === 'scalar' || p.kind === 'm:1'))
    .map(p => ({
      prop: p.name,
      column: p.fieldNames[0]!,
      kind:
        p.kind === 'm:1'
          ? 'ref'
          : p.runtimeType === 'boolean'
            ? 'boolean'
            : p.runtimeType === 'Date'
              ? 'date'
              : p.columnTypes?.[0] === 'bigint'
                ? 'bigint'
                : 'plain',
    }));
  return listColumnsCache;
}

const TOTAL = 'omic_total_count';
const quoted = (column: string) => `"${column.replace(/"/g, '""')}"`;

interface PgConnection {
  query(q: {
    name?: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/**
 * Statement names per query text: each pooled connection parses and plans a list query once
 * (PostgreSQL keeps the prepared statement per connection). Few distinct texts exist (one per
 * combination of filters), so the map stays small.
 */
const statementNames = new Map<string, string>();
const statementName = (text: string) => {
  let name = statementNames.get(text);
  if (!name) {
    name = `omic_list_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    if (statementNames.size < 1000) statementNames.set(text, name);
  }
  return name;
};
interface KnexPool {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(c: PgConnection): Promise<unknown>;
}

/**
 * A read-only query on a pooled connection without the ORM's query runner (its per-query
 * overhead was a large part of a list request's CPU under `npm run load`), as a named prepared
 * statement. `$n` placeholders.
 * Inside a transaction it goes through the transaction's connection instead.
 */
async function leanQuery(
  em: EntityManager,
  text: string,
  values: unknown[],
): Promise<Array<Record<string, unknown>>> {
  const trx = em.getTransactionContext();
  if (trx) {
    return em.getConnection().execute(text.replace(/\$\d+/g, '?'), values, 'all', trx) as Promise<
      Array<Record<string, unknown>>
    >;
  }
  const pool = em.getKnex().client as unknown as KnexPool;
  const conn = await pool.acquireConnection();
  try {
    return (await conn.query({ name: statementName(text), text, values })).rows;
  } finally {
    await pool.releaseConnection(conn);
  }
}

/**
 * Newest first, keyset pagination on (createdAt, id).
 *
 * One hand-written query per page in the usual case: the rows are read as plain objects (no
 * query builder, no entity hydration, no identity map: a list page is read-only) and, for the
 * first page, the total comes from `count(*) over ()` on the same query (computed before LIMIT,
 * so it counts every matching row). Pages after a cursor, where the page filter differs from
 * the total's, count separately. The conditions are those `em.find` would use, including the
 * soft-delete filter (which admins can turn off with `includeDeleted`).
 */
export async function listDatasets(
  deps: Pick<DatasetDeps, 'em'>,
  actor: Actor,
  args: { first?: number | null; after?: string | null; filter?: DatasetFilter | null },
): Promise<DatasetPage> {
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw AppError.badInput(`first must be between 1 and ${MAX_PAGE_SIZE}`, 'first');
  }
  const f = args.filter ?? {};
  const admin = actor.role === Role.ADMIN;
  if (!admin && (f.includeDeleted || f.ownerId)) {
    throw AppError.forbidden('only admins can list deleted or other users’ datasets');
  }
  const values: unknown[] = [];
  const param = (v: unknown) => `$${values.push(v)}`;
  const where: string[] = [];
  if (!admin) where.push(`"owner_id" = ${param(actor.id)}`);
  else if (f.ownerId) {
    if (!isUuid(f.ownerId)) throw AppError.badInput('ownerId is not a valid id', 'filter.ownerId');
    where.push(`"owner_id" = ${param(f.ownerId)}`);
  }
  if (f.status) where.push(`"status" = ${param(f.status)}`);
  if (f.dataType) where.push(`"data_type" = ${param(f.dataType)}`);
  if (f.search) {
    const escaped = f.search.replace(/[\\%_]/g, c => `\\${c}`);
    where.push(`"name" ilike ${param(`%${escaped}%`)}`);
  }
  if (!(admin && f.includeDeleted)) where.push(`"deleted_at" is null`);
  const base = where.length ? `where ${where.join(' and ')}` : '';
  const baseValues = [...values];

  const cols = listColumns(deps.em);
  const select = cols.map(c => quoted(c.column));
  const pageWhere = [...where];
  if (args.after) {
    const { createdAt, id } = decodeCursor(args.after);
    const at = param(createdAt);
    pageWhere.push(`("created_at" < ${at} or ("created_at" = ${at} and "id" < ${param(id)}))`);
  } else {
    select.push(`count(*) over () as ${TOTAL}`);
  }
  const sql =
    `select ${select.join(', ')} from "datasets"` +
    (pageWhere.length ? ` where ${pageWhere.join(' and ')}` : '') +
    ` order by "created_at" desc, "id" desc limit ${param(first + 1)}`;
  const [rows, counted] = await Promise.all([
    leanQuery(deps.em, sql, values),
    args.after
      ? leanQuery(deps.em, `select count(*)::int as n from "datasets" ${base}`, baseValues)
      : undefined,
  ]);
  const platform = deps.em.getPlatform();
  const nodes = rows.slice(0, first).map(r => toRow(r, cols, platform));
  return {
    nodes,
    cursors: nodes.map(n => encodeCursor(n)),
    hasNextPage: rows.length > first,
    // No rows on the first page: nothing matches at all.
    totalCount: counted ? Number(counted[0]?.n ?? 0) : Number(rows[0]?.[TOTAL] ?? 0),
  };
}

/** A result row (column names) as the `DatasetRow` that `DatasetType.from` reads. */
function toRow(
  r: Record<string, unknown>,
  cols: ListColumn[],
  platform: ReturnType<EntityManager['getPlatform']>,
): DatasetRow {
  const out: Record<string, unknown> = {};
  for (const c of cols) {
    const v = r[c.column];
    switch (c.kind) {
      case 'ref':
        out[c.prop] = { id: String(v) };
        break;
      case 'boolean':
        out[c.prop] = v == null ? v : !!v;
        break;
      case 'date':
        out[c.prop] = v == null || v instanceof Date ? v : platform.parseDate(v as string);
        break;
      case 'bigint':
        out[c.prop] = v == null ? v : Number(v);
        break;
      default:
        out[c.prop] = v;
    }
  }
  return out as unknown as DatasetRow;
}

// ---------------------------------------------------------------------------------------------
// Upload and processing

function createRow(deps: DatasetDeps, actor: Actor, input: NewDataset): DatasetEntity {
  const id = randomUUID();
  const keys = datasetKeys(id);
  const ds = deps.em.create(DatasetEntity, {
    id,
    owner: deps.em.getReference(User, actor.id, { wrapped: true }),
    name: cleanName(input.name),
    description: cleanDescription(input.description),
    dataType: input.dataType,
    metadata: cleanMetadata(input.metadata),
    parseOptions: input.parseOptions,
    originalFilename: sanitizeFilename(input.filename),
    uploadKey: keys.upload,
    matrixKey: keys.matrix,
  });
  deps.em.persist(ds);
  return ds;
}

/**
 * Parser limits tied to the upload limit, so the work a file can cause is bounded by what the
 * operator allows to be uploaded: decompressed text ≤ 16× the upload limit (numeric CSV gzips
 * 3–5×; a gzip bomb stops at the bound), and at most one value per 2 bytes of that text (the
 * smallest cell is a digit and a delimiter), never above the parser's own defaults.
 */
export function parserLimits(maxUploadBytes: number): Partial<TabularLimits> {
  const maxTextBytes = Math.min(DEFAULT_LIMITS.maxTextBytes, maxUploadBytes * 16);
  return {
    maxTextBytes,
    maxCells: Math.min(DEFAULT_LIMITS.maxCells, Math.floor(maxTextBytes / 2)),
  };
}

function tabularOptions(p: ParseOptionsRecord, maxUploadBytes: number): TabularOptions {
  return {
    limits: parserLimits(maxUploadBytes),
    sampleIdColumn: p.sampleIdColumn,
    outcome: p.outcome,
    batchColumn: p.batchColumn,
    ignoreColumns: p.ignoreColumns,
    delimiter: p.delimiter ?? 'auto',
    missing: p.missing,
  };
}

async function markFailed(
  deps: Pick<DatasetDeps, 'em' | 'changed'>,
  ds: DatasetEntity,
  reason: string,
  failure?: FailureRecord,
): Promise<void> {
  ds.status = DatasetStatus.FAILED;
  ds.failureReason = reason;
  ds.failure = failure;
  await deps.em.flush();
  await changed(deps, ds.owner.id);
}

/** BAD_USER_INPUT naming line and column; the dataset stays behind as FAILED with the same reason. */
function parseFailed(ds: DatasetEntity, e: TabularParseError): AppError {
  return new AppError('BAD_USER_INPUT', `The file could not be read: ${e.message}`, {
    reason: e.code,
    line: e.line,
    column: e.column,
    ...(e.columnName !== undefined ? { columnName: e.columnName } : {}),
    datasetId: ds.id,
  });
}

/**
 * PROCESSING → READY (or FAILED): parse the stored upload, write the binary matrix, record the
 * summary. `uploaded` is the hash computed while the upload streamed in (multipart): the parse
 * re-hashes what storage returns and a mismatch means corruption in storage.
 */
async function processStored(
  deps: DatasetDeps,
  ds: DatasetEntity,
  uploaded?: { sha256: string; size: number },
): Promise<DatasetEntity> {
  try {
    return await processStoredOnce(deps, ds, uploaded);
  } catch (e) {
    if (!isStorageUnavailable(e)) throw e;
    // Object store down while reading the upload or writing the matrix (nothing half-written: an
    // S3 PUT is all or nothing). Presigned flow: the upload is still in storage, so back to
    // UPLOADING and `completeDatasetUpload` can simply be called again. Multipart flow: the file
    // is gone with the request, so FAILED with a reason that says to upload again.
    log.warn('dataset processing stopped: object storage unavailable', {
      datasetId: ds.id,
      error: e as Error,
    });
    if (uploaded) {
      await markFailed(deps, ds, STORAGE_DOWN_REASON);
    } else {
      Object.assign(ds, { status: DatasetStatus.UPLOADING, failureReason: null, failure: null });
      await deps.em.flush();
      await changed(deps, ds.owner.id);
    }
    throw AppError.unavailable();
  }
}

/** FAILED reason of a multipart upload cut short by an object-store outage. */
const STORAGE_DOWN_REASON =
  'object storage was unavailable while the upload was stored or processed; upload the file again';

async function processStoredOnce(
  deps: DatasetDeps,
  ds: DatasetEntity,
  uploaded?: { sha256: string; size: number },
): Promise<DatasetEntity> {
  const { em, storage } = deps;
  ds.status = DatasetStatus.PROCESSING;
  await em.flush();
  await changed(deps, ds.owner.id);
  let result: TabularResult;
  let matrix: Buffer;
  try {
    // Parsed on a worker thread: a multi-GB upload must not block the API's event loop.
    ({ matrix, ...result } = await parsing.run(async () =>
      parseTabularOffThread(
        await storage.get(ds.uploadKey),
        tabularOptions(ds.parseOptions, deps.maxUploadBytes),
      ),
    ));
  } catch (e) {
    if (e instanceof TabularParseError) {
      await markFailed(deps, ds, e.message, {
        code: e.code,
        line: e.line,
        column: e.column,
        columnName: e.columnName,
      });
      throw parseFailed(ds, e);
    }
    if (isStorageUnavailable(e)) throw e; // processStored decides the state
    log.error('dataset processing failed', { datasetId: ds.id, error: e as Error });
    await markFailed(deps, ds, 'internal error while processing the upload');
    throw e;
  }
  const s = result.summary;
  if (uploaded && (uploaded.sha256 !== s.sha256 || uploaded.size !== s.sizeBytes)) {
    log.error('stored upload differs from the bytes received', { datasetId: ds.id });
    await markFailed(deps, ds, 'the stored upload is corrupt (checksum mismatch); upload it again');
    throw AppError.internal('stored upload checksum mismatch');
  }
  if (deps.quotas) {
    // The matrix counts against storage too and can be several times a gzip upload: reserve it
    // under the owner's quota lock before writing, so one dataset can't overshoot the quota.
    try {
      await reserveDatasetBytes(
        deps.em.getKnex(),
        ds.owner.id,
        deps.quotas,
        ds.id,
        matrix.length,
        'matrix_size_bytes',
      );
    } catch (e) {
      await markFailed(deps, ds, (e as Error).message);
      throw e;
    }
  }
  try {
    await putSized(storage, ds.matrixKey, () => Readable.from([matrix]), matrix.length);
  } catch (e) {
    if (isStorageUnavailable(e)) throw e; // processStored decides the state
    // Any other write failure must not leave the row in PROCESSING for ever.
    log.error('dataset matrix write failed', { datasetId: ds.id, error: e as Error });
    await markFailed(deps, ds, 'internal error while storing the parsed matrix; upload it again');
    throw e;
  }
  Object.assign(ds, {
    status: DatasetStatus.READY,
    failureReason: null,
    failure: null,
    sampleCount: s.nSamples,
    featureCount: s.nFeatures,
    featureNames: result.dataset.featureNames,
    sampleIds: result.dataset.sampleIds,
    outcome: s.outcome,
    missingCount: s.missingCount,
    sha256: s.sha256,
    sizeBytes: s.sizeBytes,
    gzip: s.gzip,
    matrixSha256: createHash('sha256').update(matrix).digest('hex'),
    matrixSizeBytes: matrix.length,
  });
  await em.flush();
  await changed(deps, ds.owner.id);
  return ds;
}

/** Multipart upload: create the row, stream the file to storage (hashing, size-capped), parse. */
export async function uploadDataset(
  deps: DatasetDeps,
  actor: Actor,
  input: NewDataset,
  /** Opens the upload stream (graphql-upload throws here when the file is already over the limit). */
  openFile: () => Readable,
): Promise<DatasetEntity> {
  const ds = createRow(deps, actor, input);
  await audit(deps.em, {
    action: 'dataset.upload',
    actorId: actor.id,
    targetType: 'dataset',
    targetId: ds.id,
  });
  await flushNewRow(deps, actor, 0);
  let uploaded: { sha256: string; size: number };
  let file: Readable | undefined;
  try {
    file = openFile();
    uploaded = await putUpload(deps.storage, ds.uploadKey, file, deps.maxUploadBytes);
  } catch (e) {
    file?.resume(); // drain what is left so the HTTP request can finish
    const status = (e as { status?: number }).status;
    if (e instanceof UploadTooLargeError || status === 413) {
      await markFailed(
        deps,
        ds,
        `the file is larger than the upload limit of ${deps.maxUploadBytes} bytes`,
      );
      throw uploadTooLarge(deps.maxUploadBytes, ds.id);
    }
    if (isStorageUnavailable(e)) {
      log.warn('dataset upload not stored: object storage unavailable', {
        datasetId: ds.id,
        error: e as Error,
      });
      await markFailed(deps, ds, STORAGE_DOWN_REASON);
      throw AppError.unavailable();
    }
    await markFailed(deps, ds, 'the upload was interrupted');
    if (typeof status === 'number' && status >= 400 && status < 500) {
      throw new AppError('BAD_USER_INPUT', `the upload failed: ${(e as Error).message}`, {
        datasetId: ds.id,
      });
    }
    throw e;
  }
  if (deps.quotas) {
    try {
      await reserveDatasetBytes(deps.em.getKnex(), actor.id, deps.quotas, ds.id, uploaded.size);
    } catch (e) {
      await markFailed(deps, ds, (e as Error).message);
      await deps.storage.deletePrefix(datasetKeys(ds.id).prefix).catch(() => undefined);
      throw e;
    }
  }
  return processStored(deps, ds, uploaded);
}

export interface PresignedUpload {
  dataset: DatasetEntity;
  uploadUrl: string;
  expiresAt: Date;
}

/** Presigned flow, step 1: a row in UPLOADING and a short-lived PUT URL for its upload key. */
export async function requestDatasetUpload(
  deps: DatasetDeps,
  actor: Actor,
  input: NewDataset & { sizeBytes?: number | null },
): Promise<PresignedUpload> {
  if (input.sizeBytes !== undefined && input.sizeBytes !== null) {
    if (!Number.isSafeInteger(input.sizeBytes) || input.sizeBytes < 0) {
      throw AppError.badInput('sizeBytes must be a non-negative whole number', 'sizeBytes');
    }
    if (input.sizeBytes > deps.maxUploadBytes) throw uploadTooLarge(deps.maxUploadBytes);
  }
  const ds = createRow(deps, actor, input);
  await audit(deps.em, {
    action: 'dataset.upload',
    actorId: actor.id,
    targetType: 'dataset',
    targetId: ds.id,
  });
  await flushNewRow(deps, actor, input.sizeBytes ?? 0);
  const ttl = deps.presignTtlSeconds;
  const uploadUrl = await deps.storage.presignPut(ds.uploadKey, {
    expiresInSeconds: ttl,
    maxBytes: Math.min(input.sizeBytes ?? deps.maxUploadBytes, deps.maxUploadBytes),
  });
  return { dataset: ds, uploadUrl, expiresAt: new Date(Date.now() + ttl * 1000) };
}

/** Presigned flow, step 3 (after the client's PUT): check the object, then parse it. */
export async function completeDatasetUpload(
  deps: DatasetDeps,
  actor: Actor,
  id: string,
): Promise<DatasetEntity> {
  const ds = await findVisible(deps, actor, id);
  // Claim the row atomically so two concurrent completes cannot both process it.
  const claimed = await deps.em.nativeUpdate(
    DatasetEntity,
    { id: ds.id, status: DatasetStatus.UPLOADING },
    { status: DatasetStatus.PROCESSING, updatedAt: new Date() },
  );
  if (claimed) await changed(deps, ds.owner.id);
  if (claimed === 0) {
    await deps.em.refresh(ds);
    throw AppError.conflict(`dataset ${id} is not waiting for an upload (status ${ds.status})`);
  }
  const stat = await deps.storage.stat(ds.uploadKey).catch(async (e: unknown) => {
    if (!isStorageUnavailable(e)) throw e;
    // Nothing changed but our claim: release it so the client's retry can complete the upload.
    await deps.em.nativeUpdate(DatasetEntity, { id: ds.id }, { status: DatasetStatus.UPLOADING });
    await changed(deps, ds.owner.id);
    throw AppError.unavailable();
  });
  if (!stat) {
    await deps.em.nativeUpdate(DatasetEntity, { id: ds.id }, { status: DatasetStatus.UPLOADING });
    await changed(deps, ds.owner.id);
    throw AppError.badInput('nothing has been uploaded yet: PUT the file to uploadUrl first');
  }
  if (stat.size > deps.maxUploadBytes) {
    // S3 presigned PUTs cannot bind the size, so the cap is enforced here; the object goes away.
    await deps.storage.delete(ds.uploadKey);
    await markFailed(
      deps,
      ds,
      `the file is larger than the upload limit of ${deps.maxUploadBytes} bytes`,
    );
    throw uploadTooLarge(deps.maxUploadBytes, ds.id);
  }
  if (deps.quotas) {
    try {
      await reserveDatasetBytes(deps.em.getKnex(), actor.id, deps.quotas, ds.id, stat.size);
    } catch (e) {
      await deps.storage.delete(ds.uploadKey).catch(() => undefined);
      await markFailed(deps, ds, (e as Error).message);
      throw e;
    }
  }
  return processStored(deps, ds);
}

// ---------------------------------------------------------------------------------------------
// Reading, updating, deleting

export interface DatasetPreview {
  rowOffset: number;
  columnOffset: number;
  totalRows: number;
  totalColumns: number;
  sampleIds: string[];
  featureNames: string[];
  /** Row-major; null = missing. */
  values: (number | null)[][];
  /** Per row: class label, value, or survival time with "+" when censored; null without outcome. */
  outcome: string[] | null;
}

function outcomeCell(ds: Dataset, i: number): string {
  const o = ds.outcome;
  switch (o.kind) {
    case 'binary':
    case 'multiclass':
      return o.classes[o.labels[i]!]!;
    case 'continuous':
      return String(o.values[i]);
    case 'survival':
      return `${o.time[i]}${o.event[i] ? '' : '+'}`;
    default:
      return '';
  }
}

export async function previewDataset(
  deps: DatasetDeps,
  actor: Actor,
  id: string,
  args: {
    rows?: number | null;
    columns?: number | null;
    rowOffset?: number | null;
    columnOffset?: number | null;
  },
): Promise<DatasetPreview> {
  const rows = args.rows ?? 10;
  const columns = args.columns ?? 10;
  const rowOffset = args.rowOffset ?? 0;
  const columnOffset = args.columnOffset ?? 0;
  for (const [name, v] of [
    ['rows', rows],
    ['columns', columns],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_PREVIEW) {
      throw AppError.badInput(`${name} must be between 1 and ${MAX_PREVIEW}`, name);
    }
  }
  for (const [name, v] of [
    ['rowOffset', rowOffset],
    ['columnOffset', columnOffset],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw AppError.badInput(`${name} must be 0 or more`, name);
  }
  const ds = await findVisible(deps, actor, id);
  const m = await matrixOf(deps.storage, ds);
  const r1 = Math.min(m.nSamples, rowOffset + rows);
  const c1 = Math.min(m.nFeatures, columnOffset + columns);
  const values: (number | null)[][] = [];
  for (let i = rowOffset; i < r1; i++) {
    const row: (number | null)[] = [];
    for (let j = columnOffset; j < c1; j++) {
      const v = m.data[j * m.nSamples + i]!;
      row.push(Number.isNaN(v) ? null : v);
    }
    values.push(row);
  }
  const idx = Array.from({ length: Math.max(0, r1 - rowOffset) }, (_, k) => rowOffset + k);
  return {
    rowOffset,
    columnOffset,
    totalRows: m.nSamples,
    totalColumns: m.nFeatures,
    sampleIds: idx.map(i => m.sampleIds[i]!),
    featureNames: m.featureNames.slice(columnOffset, c1),
    values,
    outcome: m.outcome.kind === 'none' ? null : idx.map(i => outcomeCell(m, i)),
  };
}

export async function updateDataset(
  deps: Pick<DatasetDeps, 'em' | 'changed'>,
  actor: Actor,
  id: string,
  patch: {
    name?: string | null;
    description?: string | null;
    dataType?: DataType | null;
    metadata?: Record<string, unknown> | null;
  },
): Promise<DatasetEntity> {
  const ds = await findVisible(deps, actor, id);
  if (patch.name !== undefined && patch.name !== null) ds.name = cleanName(patch.name);
  if (patch.description !== undefined) ds.description = cleanDescription(patch.description) ?? null;
  if (patch.dataType !== undefined && patch.dataType !== null) ds.dataType = patch.dataType;
  if (patch.metadata !== undefined) ds.metadata = cleanMetadata(patch.metadata);
  await deps.em.flush();
  await changed(deps, ds.owner.id);
  return ds;
}

/** Soft delete: hidden at once everywhere; objects are removed later by `purgeDeletedDatasets`. */
export async function deleteDataset(
  deps: Pick<DatasetDeps, 'em' | 'changed'>,
  actor: Actor,
  id: string,
): Promise<DatasetEntity> {
  const ds = await findVisible(deps, actor, id);
  ds.deletedAt = new Date();
  await audit(deps.em, {
    action: 'dataset.delete',
    actorId: actor.id,
    targetType: 'dataset',
    targetId: ds.id,
  });
  await deps.em.flush();
  await changed(deps, ds.owner.id);
  return ds;
}

/**
 * Hard-deletes datasets soft-deleted before `olderThan`: objects first, then the rows. (No
 * datasets-version bump: soft-deleted rows are in no cached list, see `dataset.version.ts`.)
 */
export async function purgeDeletedDatasets(
  deps: Pick<DatasetDeps, 'em' | 'storage'>,
  olderThan: Date,
  batch = 100,
): Promise<number> {
  const rows = await deps.em.find(
    DatasetEntity,
    { deletedAt: { $lt: olderThan } },
    { filters: { [NOT_DELETED]: false }, limit: batch, orderBy: { deletedAt: 'asc' } },
  );
  for (const ds of rows) {
    await deps.storage.deletePrefix(datasetKeys(ds.id).prefix);
    deps.em.remove(ds);
  }
  await deps.em.flush();
  return rows.length;
}
