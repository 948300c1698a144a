/**
 * Object storage contract. Two backends: local filesystem (`local.ts`) and S3/MinIO (`s3.ts`).
 * Keys are built with `objectKey()` from ids and fixed words, never from user input.
 */
import type { Readable } from 'node:stream';

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
