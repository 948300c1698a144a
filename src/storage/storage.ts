/**
 * Object storage contract. Two backends: local filesystem (`local.ts`) and S3/MinIO (`s3.ts`).
 * Keys are built with `objectKey()` from ids and fixed words, never from user input.
 */
import type { Readable } from 'node:stream';
import { UNREACHABLE_SOCKET_CODES } from '../util/socket-errors.js';

export interface ObjectStat {
  size: number;
  lastModified: Date;
}

export interface PresignOptions {
  /** Seconds; capped by the backend at the configured PRESIGNED_URL_TTL. */
  expiresInSeconds?: number;
}

export interface PresignGetOptions extends PresignOptions {
  /** Content-Type the download is served with (default: as stored / octet-stream). */
  contentType?: string;
  /** File name offered to browsers (Content-Disposition: attachment). */
  downloadName?: string;
}

/** `attachment; filename=…` with an ASCII fallback and the RFC 5987 UTF-8 form. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export interface PresignPutOptions extends PresignOptions {
  /** Local backend only: the upload is refused beyond this many bytes. S3: check with `stat`. */
  maxBytes?: number;
}

export interface ObjectStorage {
  readonly kind: 'local' | 's3';
  /** Creates the bucket / directory when missing. Called once at start. */
  init(): Promise<void>;
  /** Streams `body` to `key` (replacing it). Partial writes never become visible. */
  put(
    key: string,
    body: Readable | Buffer,
    options?: { contentType?: string },
  ): Promise<ObjectStat>;
  /** Throws `ObjectNotFoundError` when missing. */
  get(key: string): Promise<Readable>;
  /** Null when missing. */
  stat(key: string): Promise<ObjectStat | null>;
  /** No error when missing. */
  delete(key: string): Promise<void>;
  /** Deletes every object whose key starts with `prefix` (which must end with '/'). */
  deletePrefix(prefix: string): Promise<number>;
  /** Every key under `prefix` (which must end with '/'), any order; for the orphan scan. */
  list(prefix: string): AsyncIterable<string>;
  presignGet(key: string, options?: PresignGetOptions): Promise<string>;
  presignPut(key: string, options?: PresignPutOptions): Promise<string>;
  /** Throws when the storage is not reachable/usable. */
  ping(): Promise<void>;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`object ${key} not found`);
    this.name = 'ObjectNotFoundError';
  }
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Throws unless `key` is '/'-joined safe segments (no '..', no leading '/', no odd bytes). */
export function assertValidKey(key: string, allowTrailingSlash = false): void {
  const body = allowTrailingSlash && key.endsWith('/') ? key.slice(0, -1) : key;
  const parts = body.split('/');
  if (key.length > 1024 || parts.some(p => !SEGMENT.test(p) || p === '..' || p.includes('..'))) {
    throw new Error(`invalid object key "${key.slice(0, 80)}"`);
  }
}

/** `objectKey('datasets', id, 'matrix.bin')` → 'datasets/<id>/matrix.bin', validated. */
export function objectKey(...parts: string[]): string {
  const key = parts.join('/');
  assertValidKey(key);
  return key;
}

/**
 * The object store could not be reached or refused for a transient reason (connection refused /
 * reset / timed out, DNS failure, HTTP 5xx such as S3's 503 SlowDown). Retryable: the API answers
 * UNAVAILABLE (HTTP 503 + Retry-After), workers let BullMQ retry the job. `cause` keeps the driver
 * error for the logs; the message never reaches clients.
 */
export class StorageUnavailableError extends Error {
  /** Matched by the workers' failure classifier (TRANSIENT) and by `isStorageUnavailable`. */
  readonly code = 'STORAGE_UNAVAILABLE';

  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`object storage unavailable during ${operation}: ${describe(cause)}`, { cause });
    this.name = 'StorageUnavailableError';
  }
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  return `${code}${typeof e?.message === 'string' ? e.message : String(err)}`.slice(0, 300);
}

/** Socket-level failures of a request to the object store (plus request-library timeouts). */
const STORAGE_SOCKET_CODES: ReadonlySet<string> = new Set([
  ...UNREACHABLE_SOCKET_CODES,
  'ESOCKETTIMEDOUT',
  'UND_ERR_SOCKET',
]);

/**
 * S3 error codes that mean "try again later" (AWS documents these as retryable), plus minio-js's
 * name for a bare 503.
 */
const S3_TRANSIENT_CODES = new Set([
  'SlowDown',
  'SlowDownRead',
  'SlowDownWrite',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'XMinioServerNotInitialized',
]);

/**
 * minio-js retries a 408/429/5xx answer once and then throws a plain Error with only this text;
 * `socket hang up` is Node's message for a connection closed before the response.
 */
const TRANSIENT_MESSAGE = /Retryable HTTP status: (408|429|5\d\d)|^socket hang up$/;

/** True when `err` (or its `cause`) is a transient object-store failure. */
export function isStorageOutage(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  if (err instanceof StorageUnavailableError) return true;
  const e = err as { code?: unknown; message?: unknown; statusCode?: unknown; cause?: unknown };
  if (
    typeof e.code === 'string' &&
    (STORAGE_SOCKET_CODES.has(e.code) || S3_TRANSIENT_CODES.has(e.code))
  )
    return true;
  if (typeof e.statusCode === 'number' && e.statusCode >= 500) return true;
  if (typeof e.message === 'string' && TRANSIENT_MESSAGE.test(e.message)) return true;
  return isStorageOutage(e.cause, depth + 1);
}

/** `err` as a `StorageUnavailableError` when it is an outage, else unchanged. */
export function asStorageError(operation: string, err: unknown): unknown {
  if (err instanceof StorageUnavailableError || !isStorageOutage(err)) return err;
  return new StorageUnavailableError(operation, err);
}
