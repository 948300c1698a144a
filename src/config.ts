/**
 * Environment → typed Config, parsed once at start. Every bad variable gets its own line naming
 * the variable and what is wrong; then the process exits 1 (see `loadConfig`).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

export type NodeEnv = 'development' | 'production' | 'test';

export type StorageConfig =
  | { kind: 'local'; dir: string }
  | {
      kind: 's3';
      endPoint: string;
      port: number | undefined;
      useSSL: boolean;
      accessKey: string;
      secretKey: string;
      bucket: string;
      region: string;
    };

export interface Config {
  nodeEnv: NodeEnv;
  isProduction: boolean;
  host: string;
  port: number;
  /** Base URL clients reach this server at; used for local-storage presigned URLs. */
  publicUrl: string;
  dataDir: string;
  /** Unset: an embedded PostgreSQL is started under `dataDir/pg`. */
  databaseUrl: string | undefined;
  /** Unset: a `redis-server` child is started under `dataDir/redis`. */
  redisUrl: string | undefined;
  /** Namespace for this deployment's Redis keys and channels (several apps can share a Redis). */
  redisPrefix: string;
  storage: StorageConfig;
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  argon2: { memoryKiB: number; timeCost: number; parallelism: number; concurrency: number };
  maxUploadBytes: number;
  presignTtlSeconds: number;
  httpBodyLimitBytes: number;
  wsMaxPayloadBytes: number;
  maxQueryDepth: number;
  maxAliases: number;
  /** Operation limits beyond depth and aliases (src/graphql/limits.ts). */
  graphqlLimits: {
    maxCost: number;
    maxTokens: number;
    maxDirectives: number;
    maxCharacters: number;
    maxIntrospectionDepth: number;
  };
  /** WebSocket (graphql-ws) limits; per-user counts are cluster-wide (Redis, src/graphql/ws-caps.ts). */
  ws: {
    maxConnectionsPerUser: number;
    maxSubscriptionsPerUser: number;
    initTimeoutMs: number;
    keepAliveMs: number;
  };
  gpuAutoMinCells: number;
  dbStatementTimeoutMs: number;
  /** Per-user limits (0 = unlimited); see src/modules/quotas. */
  quotas: QuotaConfig;
  /** GraphQL operations per window, per signed-in user and per client IP (0 = off). */
  rateLimit: { windowSeconds: number; perUser: number; perIp: number };
  /** Prometheus `/metrics`; a bearer token if METRICS_TOKEN is set. */
  metrics: { enabled: boolean; token: string | undefined };
  /** Serve a user's repeated `datasets` list from the per-process, version-validated cache. */
  datasetsListCache: boolean;
  retention: RetentionConfig;
  /**
   * Test-only fault injection (OMICSELECTOR_FAULT); always null in production. See FAULT_POINTS.
   */
  faultInjection: FaultPoint | null;
  /**
   * Workers: how long a finished run retries its result write while PostgreSQL is unreachable
   * (RESULT_WRITE_RETRY_SECONDS; 0 = no retry).
   */
  resultWriteRetrySeconds: number;
}

/**
 * Named crash points for the chaos tests (`npm run test:chaos`). `crash-after-commit`: the API
 * process kills itself with SIGKILL right after a submitted job's row (with its unconfirmed
 * outbox flag, `enqueued_at IS NULL`) is committed and before the BullMQ add.
 * `pause-before-result`: a worker stops right before a finished run's result write, prints
 * `fault injection: pause-before-result (job <id>)` on stderr and waits for SIGUSR2.
 */
export const FAULT_POINTS = ['crash-after-commit', 'pause-before-result'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export interface QuotaConfig {
  storageBytes: number;
  datasets: number;
  concurrentJobs: number;
  gpuMinutesPerMonth: number;
}

export interface RetentionConfig {
  /** Soft-deleted datasets (rows + objects) are purged after this many days. */
  deletedDatasetDays: number;
  /** Events of jobs that ended this many days ago are deleted (0 = keep forever). */
  jobEventDays: number;
  /**
   * Artifacts (storage objects under `jobs/<id>/`) of jobs that ended this many days ago are
   * deleted; the job row and result document stay (0 = keep forever).
   */
  artifactDays: number;
  /** How often the purge runs (seconds; 0 = never). */
  intervalSeconds: number;
}

const DURATION = /^(\d+)\s*(ms|s|m|h|d)?$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** '15m' / '30d' / '900' (seconds) → seconds. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) {
    return undefined;
  }
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] ?? 's']!;
  return Number.isFinite(seconds) ? seconds : undefined;
}

