/** Picks the storage backend from config: S3 when S3_* is set, else the local filesystem. */
import type { Config } from '../config.js';
import { LocalStorage } from './local.js';
import { S3Storage } from './s3.js';
import type { ObjectStorage } from './storage.js';

export * from './storage.js';
export { LocalStorage } from './local.js';
export { S3Storage } from './s3.js';

export function createStorage(config: Config): ObjectStorage {
  if (config.storage.kind === 's3') {
    return new S3Storage(config.storage, config.presignTtlSeconds);
  }
  return new LocalStorage({
    dir: config.storage.dir,
    publicUrl: config.publicUrl,
    secret: config.jwtSecret,
    maxPresignSeconds: config.presignTtlSeconds,
  });
}
