/**
 * Real worker processes for job tests: `node dist/src/workers/main.js --pool …`, pointed at a test
 * app's database, Redis namespace and storage, with short lock/stall/heartbeat timings.
 *
 *   await ensureBuilt();                          // tsc once when dist/ is older than the sources
 *   const w = startWorker(t, { pool: 'cpu' });
 *   await w.live();                               // its heartbeat is visible
 *   w.kill('SIGKILL');
 *
 * Also the job tests' shared pieces: operations from schema/operations/jobs.graphql, synthetic
 * datasets uploaded through the real multipart API, and polling helpers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kind, parse, print, type DefinitionNode } from 'graphql';
import { Redis } from 'ioredis';
import { type TestApp } from './app';
import { databaseUrl, testEnv } from './env';

const ROOT = join(__dirname, '..', '..');
export const WORKER_MAIN = join(ROOT, 'dist', 'src', 'workers', 'main.js');

/** Timings that make stall detection and heartbeats fast enough for tests. */
export const FAST_JOB_ENV: Record<string, string> = {
  JOBS_LOCK_DURATION_MS: '3000',
  JOBS_STALLED_INTERVAL_MS: '1000',
  JOBS_BACKOFF_MS: '300',
  JOBS_CANCEL_GRACE_MS: '1500',
  WORKER_HEARTBEAT_MS: '500',
  WORKER_HEARTBEAT_TTL_MS: '3000',
  JOBS_RECONCILE_MS: '1000',
  JOBS_OUTBOX_GRACE_MS: '1000',
  JOBS_SUBSCRIPTION_POLL_MS: '1000',
};

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Compile to dist/ when the worker entry is missing or older than any source under src/,
 * compute/ or migrations/. Test files run in parallel processes: a lock file makes one build and
 * the others wait for it. Type errors elsewhere (work in progress) do not stop the emit.
 */
