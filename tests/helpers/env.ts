/**
 * The services global-setup started for this test run (one PostgreSQL cluster, one redis-server,
 * one s3rver), read from the JSON file whose path global-setup put in OMICSELECTOR_TEST_ENV.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestEnv {
  /** Base temp directory of this run (removed by teardown). */
  tmpDir: string;
  postgres: { adminUrl: string; host: string; port: number; user: string; password: string };
  redisUrl: string;
  s3: { endpoint: string; port: number; accessKey: string; secretKey: string; region: string };
}

export const TEST_ENV_FILE = join(tmpdir(), 'omicselector-test-env.json');

let cached: TestEnv | undefined;

export function testEnv(): TestEnv {
  if (!cached) {
    const file = process.env.OMICSELECTOR_TEST_ENV ?? TEST_ENV_FILE;
    try {
      cached = JSON.parse(readFileSync(file, 'utf8')) as TestEnv;
    } catch (err) {
      throw new Error(
        `test services are not running (no ${file}); run integration tests through jest ` +
          `(--selectProjects integration) so global-setup starts them`,
        { cause: err },
      );
    }
  }
  return cached;
}

/** postgres://… URL of `database` on the test cluster. */
export function databaseUrl(database: string): string {
  const { user, password, host, port } = testEnv().postgres;
  return `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}`;
}
