import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, parseDuration } from '../../src/config';
import { Semaphore, SemaphoreFullError } from '../../src/util/semaphore';
import { testEnv } from '../helpers/env';

// Inside the run's temp dir, which global-teardown removes.
const dataDir = () => mkdtempSync(join(testEnv().tmpDir, 'config-'));

describe('config', () => {
  it('parses durations', () => {
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('30d')).toBe(30 * 86400);
    expect(parseDuration('900')).toBe(900);
    expect(parseDuration('ten minutes')).toBeUndefined();
  });

  it('applies defaults and persists a generated development JWT secret', () => {
    const dir = dataDir();
    const a = parseConfig({ DATA_DIR: dir });
    if (!a.ok) throw new Error(a.errors.join('\n'));
    expect(a.config.port).toBe(4000);
    expect(a.config.accessTokenTtlSeconds).toBe(900);
    expect(a.config.maxUploadBytes).toBe(2 * 1024 ** 3);
    expect(a.config.argon2).toMatchObject({ memoryKiB: 19456, timeCost: 2, parallelism: 1 });
    expect(a.config.storage).toEqual({ kind: 'local', dir: join(dir, 'objects') });
    expect(a.config.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(statSync(join(dir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    const b = parseConfig({ DATA_DIR: dir });
    expect(b.ok && b.config.jwtSecret).toBe(a.config.jwtSecret);
    expect(readFileSync(join(dir, 'jwt-secret'), 'utf8').trim()).toBe(a.config.jwtSecret);
  });

  it('reports one message per bad variable', () => {
    const r = parseConfig({
      DATA_DIR: dataDir(),
      PORT: 'eighty',
      DATABASE_URL: 'mysql://x',
      ACCESS_TOKEN_TTL: 'soon',
      S3_ENDPOINT: 'localhost:9000',
    });
    expect(r.ok).toBe(false);
    const errors = r.ok ? [] : r.errors;
    expect(errors.find(e => e.startsWith('PORT:'))).toBeDefined();
    expect(errors.find(e => e.startsWith('DATABASE_URL:'))).toMatch(/postgres/);
    expect(errors.find(e => e.startsWith('ACCESS_TOKEN_TTL:'))).toMatch(/duration/);
    expect(errors).toHaveLength(3);
  });

  it('requires JWT_SECRET in production and both S3 keys with an endpoint', () => {
    const r = parseConfig({
      NODE_ENV: 'production',
      DATA_DIR: dataDir(),
      S3_ENDPOINT: 'minio:9000',
    });
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.errors.map(e => e.split(':')[0]).sort()).toEqual([
      'JWT_SECRET',
      'S3_ACCESS_KEY',
      'S3_SECRET_KEY',
    ]);
  });

  it('builds an S3 storage config', () => {
    const r = parseConfig({
      DATA_DIR: dataDir(),
      S3_ENDPOINT: 'https://s3.example.org:9443',
      S3_ACCESS_KEY: 'a',
      S3_SECRET_KEY: 'b',
    });
    expect(r.ok && r.config.storage).toEqual({
      kind: 's3',
      endPoint: 's3.example.org',
      port: 9443,
      useSSL: true,
      accessKey: 'a',
      secretKey: 'b',
      bucket: 'omicselector',
      region: 'us-east-1',
    });
  });
});

describe('Semaphore (caps concurrent password hashing)', () => {
  it('never runs more than `limit` tasks at once and refuses beyond the wait queue', async () => {
    const gate = new Semaphore(2, 3);
    let running = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    const task = () =>
      gate.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>(r => releases.push(r));
        running--;
      });
    const accepted = [task(), task(), task(), task(), task()];
    await expect(task()).rejects.toBeInstanceOf(SemaphoreFullError);
    expect(gate.inUse).toBe(2);
    expect(gate.queued).toBe(3);
    while (releases.length || gate.inUse) {
      releases.shift()?.();
      await new Promise(r => setImmediate(r));
    }
    await Promise.all(accepted);
    expect(peak).toBe(2);
  });
});
