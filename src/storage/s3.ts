/**
 * S3 / MinIO storage through the `minio` client (path-style). Works against MinIO in compose and
 * s3rver in tests. Presigned URLs always carry an explicit expiry (minio-js defaults to 7 days).
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex, Readable } from 'node:stream';
import { Client } from 'minio';
import type { StorageConfig } from '../config.js';
import {
  asStorageError,
  assertValidKey,
  contentDisposition,
  ObjectNotFoundError,
  type ObjectStat,
  type ObjectStorage,
  type PresignGetOptions,
  type PresignOptions,
} from './storage.js';

type S3Config = Extract<StorageConfig, { kind: 's3' }>;

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'NotFound' || code === 'NoSuchKey' || code === 'NoSuchObject';
}

/** S3's minimum part size is 5 MiB; 16 MiB parts allow objects up to 160 GiB (10,000 parts). */
export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;
const MAX_PARTS = 10_000;

/**
 * A request to the object store whose socket sees no traffic for this long fails with ETIMEDOUT
 * (→ UNAVAILABLE). minio-js sets no timeout of its own, so an unreachable (black-holed) endpoint
 * would otherwise hold the request for the kernel's connect timeout (~2 min) or forever.
 */
export const STORAGE_IDLE_TIMEOUT_MS = 30_000;

/** Keep-alive agent whose sockets destroy themselves after `idleMs` without traffic. */
function timeoutAgent(ssl: boolean, idleMs: number): HttpAgent {
  const Base = ssl ? HttpsAgent : HttpAgent;
  const agent = new Base({ keepAlive: true });
  const create = agent.createConnection.bind(agent) as (
    ...args: Parameters<HttpAgent['createConnection']>
  ) => Duplex;
  agent.createConnection = ((...args: Parameters<HttpAgent['createConnection']>) => {
    const socket = create(...args) as Duplex & { setTimeout(ms: number, cb: () => void): void };
    socket.setTimeout(idleMs, () => {
      socket.destroy(
        Object.assign(new Error(`object storage socket idle for ${idleMs} ms`), {
          code: 'ETIMEDOUT',
        }),
      );
    });
    return socket;
  }) as HttpAgent['createConnection'];
  return agent;
}

/** Runs a storage call; transient failures come out as `StorageUnavailableError`. */
async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asStorageError(operation, err);
  }
}

export class S3Storage implements ObjectStorage {
  readonly kind = 's3' as const;
  private readonly client: Client;
  private readonly bucket: string;

  constructor(
    config: S3Config,
    private readonly maxPresignSeconds: number,
    private readonly partSize = DEFAULT_PART_SIZE,
    idleTimeoutMs = STORAGE_IDLE_TIMEOUT_MS,
  ) {
    this.client = new Client({
      transportAgent: timeoutAgent(config.useSSL, idleTimeoutMs),
      endPoint: config.endPoint,
      port: config.port,
      useSSL: config.useSSL,
      accessKey: config.accessKey,
      secretKey: config.secretKey,
      region: config.region,
      pathStyle: true,
    });
    this.bucket = config.bucket;
  }

  async init(): Promise<void> {
    await call('init', async () => {
      if (!(await this.client.bucketExists(this.bucket))) {
        await this.client.makeBucket(this.bucket);
      }
    });
  }

  /**
   * Streams of unknown length go up as a multipart upload in `partSize` parts, so memory stays at
   * one part (minio-js on its own would buffer parts of up to 512 MiB). Anything that fails aborts
   * the multipart upload: no partial object becomes visible.
   */
  async put(
    key: string,
    body: Readable | Buffer,
    options?: { contentType?: string },
  ): Promise<ObjectStat> {
    assertValidKey(key);
    const headers = { 'Content-Type': options?.contentType ?? 'application/octet-stream' };
    await call('put', async () => {
      if (Buffer.isBuffer(body)) {
        await this.client.putObject(this.bucket, key, body, body.length, headers);
      } else {
        await this.putStream(key, body, headers);
      }
    });
    const s = await this.stat(key);
    if (!s) {
      throw new Error(`object ${key} missing right after upload`);
    }
    return s;
  }