const duration = (min: number, max: number) =>
  z.string().transform((text, ctx) => {
    const s = parseDuration(text);
    if (s === undefined || s < min || s > max) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration like 15m, 12h or 30d between ${min}s and ${max}s, got "${text}"`,
      });
      return z.NEVER;
    }
    return Math.floor(s);
  });

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const bool = z
  .string()
  .regex(/^(true|false|1|0|yes|no)$/i, 'expected true or false')
  .transform(v => /^(true|1|yes)$/i.test(v));

const url = (schemes: string[]) =>
  z.string().refine(
    v => {
      try {
        return schemes.includes(new URL(v).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `expected a URL starting with ${schemes.map(s => s + '://').join(' or ')}` },
  );

const GiB = 1024 ** 3;

/** The raw environment schema; defaults are strings so they pass through the same parsing. */
const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(4000),
  PUBLIC_URL: url(['http', 'https']).optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  DATABASE_URL: url(['postgres', 'postgresql']).optional(),
  REDIS_URL: url(['redis', 'rediss']).optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected 1-32 letters, digits, "_" or "-"')
    .default('osk'),
  STORAGE_DIR: z.string().min(1).optional(),
  S3_ENDPOINT: z.string().min(1).optional(),
  S3_ACCESS_KEY: z.string().min(1).optional(),
  S3_SECRET_KEY: z.string().min(1).optional(),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected a valid S3 bucket name')
    .default('omicselector'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_USE_SSL: bool.optional(),
  JWT_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters (256 bits of randomness)')
    .optional(),
  ACCESS_TOKEN_TTL: duration(60, 86400).default(15 * 60),
  REFRESH_TOKEN_TTL: duration(3600, 365 * 86400).default(30 * 86400),
  ARGON2_MEMORY_KIB: int(7168, 1024 * 1024).default(19456),
  ARGON2_TIME_COST: int(1, 20).default(2),
  ARGON2_CONCURRENCY: int(1, 64).default(Math.max(1, Math.min(4, availableParallelism()))),
  MAX_UPLOAD_BYTES: int(1024, 1024 * GiB).default(2 * GiB),
  PRESIGNED_URL_TTL: duration(10, 3600).default(15 * 60),
  HTTP_BODY_LIMIT_BYTES: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
  WS_MAX_PAYLOAD_BYTES: int(1024, 16 * 1024 * 1024).default(64 * 1024),
  GRAPHQL_MAX_DEPTH: int(2, 100).default(10),
  GRAPHQL_MAX_ALIASES: int(1, 1000).default(30),
  GRAPHQL_MAX_COST: int(10, 100_000_000).default(100_000),
  GRAPHQL_MAX_TOKENS: int(50, 1_000_000).default(1000),
  GRAPHQL_MAX_DIRECTIVES: int(0, 10_000).default(50),
  GRAPHQL_MAX_CHARACTERS: int(100, 10_000_000).default(15_000),
  GRAPHQL_MAX_INTROSPECTION_DEPTH: int(1, 100).default(15),
  WS_MAX_CONNECTIONS_PER_USER: int(1, 100_000).default(10),
  WS_MAX_SUBSCRIPTIONS_PER_USER: int(1, 1_000_000).default(50),
  WS_INIT_TIMEOUT_MS: int(100, 600_000).default(3000),
  WS_KEEPALIVE_MS: int(0, 600_000).default(12_000),
  GPU_AUTO_MIN_CELLS: int(0, Number.MAX_SAFE_INTEGER).default(5_000_000),
  DB_STATEMENT_TIMEOUT_MS: int(0, 3_600_000).default(30_000),
  QUOTA_STORAGE_BYTES: int(0, Number.MAX_SAFE_INTEGER).optional(),
  QUOTA_DATASETS: int(0, 1_000_000).optional(),
  QUOTA_CONCURRENT_JOBS: int(0, 10_000).optional(),
  QUOTA_GPU_MINUTES_PER_MONTH: int(0, 10_000_000).optional(),
  RATE_LIMIT_WINDOW: duration(1, 3600).default(60),
  RATE_LIMIT_PER_USER: int(0, 1_000_000).optional(),
  RATE_LIMIT_PER_IP: int(0, 1_000_000).optional(),
  METRICS_ENABLED: bool.default(true),
  DATASETS_LIST_CACHE: bool.default(true),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  RETENTION_DELETED_DATASETS_DAYS: int(0, 3650).default(30),
  RETENTION_JOB_EVENTS_DAYS: int(0, 36500).default(90),
  RETENTION_ARTIFACT_DAYS: int(0, 36500).default(0),
  RETENTION_INTERVAL: duration(0, 7 * 86400).default(3600),
  OMICSELECTOR_FAULT: z.enum(FAULT_POINTS).optional(),
  RESULT_WRITE_RETRY_SECONDS: int(0, 86_400).default(120),
});

export type Env = Record<string, string | undefined>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/**
 * Parses env without side effects except one: in development/test an unset JWT_SECRET is generated
 * once and persisted in DATA_DIR/jwt-secret, so tokens survive restarts.
 */
export function parseConfig(env: Env = process.env): ConfigResult {
  // Empty strings mean "unset" (a common .env habit).
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = envSchema.safeParse(cleaned);
  const errors: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      errors.push(`${issue.path.join('.')}: ${issue.message}`);
    }
    return { ok: false, errors };
  }
  const e = parsed.data;
  const isProduction = e.NODE_ENV === 'production';
  const dataDir = resolve(e.DATA_DIR);

  const s3Given = [e.S3_ENDPOINT, e.S3_ACCESS_KEY, e.S3_SECRET_KEY].some(v => v !== undefined);
  let storage: StorageConfig = {
    kind: 'local',
    dir: resolve(e.STORAGE_DIR ?? join(dataDir, 'objects')),
  };
  if (s3Given) {
    for (const name of ['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY'] as const) {
      if (e[name] === undefined) {
        errors.push(
          `${name}: required when any of S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY is set`,
        );
      }
    }
    const endpoint = e.S3_ENDPOINT ? parseS3Endpoint(e.S3_ENDPOINT) : undefined;
    if (e.S3_ENDPOINT && !endpoint) {
      errors.push(
        `S3_ENDPOINT: expected host[:port] or http(s)://host[:port], got "${e.S3_ENDPOINT}"`,
      );
    }
    if (endpoint && e.S3_ACCESS_KEY && e.S3_SECRET_KEY) {
      storage = {
        kind: 's3',
        endPoint: endpoint.host,
        port: endpoint.port,
        useSSL: e.S3_USE_SSL ?? endpoint.ssl,
        accessKey: e.S3_ACCESS_KEY,
        secretKey: e.S3_SECRET_KEY,
        bucket: e.S3_BUCKET,
        region: e.S3_REGION,
      };
    }
  }

  let jwtSecret = e.JWT_SECRET;
  if (!jwtSecret) {
    if (isProduction) {
      errors.push('JWT_SECRET: required in production (at least 32 random characters)');
    } else {
      try {
        jwtSecret = persistedSecret(dataDir);
      } catch (err) {
        errors.push(`DATA_DIR: cannot store a generated JWT secret in ${dataDir}: ${String(err)}`);
      }
    }
  }
  if (errors.length > 0 || !jwtSecret) {
    return { ok: false, errors };
  }
  const opsDefault = (value: number) => (e.NODE_ENV === 'test' ? 0 : value);

  return {
    ok: true,
    config: {
      nodeEnv: e.NODE_ENV,
      isProduction,
      host: e.HOST,
      port: e.PORT,
      publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
      dataDir,
      databaseUrl: e.DATABASE_URL,
      redisUrl: e.REDIS_URL,
      redisPrefix: e.REDIS_PREFIX,
      storage,
      jwtSecret,
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL,
      refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL,
      argon2: {
        memoryKiB: e.ARGON2_MEMORY_KIB,
        timeCost: e.ARGON2_TIME_COST,
        parallelism: 1,
        concurrency: e.ARGON2_CONCURRENCY,
      },
      maxUploadBytes: e.MAX_UPLOAD_BYTES,
      presignTtlSeconds: e.PRESIGNED_URL_TTL,
      httpBodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES,
      wsMaxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
      maxQueryDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      graphqlLimits: {
        maxCost: e.GRAPHQL_MAX_COST,
        maxTokens: e.GRAPHQL_MAX_TOKENS,
        maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
        maxCharacters: e.GRAPHQL_MAX_CHARACTERS,
        maxIntrospectionDepth: e.GRAPHQL_MAX_INTROSPECTION_DEPTH,
      },
      ws: {
        maxConnectionsPerUser: e.WS_MAX_CONNECTIONS_PER_USER,
        maxSubscriptionsPerUser: e.WS_MAX_SUBSCRIPTIONS_PER_USER,
        initTimeoutMs: e.WS_INIT_TIMEOUT_MS,
        keepAliveMs: e.WS_KEEPALIVE_MS,
      },
      gpuAutoMinCells: e.GPU_AUTO_MIN_CELLS,
      dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
      // NODE_ENV=test: quotas and rate limits are off unless set, so test suites that poll or
      // queue many jobs are not throttled; the ops tests set them explicitly.
      quotas: {
        storageBytes: e.QUOTA_STORAGE_BYTES ?? opsDefault(20 * GiB),
        datasets: e.QUOTA_DATASETS ?? opsDefault(200),
        concurrentJobs: e.QUOTA_CONCURRENT_JOBS ?? opsDefault(10),
        gpuMinutesPerMonth: e.QUOTA_GPU_MINUTES_PER_MONTH ?? opsDefault(600),
      },
      rateLimit: {
        windowSeconds: e.RATE_LIMIT_WINDOW,
        perUser: e.RATE_LIMIT_PER_USER ?? opsDefault(600),
        perIp: e.RATE_LIMIT_PER_IP ?? opsDefault(1200),
      },
      metrics: { enabled: e.METRICS_ENABLED, token: e.METRICS_TOKEN },
      datasetsListCache: e.DATASETS_LIST_CACHE,
      retention: {
        deletedDatasetDays: e.RETENTION_DELETED_DATASETS_DAYS,
        jobEventDays: e.RETENTION_JOB_EVENTS_DAYS,
        artifactDays: e.RETENTION_ARTIFACT_DAYS,
        intervalSeconds: e.RETENTION_INTERVAL,
      },
      // Ignored in production: a stray variable must never make a deployment crash on purpose.
      faultInjection: isProduction ? null : (e.OMICSELECTOR_FAULT ?? null),
      resultWriteRetrySeconds: e.RESULT_WRITE_RETRY_SECONDS,
    },
  };
}

function parseS3Endpoint(
  text: string,
): { host: string; port: number | undefined; ssl: boolean } | undefined {
  try {
    const u = new URL(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`);
    if (!['http:', 'https:'].includes(u.protocol) || u.pathname.length > 1) {
      return undefined;
    }
    return {
      host: u.hostname,
      port: u.port ? Number(u.port) : undefined,
      ssl: u.protocol === 'https:',
    };
  } catch {
    return undefined;
  }
}

function persistedSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 32) {
      return stored;
    }
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

let cached: Config | undefined;

/** Parses process.env once; on bad configuration prints one line per problem and exits 1. */
export function loadConfig(): Config {
  if (cached) {
    return cached;
  }
  const result = parseConfig(process.env);
  if (!result.ok) {
    process.stderr.write(
      'Invalid configuration (see .env.example):\n' +
        result.errors.map(line => `  - ${line}\n`).join(''),
    );
    process.exit(1);
  }
  cached = result.config;
  return cached;
}
