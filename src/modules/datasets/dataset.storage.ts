/**
 * Dataset objects in storage: keys, streaming the upload in with a hash and a size cap, and
 * reading the binary matrix back with its checksum verified.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Dataset } from '../../../compute/core/dataset.js';
import { decodeDataset } from '../../../compute/io/binary.js';
import { AppError } from '../../errors.js';
import { asStorageError, objectKey, type ObjectStorage } from '../../storage/index.js';

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
export function uploadTooLarge(limit: number, datasetId?: string): AppError {
  return new AppError(
    'BAD_USER_INPUT',
    `the file is larger than the upload limit of ${limit} bytes`,
    { reason: 'UPLOAD_TOO_LARGE', limit, ...(datasetId ? { datasetId } : {}) },
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
 * written. Memory stays bounded by the stream buffers, never the whole file.
 *
 * S3: minio's putObject buffers a stream of unknown length in parts of up to ~525 MB (it sizes
 * parts for a 5 TiB object) and probes for resumable multipart uploads, which s3rver does not
 * implement. So the upload is spooled to a private temp file first (hashing and counting on the
 * way) and then sent as one streaming PUT with a known Content-Length to a presigned URL.
 */
export async function putUpload(
  storage: ObjectStorage,
  key: string,
  body: Readable,
  limit: number,
): Promise<{ sha256: string; size: number }> {
  const counter = hashingCounter(limit);
  // The awaited put / pipeline below reports every error. These no-op listeners catch one more:
  // when the upload is cut at graphql-upload's size cap, `body` is destroyed with its 413, the
  // pipeline settles and drops its listeners, and then Readable.pipe's own handler on the next
  // stream removes itself and re-emits that 413 with no listener left, which would be an
  // uncaught exception (reproduced by hammering over-limit uploads).
  counter.on('error', ignoreLateError);
  if (storage.kind === 'local') {
    body.on('error', e => counter.destroy(e));
    body.pipe(counter);
    await storage.put(key, counter, { contentType: 'application/octet-stream' });
    return counter.digest();
  }
  const dir = await mkdtemp(join(tmpdir(), 'omicselector-upload-'));
  try {
    const file = join(dir, 'upload');
    const spool = createWriteStream(file, { mode: 0o600 }).on('error', ignoreLateError);
    await pipeline(body, counter, spool);
    const digest = counter.digest();
    await putSized(storage, key, () => createReadStream(file), digest.size);
    return digest;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** See `putUpload`: an error already reported through the awaited pipeline, emitted again late. */
function ignoreLateError(): void {}

/**
 * Stores bytes of known length. Local: a plain put. S3: one streaming PUT to a presigned URL, for
 * the reasons given at `putUpload` (a 500 × 20,000 matrix is 80 MB, above minio's 64 MB part size).
 */
export async function putSized(
  storage: ObjectStorage,
  key: string,
  open: () => Readable,
  size: number,
): Promise<void> {
  if (storage.kind === 'local') {
    await storage.put(key, open(), { contentType: 'application/octet-stream' });
    return;
  }
  const url = await storage.presignPut(key, { expiresInSeconds: 600 });
  try {
    await httpPut(url, open(), size);
  } catch (err) {
    // Refused / reset / timed-out connections and 5xx answers (503 SlowDown): retryable.
    throw asStorageError('put', err);
  }
}

/** HTTP PUT with a known length (no chunked encoding: S3 needs Content-Length). */
function httpPut(url: string, body: Readable, size: number): Promise<void> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'PUT',
        headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.length < 16 && chunks.push(c));
        res.on('end', () => {
          if (res.statusCode && res.statusCode >= 200 && res.statusCode < 300) resolve();
          else {
            reject(
              Object.assign(
                new Error(
                  `storage PUT failed with HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`,
                ),
                { statusCode: res.statusCode },
              ),
            );
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    pipeline(body, req).catch(reject);
  });
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