  private async putStream(key: string, body: Readable, headers: Record<string, string>) {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let uploadId: string | undefined;
    const etags: { part: number; etag: string }[] = [];
    const uploadPart = async (data: Buffer) => {
      uploadId ??= await this.client.initiateNewMultipartUpload(this.bucket, key, headers);
      const part = etags.length + 1;
      if (part > MAX_PARTS) {
        throw new Error(
          `object ${key} is larger than ${MAX_PARTS} parts of ${this.partSize} bytes`,
        );
      }
      const md5 = createHash('md5').update(data).digest('base64');
      const res = await this.client.uploadPart(
        {
          bucketName: this.bucket,
          objectName: key,
          uploadID: uploadId,
          partNumber: part,
          headers: { 'Content-Length': data.length, 'Content-MD5': md5 },
        },
        data,
      );
      etags.push({ part, etag: res.etag });
    };
    try {
      for await (const chunk of body) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        pending.push(buf);
        pendingBytes += buf.length;
        while (pendingBytes >= this.partSize) {
          const all = Buffer.concat(pending, pendingBytes);
          await uploadPart(all.subarray(0, this.partSize));
          const rest = all.subarray(this.partSize);
          pending = rest.length ? [rest] : [];
          pendingBytes = rest.length;
        }
      }
      const last = Buffer.concat(pending, pendingBytes);
      if (!uploadId) {
        await this.client.putObject(this.bucket, key, last, last.length, headers);
        return;
      }
      if (last.length > 0) {
        await uploadPart(last);
      }
      await this.client.completeMultipartUpload(this.bucket, key, uploadId, etags);
    } catch (err) {
      if (uploadId) {
        await this.client.abortMultipartUpload(this.bucket, key, uploadId).catch(() => undefined);
      }
      throw err;
    }
  }

  async get(key: string): Promise<Readable> {
    assertValidKey(key);
    try {
      return await this.client.getObject(this.bucket, key);
    } catch (err) {
      if (isNotFound(err)) {
        throw new ObjectNotFoundError(key);
      }
      throw asStorageError('get', err);
    }
  }

  async stat(key: string): Promise<ObjectStat | null> {
    assertValidKey(key);
    try {
      const s = await this.client.statObject(this.bucket, key);
      return { size: s.size, lastModified: s.lastModified };
    } catch (err) {
      if (isNotFound(err)) {
        return null;
      }
      throw asStorageError('stat', err);
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await call('delete', () => this.client.removeObject(this.bucket, key));
  }

  async *list(prefix: string): AsyncIterable<string> {
    assertValidKey(prefix, true);
    try {
      for await (const item of this.client.listObjectsV2(this.bucket, prefix, true)) {
        if (item.name) yield item.name;
      }
    } catch (err) {
      throw asStorageError('list', err);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertValidKey(prefix, true);
    if (!prefix.endsWith('/')) {
      throw new Error('deletePrefix needs a prefix ending in "/"');
    }
    const names: string[] = [];
    for await (const name of this.list(prefix)) names.push(name);
    for (let i = 0; i < names.length; i += 1000) {
      await call('delete', () => this.client.removeObjects(this.bucket, names.slice(i, i + 1000)));
    }
    return names.length;
  }

  private ttl(options?: PresignOptions): number {
    return Math.max(
      1,
      Math.min(options?.expiresInSeconds ?? this.maxPresignSeconds, this.maxPresignSeconds),
    );
  }

  async presignGet(key: string, options?: PresignGetOptions): Promise<string> {
    assertValidKey(key);
    // S3 serves these response headers when they are part of the signed query.
    const headers: Record<string, string> = {};
    if (options?.contentType) headers['response-content-type'] = options.contentType;
    if (options?.downloadName) {
      headers['response-content-disposition'] = contentDisposition(options.downloadName);
    }
    return call('presign', () =>
      this.client.presignedGetObject(this.bucket, key, this.ttl(options), headers),
    );
  }

  async presignPut(key: string, options?: PresignOptions): Promise<string> {
    assertValidKey(key);
    return call('presign', () =>
      this.client.presignedPutObject(this.bucket, key, this.ttl(options)),
    );
  }

  async ping(): Promise<void> {
    if (!(await call('ping', () => this.client.bucketExists(this.bucket)))) {
      throw new Error(`bucket ${this.bucket} does not exist`);
    }
  }
}