export async function ensureBuilt(): Promise<void> {
  const lock = join(tmpdir(), 'omicselector-jobs-build.lock');
  for (;;) {
    const built = existsSync(WORKER_MAIN) ? statSync(WORKER_MAIN).mtimeMs : 0;
    const sources = Math.max(
      ...['src', 'compute', 'migrations'].map(d => newestMtime(join(ROOT, d))),
    );
    if (built >= sources) return;
    let fd: number;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      // Someone else is building; a lock older than 10 minutes is stale.
      if (Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { force: true });
      await new Promise(r => setTimeout(r, 1000));
      continue;
    }
    try {
      // Incremental: only what changed since the last test build is re-checked and re-emitted.
      const info = join(tmpdir(), 'omicselector-jobs-build.tsbuildinfo');
      // Without dist/ the build info would claim everything is emitted already.
      if (!existsSync(WORKER_MAIN)) rmSync(info, { force: true });
      spawnSync(
        process.execPath,
        [
          join(ROOT, 'node_modules/typescript/bin/tsc'),
          '-p',
          'tsconfig.build.json',
          '--incremental',
          '--tsBuildInfoFile',
          info,
        ],
        {
          cwd: ROOT,
          stdio: 'ignore',
        },
      );
      if (!existsSync(WORKER_MAIN))
        throw new Error('build did not produce dist/src/workers/main.js');
      // Mark the build as current even when unrelated sources did not change their output.
      const now = new Date();
      utimesSync(WORKER_MAIN, now, now);
      return;
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
}

export interface WorkerOptions {
  pool: 'cpu' | 'gpu';
  concurrency?: number;
  allowCpuFallback?: boolean;
  threads?: number;
  env?: Record<string, string>;
}

export interface WorkerProcess {
  proc: ChildProcess;
  pid: number;
  /** Combined stdout/stderr so far (for assertion messages). */
  output(): string;
  /** Resolves once a heartbeat of this pid is in Redis. */
  live(timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when gone. */
  stop(graceMs?: number): Promise<void>;
}

/** The environment a worker of `t` needs: same database, Redis namespace, storage and secret. */
export function workerEnv(t: TestApp, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const c = t.config;
  const storage: Record<string, string> =
    c.storage.kind === 's3'
      ? {
          S3_ENDPOINT: `${c.storage.useSSL ? 'https' : 'http'}://${c.storage.endPoint}:${c.storage.port}`,
          S3_ACCESS_KEY: c.storage.accessKey,
          S3_SECRET_KEY: c.storage.secretKey,
          S3_BUCKET: c.storage.bucket,
          S3_REGION: c.storage.region,
        }
      : { STORAGE_DIR: c.storage.dir };
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.WORKER_LOG_LEVEL ?? 'warn',
    DATA_DIR: c.dataDir,
    JWT_SECRET: c.jwtSecret,
    DATABASE_URL: databaseUrl(t.databaseName),
    REDIS_URL: extra.REDIS_URL ?? testEnv().redisUrl,
    REDIS_PREFIX: c.redisPrefix,
    OMICSELECTOR_THREADS: '1',
    ...FAST_JOB_ENV,
    ...storage,
    ...extra,
  };
}

const all = new Set<WorkerProcess>();

export function startWorker(t: TestApp, opts: WorkerOptions): WorkerProcess {
  const args = ['--pool', opts.pool, '--concurrency', String(opts.concurrency ?? 1)];
  if (opts.allowCpuFallback) args.push('--allow-cpu-fallback');
  args.push('--threads', String(opts.threads ?? 1));
  const proc = spawn(process.execPath, [WORKER_MAIN, ...args], {
    cwd: ROOT,
    env: workerEnv(t, opts.env),
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
  const redisUrl = opts.env?.REDIS_URL ?? testEnv().redisUrl;
  const w: WorkerProcess = {
    proc,
    pid: proc.pid!,
    output: () => out,
    exited,
    live: async (timeoutMs = 60_000) => {
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      try {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          if (proc.exitCode !== null) throw new Error(`worker exited early:\n${out}`);
          const ids = await redis.zrange(`${t.config.redisPrefix}:workers`, 0, -1);
          if (ids.some(id => id.includes(`-${proc.pid}-`))) return;
          await new Promise(r => setTimeout(r, 200));
        }
        throw new Error(`worker ${proc.pid} sent no heartbeat in ${timeoutMs} ms:\n${out}`);
      } finally {
        redis.disconnect();
      }
    },
    kill: (signal = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
    stop: async (graceMs = 15_000) => {
      all.delete(w);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  all.add(w);
  return w;
}

/** Stop every worker this test file started (afterAll). */
export async function stopAllWorkers(): Promise<void> {
  await Promise.all([...all].map(w => w.stop(5000)));
}

// --- job test helpers -------------------------------------------------------------------

const OPS = parse(readFileSync(join(ROOT, 'schema/operations/jobs.graphql'), 'utf8'));

/** One operation of jobs.graphql plus the fragments it uses. */
export function op(name: string): string {
  const def = OPS.definitions.find(
    d => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === name,
  );
  if (!def) throw new Error(`no operation ${name} in jobs.graphql`);
  const text = print(def);
  const fragments = OPS.definitions.filter(
    (d: DefinitionNode) =>
      d.kind === Kind.FRAGMENT_DEFINITION && text.includes(`...${d.name.value}`),
  );
  return [text, ...fragments.map(f => print(f))].join('\n');
}

export interface JobView {
  id: string;
  type: string;
  status: string;
  datasetId: string;
  config: Record<string, unknown>;
  device: string;
  pool: string;
  priority: string;
  idempotencyKey: string | null;
  dependsOn: string[];
  progress: number;
  stage: string | null;
  message: string | null;
  attempts: number;
  deviceUsed: string | null;
  deviceInfo: Record<string, unknown> | null;
  workerId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  lastSeq: number;
  result?: {
    attempt: number;
    summary: Record<string, unknown>;
    data: Record<string, unknown>;
    artifactKeys: string[];
  } | null;
}

export interface EventView {
  jobId: string;
  seq: number;
  kind: string;
  status: string;
  progress: number;
  stage: string | null;
  message: string | null;
  at: string;
}

/** Deterministic n × p matrix with a binary outcome; the first 5 features carry the signal. */
export function syntheticCsv(n: number, p: number, seed = 1): string {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) % 1_000_000) / 1_000_000;
  };
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const header = ['sample', 'y', ...Array.from({ length: p }, (_, j) => `g${j + 1}`)];
  const lines = [header.join(',')];
  for (let i = 0; i < n; i++) {
    const y = i % 2 === 0 ? 'case' : 'ctrl';
    const row = [`S${i + 1}`, y];
    for (let j = 0; j < p; j++) {
      const shift = j < 5 && y === 'case' ? 1.5 : 0;
      row.push((normal() + shift).toFixed(4));
    }
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}

export interface UploadReply {
  data?: { uploadDataset: { id: string; status: string; failureReason: string | null } } | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/**
 * POST a CSV to the GraphQL multipart `uploadDataset` (binary outcome `y`, positive class `case`,
 * sample ids in `sample`) and return the reply as is.
 */
export async function postUpload(
  t: Pick<TestApp, 'url'>,
  token: string,
  csv: string,
  name = 'synthetic',
): Promise<UploadReply> {
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({
      query:
        'mutation($input: DatasetUploadInput!, $file: Upload!) { uploadDataset(input: $input, file: $file) { id status failureReason } }',
      variables: {
        input: {
          name,
          sampleIdColumn: 'sample',
          outcome: { kind: 'BINARY', column: 'y', positiveClass: 'case' },
        },
        file: null,
      },
    }),
  );
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', new Blob([Buffer.from(csv)]), `${name}.csv`);
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    body: form,
  });
  return (await res.json()) as UploadReply;
}

/** Upload a CSV through the GraphQL multipart API; resolves with the READY dataset's id. */
export async function uploadCsv(
  t: TestApp,
  token: string,
  csv: string,
  name = 'synthetic',
): Promise<string> {
  const body = await postUpload(t, token, csv, name);
  const ds = body.data?.uploadDataset;
  if (!ds || ds.status !== 'READY') {
    throw new Error(`dataset upload failed: ${JSON.stringify(body.errors ?? ds)}`);
  }
  return ds.id;
}

export async function gqlOk<T>(
  t: TestApp,
  name: string,
  variables: Record<string, unknown>,
  token: string,
): Promise<T> {
  const res = await t.gql<T>(op(name), variables, token);
  if (!res.data || res.errors?.length) {
    throw new Error(`${name} failed: ${JSON.stringify(res.errors)}`);
  }
  return res.data;
}

export async function getJob(t: TestApp, token: string, id: string): Promise<JobView> {
  return (await gqlOk<{ job: JobView }>(t, 'JobWithResult', { id }, token)).job;
}

/** Poll `job(id)` until `pred` holds; returns the job (throws with the last state on timeout). */
export async function waitForJob(
  t: TestApp,
  token: string,
  id: string,
  pred: (j: JobView) => boolean,
  timeoutMs = 60_000,
): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  let last: JobView | undefined;
  while (Date.now() < deadline) {
    last = await getJob(t, token, id);
    if (pred(last)) return last;
    await new Promise(r => setTimeout(r, 200));
  }
  throw new Error(
    `job ${id} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify(last)}`,
  );
}

/** A FEATURE_SELECTION config that takes a while: stability selection with many subsamples. */
export function slowSelection(nSubsamples: number): Record<string, unknown> {
  return {
    selectors: [
      {
        code: 'stability_selection',
        args: { base: 't_test', base_k: 10, n_subsamples: nSubsamples, threshold: 0.6 },
      },
    ],
  };
}

export const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
