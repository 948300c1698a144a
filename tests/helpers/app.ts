/**
 * Boots the real server in-process against the shared test services, with a fresh database (and
 * Redis key prefix, and bucket/storage dir) per call, so test files never see each other's data.
 *
 *   const t = await startTestApp();            // or startTestApp({ storage: 's3' })
 *   const { data, errors, status } = await t.gql('{ me { id } }', {}, token);
 *   await t.close();
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, type RunningApp } from '../../src/app';
import { bumpAuthVersion } from '../../src/modules/accounts/auth-user';
import { parseConfig, type Config } from '../../src/config';
import { freePort } from '../../src/services/ports';
import { databaseUrl, testEnv } from './env';

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

export interface TestApp {
  /** http://127.0.0.1:port/graphql */
  url: string;
  /** ws://127.0.0.1:port/graphql */
  wsUrl: string;
  /** http://127.0.0.1:port */
  baseUrl: string;
  config: Config;
  databaseName: string;
  app: RunningApp;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<GqlResponse<T>>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  storage?: 'local' | 's3';
  /** Extra environment (e.g. NODE_ENV: 'production', ACCESS_TOKEN_TTL: '60'). */
  env?: Record<string, string>;
  /**
   * A second API instance of the same deployment: same database, Redis prefix, JWT secret and
   * storage as `sameDeploymentAs` (its own port and in-process state).
   */
  sameDeploymentAs?: TestApp;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const env = testEnv();
  const shared = options.sameDeploymentAs;
  const id = randomUUID().replace(/-/g, '').slice(0, 12);
  const databaseName = shared?.databaseName ?? `t_${id}`;
  const port = await freePort();
  const dataDir = shared?.config.dataDir ?? mkdtempSync(join(env.tmpDir, 'app-'));
  const vars: Record<string, string> = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    JWT_SECRET: shared?.config.jwtSecret ?? randomBytes(32).toString('base64url'),
    REDIS_PREFIX: shared?.config.redisPrefix ?? `t${id}`,
    ...(options.storage === 's3'
      ? {
          S3_ENDPOINT: `http://${env.s3.endpoint}:${env.s3.port}`,
          S3_ACCESS_KEY: env.s3.accessKey,
          S3_SECRET_KEY: env.s3.secretKey,
          S3_BUCKET: `t-${id}`,
          S3_REGION: env.s3.region,
        }
      : {}),
    ...options.env,
  };
  const parsed = parseConfig(vars);
  if (!parsed.ok) {
    throw new Error(`bad test config:\n${parsed.errors.join('\n')}`);
  }
  const config = parsed.config;
  const app = await startApp(config, {
    databaseUrl: databaseUrl(databaseName),
    redisUrl: env.redisUrl,
  });
  const baseUrl = `http://127.0.0.1:${app.port}`;
  return {
    url: `${baseUrl}/graphql`,
    wsUrl: `ws://127.0.0.1:${app.port}/graphql`,
    baseUrl,
    config,
    databaseName,
    app,
    gql: async <T>(
      query: string,
      variables: Record<string, unknown> = {},
      token?: string,
      headers: Record<string, string> = {},
    ) => {
      const res = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const text = await res.text();
      let body: { data?: T | null; errors?: GqlResponse<T>['errors'] } = {};
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        body = {
          errors: [{ message: `non-JSON response (${res.status}): ${text.slice(0, 200)}` }],
        };
      }
      return { status: res.status, headers: res.headers, data: body.data, errors: body.errors };
    },
    close: () => app.close(),
  };
}

let counter = 0;

/** Registers a fresh user; returns its tokens and id. */
export async function registerUser(
  t: TestApp,
  overrides: { email?: string; username?: string; password?: string } = {},
): Promise<{
  id: string;
  email: string;
  username: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}> {
  const n = `${Date.now().toString(36)}${(counter++).toString(36)}`;
  const input = {
    email: overrides.email ?? `user${n}@example.org`,
    username: overrides.username ?? `user${n}`,
    password: overrides.password ?? 'correct horse battery',
  };
  const res = await t.gql<{
    register: { accessToken: string; refreshToken: string; user: { id: string } };
  }>(
    `mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken user { id } } }`,
    { input },
  );
  if (!res.data?.register) {
    throw new Error(`register failed: ${JSON.stringify(res.errors)}`);
  }
  return {
    id: res.data.register.user.id,
    ...input,
    accessToken: res.data.register.accessToken,
    refreshToken: res.data.register.refreshToken,
  };
}

/**
 * Sets a user's role directly in the database (tests only; the API needs an ADMIN for this), and
 * bumps the user's auth version as the API does after any user change, so no API instance keeps
 * using a cached copy of the row (src/modules/accounts/auth-user.ts).
 */
export async function setRoleInDb(
  t: TestApp,
  userId: string,
  role: 'USER' | 'RESEARCHER' | 'ADMIN',
): Promise<void> {
  await t.app.services.orm.em
    .getConnection()
    .execute('update users set role = ? where id = ?', [role, userId]);
  await bumpAuthVersion(t.app.services.redis, userId);
}
