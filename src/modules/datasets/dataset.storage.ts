/**
 * Dataset objects in storage: keys, streaming the upload in with a hash and a size cap, and
 * reading the binary matrix back with its checksum verified.
 */
import { createHash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import { type Dataset } from '../../../compute/core/dataset.js';
import { decodeDataset } from '../../../compute/io/binary.js';
import { AppError } from '../../errors.js';
import { objectKey, type ObjectStorage } from '../../storage/index.js';

/** Storage keys are built from the dataset id only (never from the user's file name). */
export const datasetKeys = (id: string) => ({
  prefix: `datasets/${id}/`,
  upload: objectKey('datasets', id, 'upload'),
  matrix: objectKey('datasets', id, 'matrix.osm'),
});

export class UploadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the file is larger than the upload limit of ${limit} bytes`);
    this.name = 'UploadTooLargeError';
  }
}

/** 413 with one of our error codes: the upload exceeded the configured size. */
export function uploadTooLarge(limit: number): AppError {
  return new AppError(
    'BAD_USER_INPUT',
    `the file is larger than the upload limit of ${limit} bytes`,
    { reason: 'UPLOAD_TOO_LARGE', limit },
    { status: 413 },
  );
}

/** Passes bytes through while hashing and counting them; errors past `limit`. */
export function hashingCounter(
  limit: number,
): Transform & { digest(): { sha256: string; size: number } } {
  const hash = createHash('sha256');
  let size = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > limit) {
        done(new UploadTooLargeError(limit));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  return Object.assign(t, { digest: () => ({ sha256: hash.digest('hex'), size }) });
}

/**
 * Streams `body` into storage at `key` with the size cap; returns the SHA-256 and size of what was
 * written. Memory stays bounded by the stream's buffers (never the whole file).
 */
export async function putUpload(
  storage: ObjectStorage,
  key: string,
  body: Readable,
  limit: number,
): Promise<{ sha256: string; size: number }> {
  const counter = hashingCounter(limit);
  body.on('error', e => counter.destroy(e));
  body.pipe(counter);
  await storage.put(key, counter, { contentType: 'application/octet-stream' });
  return counter.digest();
}

/** Reads a whole object into one unpooled (8-byte aligned) buffer of known size. */
async function readObject(storage: ObjectStorage, key: string, size: number): Promise<Buffer> {
  const out = Buffer.allocUnsafeSlow(size);
  let off = 0;
  for await (const chunk of await storage.get(key)) {
    const c = chunk as Buffer;
    if (off + c.length > size) throw new Error(`object ${key} is larger than recorded`);
    c.copy(out, off);
    off += c.length;
  }
  if (off !== size)
    throw new Error(`object ${key} is smaller than recorded (${off} of ${size} bytes)`);
  return out;
}

/** Thrown when a stored matrix does not match its recorded checksum: corrupt, never retry. */
export class MatrixIntegrityError extends Error {
  constructor(readonly key: string) {
    super(`the stored matrix ${key} does not match its checksum (corrupt object)`);
    this.name = 'MatrixIntegrityError';
  }
}

/**
 * Loads and decodes the binary matrix; verifies its SHA-256 when one is recorded. For callers
 * that already checked ownership (workers reading their job's dataset).
 */
export async function readDatasetMatrix(
  storage: ObjectStorage,
  matrix: { key: string; sizeBytes: number; sha256?: string | null },
): Promise<Dataset> {
  const buf = await readObject(storage, matrix.key, matrix.sizeBytes);
  if (matrix.sha256 && createHash('sha256').update(buf).digest('hex') !== matrix.sha256) {
    throw new MatrixIntegrityError(matrix.key);
  }
  return decodeDataset(buf);
}
