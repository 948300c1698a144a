/**
 * S3 / MinIO storage through the `minio` client (path-style). Works against MinIO in compose and
 * s3rver in tests. Presigned URLs always carry an explicit expiry (minio-js defaults to 7 days).
 */
import type { Readable } from 'node:stream';
import { Client } from 'minio';
import type { StorageConfig } from '../config.js';
import {
  assertValidKey,
  ObjectNotFoundError,
  type ObjectStat,
  type ObjectStorage,
  type PresignOptions,
} from './storage.js';

type S3Config = Extract<StorageConfig, { kind: 's3' }>;

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'NotFound' || code === 'NoSuchKey' || code === 'NoSuchObject';
}

export class S3Storage implements ObjectStorage {
  readonly kind = 's3' as const;
  private readonly client: Client;
  private readonly bucket: string;

  constructor(
    config: S3Config,
    private readonly maxPresignSeconds: number,
  ) {
    this.client = new Client({
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
    if (!(await this.client.bucketExists(this.bucket))) {
      await this.client.makeBucket(this.bucket);
    }
  }

  async put(
    key: string,
    body: Readable | Buffer,
    options?: { contentType?: string },
  ): Promise<ObjectStat> {
    assertValidKey(key);
    await this.client.putObject(this.bucket, key, body, undefined, {
      'Content-Type': options?.contentType ?? 'application/octet-stream',
    });
    const s = await this.stat(key);
    if (!s) {
      throw new Error(`object ${key} missing right after upload`);
    }
    return s;
  }

  async get(key: string): Promise<Readable> {
    assertValidKey(key);
    try {
      return await this.client.getObject(this.bucket, key);
    } catch (err) {
      if (isNotFound(err)) {
        throw new ObjectNotFoundError(key);
      }
      throw err;
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
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.client.removeObject(this.bucket, key);
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertValidKey(prefix, true);
    if (!prefix.endsWith('/')) {
      throw new Error('deletePrefix needs a prefix ending in "/"');
    }
    const names: string[] = [];
    for await (const item of this.client.listObjectsV2(this.bucket, prefix, true)) {
      if (item.name) {
        names.push(item.name);
      }
    }
    for (let i = 0; i < names.length; i += 1000) {
      await this.client.removeObjects(this.bucket, names.slice(i, i + 1000));
    }
    return names.length;
  }

  private ttl(options?: PresignOptions): number {
    return Math.max(
      1,
      Math.min(options?.expiresInSeconds ?? this.maxPresignSeconds, this.maxPresignSeconds),
    );
  }

  async presignGet(key: string, options?: PresignOptions): Promise<string> {
    assertValidKey(key);
    return this.client.presignedGetObject(this.bucket, key, this.ttl(options));
  }

  async presignPut(key: string, options?: PresignOptions): Promise<string> {
    assertValidKey(key);
    return this.client.presignedPutObject(this.bucket, key, this.ttl(options));
  }

  async ping(): Promise<void> {
    if (!(await this.client.bucketExists(this.bucket))) {
      throw new Error(`bucket ${this.bucket} does not exist`);
    }
  }
}
