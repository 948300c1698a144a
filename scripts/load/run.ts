/**
 * `npm run load [-- --tiny] [--json file] [--subscribers N] [--events N] [--interval ms]
 *                [--submit-users N] [--submit-seconds S] [--profile dir] [--only abc] [--rounds N]
 *                [--db-pool N] [--ab other-build/dist/scripts/load/server.js]`
 *
 * Load figures on loopback, bounded in time (about 2 minutes; a watchdog stops everything at
 * 175 s). Starts what it needs itself: an embedded PostgreSQL and a redis-server in a temp
 * directory (or LOAD_DATABASE_URL / LOAD_REDIS_URL when set), local storage, the real API in a
 * child process (NODE_ENV=production, rate limiter and quotas on with limits raised for the load
 * users, no workers) and a bare baseline server in another. Then:
 *
 *  (a) authenticated query `me` + `datasets(first: 10)` with a JWT against the API, and the same
 *      query against a bare Apollo Server + JWT verification (same express 5 / Apollo 5 stack,
 *      trivial resolvers, no database), interleaved in rounds so both see the same machine load.
 *      Target: ours ≥ 90 % of bare throughput. Also p50/p99 and API-process CPU ms per request.
 *  (b) fan-out: N graphql-ws clients (a separate process) subscribe to one job's `jobUpdates`;
 *      we write progress events exactly as a worker does (stored with their seq, then published
 *      on Redis) with the publish time in `stage`, and each client records receipt − publish.
 *      Target: p95 < 250 ms for 1,000 subscribers.
 *  (c) `submitJob` through autocannon with distinct idempotency keys. Target ≥ 300 submits/s;
 *      afterwards every acknowledged job must be in PostgreSQL and in its BullMQ queue.
 *
 * Prints one table (measurement, value, target, PASS/MISS). The machine is shared and small:
 * compare the same-run ratios, not absolute numbers.
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { initOrm } from '../../src/orm';
import { publishEvents } from '../../src/modules/jobs/job.events';
import { NOW, transition } from '../../src/modules/jobs/job.store';
import { createPublisher } from '../../src/queue/bus';
import { queueName } from '../../src/queue/names';
import { startEmbeddedPostgres } from '../../src/services/postgres';
import { startRedis } from '../../src/services/redis';
import type { ProfileCommand, ServerReady } from './server';
import { cpuSeconds, fmt, percentile, table } from './stats';
import type {
  SubscribersCount,
  SubscribersReady,
  SubscribersResult,
  SubscribersStart,
} from './subscribers';

interface Options {
  tiny: boolean;
  json: string | null;
  profileDir: string | null;
  subscribers: number;
  events: number;
  eventIntervalMs: number;
  queryConnections: number;
  querySeconds: number;
  queryRounds: number;
  warmupSeconds: number;
  submitConnections: number;
  submitSeconds: number;
  submitUsers: number;
  datasets: number;
  /** `--db-pool N`: the API's PostgreSQL pool size (default: the app's own, 10). */
  dbPool?: number;
  /**
   * `--ab dist/scripts/load/server.js` of ANOTHER build: (a) also measures that build's API (same
   * PostgreSQL, Redis, users and token), in the same alternating rounds — a before/after comparison
   * on the same machine load.
   */
  ab?: string;
  /** `--only a` / `--only bc` …: the measurements to run (the others are skipped). */
  phases: ReadonlySet<'a' | 'b' | 'c'>;
  /**
   * `--no-list-cache`: the API runs with `DATASETS_LIST_CACHE=false`, so every (a) request reads
   * its datasets page from PostgreSQL (by default a repeated list is served from the per-process
   * cache validated by the Redis version token and read from PostgreSQL only after a write).
   */
  noListCache: boolean;
}

export function parseOptions(argv: string[]): Options {
  const tiny = argv.includes('--tiny');
  const o: Options = {
    tiny,
    json: null,
    profileDir: null,
    subscribers: tiny ? 10 : 1000,
    events: tiny ? 3 : 20,
    eventIntervalMs: tiny ? 100 : 250,
    // Enough in flight that a server waiting on PostgreSQL/Redis round trips is still kept busy:
    // throughput at saturation is what is compared, not latency-bound throughput.
    queryConnections: tiny ? 10 : 50,
    querySeconds: tiny ? 1 : 5,
    queryRounds: tiny ? 1 : 2,
    warmupSeconds: tiny ? 1 : 2,
    submitConnections: tiny ? 4 : 20,
    submitSeconds: tiny ? 1 : 8,
    submitUsers: tiny ? 2 : 10,
    datasets: 10,
    phases: new Set(['a', 'b', 'c'] as const),
    noListCache: false,
  };
  const num = (i: number, name: string) => {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') o.json = argv[++i] ?? null;
    else if (a === '--profile') o.profileDir = argv[++i] ?? null;
    else if (a === '--subscribers') o.subscribers = num(i++, a);
    else if (a === '--events') o.events = num(i++, a);
    else if (a === '--interval') {
      // 0: events back to back (each still waits for its own database write).
      o.eventIntervalMs = Number(argv[++i]);
      if (!(o.eventIntervalMs >= 0)) throw new Error('--interval needs a number ≥ 0');
    } else if (a === '--submit-seconds') o.submitSeconds = num(i++, a);
    else if (a === '--submit-users') o.submitUsers = num(i++, a);
    else if (a === '--seconds') o.querySeconds = num(i++, a);
    else if (a === '--rounds') o.queryRounds = num(i++, a);
    else if (a === '--db-pool') o.dbPool = num(i++, a);
    else if (a === '--ab') o.ab = argv[++i];
    else if (a === '--no-list-cache') o.noListCache = true;
    else if (a === '--only') {
      const v = argv[++i] ?? '';
      if (!/^[abc]+$/.test(v)) throw new Error('--only takes letters of a, b, c (e.g. "a", "bc")');
      o.phases = new Set(v.split('') as Array<'a' | 'b' | 'c'>);
    } else if (a !== '--tiny') throw new Error(`unknown option ${a}`);
  }
  return o;
}

const WATCHDOG_MS = 175_000;
/** After the last publish, how long late deliveries are still waited for (they count, late). */
const DELIVERY_WAIT_MS = 10_000;
/** Subscribers not connected and subscribed within this window count as not ready (a MISS). */
const SETUP_WINDOW_MS = 60_000;
/** Time kept for the rest of the run after the subscriber setup (events, waits, phase (c)). */
const RESERVE_AFTER_SETUP_MS = 45_000;
/** Wall-clock end of the run's budget (set in main), so a slow machine shortens waits instead
 * of hitting the watchdog. */
let budgetEnd = Infinity;
const remaining = () => budgetEnd - Date.now();
const PASSWORD = 'load test password 1';
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const say = (line: string) => process.stderr.write(`[load] ${line}\n`);

const QUERY = `query LoadQuery {
  me { id email username role }
  datasets(first: 10) {
    totalCount
    edges { cursor node { id name status sampleCount featureCount } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const SUBMIT = `mutation LoadSubmit($input: SubmitJobInput!) { submitJob(input: $input) { id status } }`;
const JOB_CONFIG = { selectors: [{ code: 't_test', k: 5 }] };

/** A small binary-outcome CSV (sample id, 8 features, y). */
function csv(rows: number, seed: number): string {
  const lines = ['sample,' + Array.from({ length: 8 }, (_, j) => `g${j}`).join(',') + ',y'];
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 4 - 2;
  for (let i = 0; i < rows; i++) {
    const feats = Array.from({ length: 8 }, () => rnd().toFixed(3));
    lines.push(`s${i},${feats.join(',')},${i % 2 ? 'case' : 'control'}`);
  }
  return lines.join('\n') + '\n';
}

// --- children -------------------------------------------------------------------------------

interface Child {
  proc: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

let profileDir: string | null = null;

/** With `--profile dir`: CPU-profile `server` while `fn` runs (dir/<name>.cpuprofile). */
async function profiled<T>(server: Child, name: string, fn: () => Promise<T>): Promise<T> {
  if (!profileDir) return fn();
  const command = (action: 'start' | 'stop', file?: string) => {
    const cmd: ProfileCommand = { kind: 'profile', action, file };
    const done = waitFor<{ kind: 'profiled' }>(server.proc, 'profiled', 30_000, 'profiler');
    server.proc.send(cmd);
    return done;
  };
  await command('start');
  try {
    return await fn();
  } finally {
    await command('stop', join(profileDir, `${name}.cpuprofile`));
  }
}

function waitFor<T extends { kind: string }>(
  proc: ChildProcess,
  kind: T['kind'],
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`${what}: no "${kind}" message in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (m: unknown) => {
      if ((m as { kind?: string })?.kind === kind) done(null, m as T);
    };
    const onExit = (code: number | null) => done(new Error(`${what} exited (${code})`));
    const done = (err: Error | null, value?: T) => {
      clearTimeout(timer);
      proc.off('message', onMessage);
      proc.off('exit', onExit);
      if (err) reject(err);
      else resolve(value!);
    };
    proc.on('message', onMessage);
    proc.once('exit', onExit);
  });
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>(r => proc.once('exit', () => r()));
    // A child already on its way out closes the channel under us (EPIPE): not an error here.
    proc.on('error', () => undefined);
    if (proc.connected) proc.send('stop', err => err && proc.kill('SIGTERM'));
    else proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
}

async function startServer(
  mode: 'api' | 'bare',
  env: NodeJS.ProcessEnv,
  script = join(__dirname, 'server.js'),
): Promise<Child & { port: number }> {
  const proc = fork(script, [mode], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await waitFor<ServerReady>(proc, 'ready', 120_000, `${mode} server`);
  return { proc, pid: proc.pid!, port: ready.port, stop: stopper(proc) };
}

/**
 * CPU seconds used so far by the PostgreSQL and Redis processes this run started (descendants of
 * this process named postgres / redis-server; NaN when none are found, e.g. LOAD_DATABASE_URL).
 * Connections are pooled, so their backends live through a measurement window.
 */
function servicesCpuSeconds(): number {
  const parent = new Map<number, number>();
  const name = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      name.set(pid, stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const ours = (pid: number) => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === process.pid) return true;
    }
    return false;
  };
  let total = 0;
  let found = false;
  for (const [pid, comm] of name) {
    if ((comm === 'postgres' || comm === 'redis-server') && ours(pid)) {
      const cpu = cpuSeconds(pid);
      if (Number.isFinite(cpu)) {
        total += cpu;
        found = true;
      }
    }
  }
  return found ? total : NaN;
}

// --- HTTP helpers ---------------------------------------------------------------------------

interface GqlBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

async function gql<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as GqlBody<T>;
  if (!body.data || body.errors?.length) {
    throw new Error(`GraphQL ${res.status}: ${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data;
}

interface LoadUser {
  id: string;
  token: string;
  datasetIds: string[];
}

async function registerUser(url: string, n: number): Promise<LoadUser> {
  const tag = `${Date.now().toString(36)}${n}`;
  const data = await gql<{ register: { accessToken: string; user: { id: string } } }>(
    url,
    `mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }`,
    { input: { email: `load${tag}@example.org`, username: `load${tag}`, password: PASSWORD } },
  );
  return { id: data.register.user.id, token: data.register.accessToken, datasetIds: [] };
}

async function uploadDataset(url: string, token: string, name: string, seed: number) {
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({
      query:
        'mutation($input: DatasetUploadInput!, $file: Upload!) { uploadDataset(input: $input, file: $file) { id status } }',
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
  form.append('0', new Blob([Buffer.from(csv(20, seed))]), `${name}.csv`);
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    body: form,
  });
  const body = (await res.json()) as GqlBody<{ uploadDataset: { id: string; status: string } }>;
  const ds = body.data?.uploadDataset;
  if (!ds || ds.status !== 'READY') {
    throw new Error(`dataset upload failed: ${JSON.stringify(body.errors ?? ds)}`);
  }
  return ds.id;
}

// --- autocannon -----------------------------------------------------------------------------

interface CannonRun {
  ok: number;
  requests: number;
  non2xx: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

function cannon(opts: autocannon.Options): Promise<CannonRun> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const instance = autocannon(opts, (err, result) => {
      if (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      resolve({
        ok: result['2xx'],
        requests: result.requests.total,
        non2xx: result.non2xx,
        errors: result.errors,
        seconds: result.duration,
        latenciesMs: latencies,
      });
    });
    // The tracker emits (client, status, bytes, responseTime ms); the typings omit `client`.
    (instance as unknown as NodeJS.EventEmitter).on(
      'response',
      (_client: unknown, _status: number, _bytes: number, ms: number) => latencies.push(ms),
    );
  });
}

// --- phases ---------------------------------------------------------------------------------

interface QueryFigures {
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  /** CPU ms per request of the PostgreSQL and Redis processes in the same windows. */
  servicesCpuMsPerRequest: number;
  requests: number;
  non2xx: number;
}

interface QueryPhase {
  connections: number;
  ours: QueryFigures;
  bare: QueryFigures;
  /** ours / bare throughput. */
  ratio: number;
  /** bare CPU ms per request / ours (1 = ours costs the API process as much CPU as bare). */
  cpuRatio: number;
  /** `--ab`: the other build's API, measured in the same rounds. */
  ab?: QueryFigures;
  /** Not measured (`--only` without a): the figures are NaN. */
  skipped?: boolean;
}

type QueryTarget = 'ours' | 'bare' | 'ab';

async function queryPhase(
  o: Options,
  targets: Record<'ours' | 'bare', { url: string; server: Child }> &
    Partial<Record<'ab', { url: string; server: Child }>>,
  token: string,
): Promise<QueryPhase> {
  const body = JSON.stringify({ query: QUERY, operationName: 'LoadQuery' });
  const run = (url: string, seconds: number) =>
    cannon({
      url,
      method: 'POST',
      connections: o.queryConnections,
      duration: seconds,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    });
  const keys: QueryTarget[] = targets.ab ? ['bare', 'ours', 'ab'] : ['bare', 'ours'];
  for (const k of keys) await run(targets[k]!.url, o.warmupSeconds);
  const blank = () => ({ ok: 0, req: 0, non2xx: 0, s: 0, cpu: 0, svc: 0, lat: [] as number[] });
  const acc = { ours: blank(), bare: blank(), ab: blank() };
  for (let round = 0; round < o.queryRounds; round++) {
    // Alternate the order so neither side always runs right after the other's burst.
    const order = round % 2 ? [...keys].reverse() : keys;
    for (const k of order) {
      const { server, url } = targets[k]!;
      const cpu0 = cpuSeconds(server.pid);
      const svc0 = servicesCpuSeconds();
      const r = await profiled(server, `${k}-query-${round + 1}`, () => run(url, o.querySeconds));
      const a = acc[k];
      a.cpu += cpuSeconds(server.pid) - cpu0;
      a.svc += servicesCpuSeconds() - svc0;
      a.ok += r.ok;
      a.req += r.requests;
      a.non2xx += r.non2xx;
      a.s += r.seconds;
      for (const v of r.latenciesMs) a.lat.push(v);
      say(`(a) ${k} round ${round + 1}: ${fmt(r.ok / r.seconds)} req/s`);
    }
  }
  const figures = (k: QueryTarget): QueryFigures => {
    const a = acc[k];
    return {
      rps: a.ok / a.s,
      p50: percentile(a.lat, 50),
      p99: percentile(a.lat, 99),
      cpuMsPerRequest: (a.cpu * 1000) / Math.max(1, a.req),
      servicesCpuMsPerRequest: (a.svc * 1000) / Math.max(1, a.req),
      requests: a.req,
      non2xx: a.non2xx,
    };
  };
  const ours = figures('ours');
  const bare = figures('bare');
  return {
    connections: o.queryConnections,
    ours,
    bare,
    ratio: ours.rps / bare.rps,
    cpuRatio: bare.cpuMsPerRequest / ours.cpuMsPerRequest,
    ...(targets.ab ? { ab: figures('ab') } : {}),
  };
}

interface FanOutPhase {
  subscribers: number;
  ready: number;
  events: number;
  delivered: number;
  expected: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  setupSeconds: number;
  apiCpuSeconds: number;
  errors: string[];
}

async function fanOutPhase(
  o: Options,
  ctx: {
    url: string;
    wsUrl: string;
    user: LoadUser;
    api: Child;
    knex: FanOutCtxKnex;
    redisUrl: string;
    prefix: string;
  },
): Promise<FanOutPhase> {
  const { submitJob } = await gql<{ submitJob: { id: string } }>(
    ctx.url,
    SUBMIT,
    {
      input: {
        type: 'FEATURE_SELECTION',
        datasetId: ctx.user.datasetIds[0],
        device: 'CPU',
        config: JOB_CONFIG,
        idempotencyKey: 'load-fanout',
      },
    },
    ctx.user.token,
  );
  const jobId = submitJob.id;
  // Play the worker: claim the job (QUEUED → RUNNING), then write progress the way it does.
  const u = new URL(ctx.redisUrl);
  const bus = createPublisher({ host: u.hostname, port: Number(u.port) }, ctx.prefix);
  const started = await transition(ctx.knex, jobId, {
    from: ['QUEUED'],
    to: 'RUNNING',
    kind: 'STATUS',
    patch: { message: 'Running (load test)', startedAt: NOW },
  });
  if (!started) throw new Error('fan-out job could not be set RUNNING');
  publishEvents(bus, started.events);
  const lastSeq = started.job.lastSeq;

  const proc = fork(join(__dirname, 'subscribers.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = stopper(proc);
  try {
    const start: SubscribersStart = {
      kind: 'start',
      wsUrl: ctx.wsUrl,
      token: ctx.user.token,
      jobId,
      afterSeq: lastSeq - 1,
      count: o.subscribers,
      concurrency: 50,
      // The setup window shrinks when earlier phases ran slow (a loaded machine).
      readyTimeoutMs: Math.max(
        10_000,
        Math.min(SETUP_WINDOW_MS, remaining() - RESERVE_AFTER_SETUP_MS),
      ),
    };
    proc.send(start);
    const ready = await waitFor<SubscribersReady>(
      proc,
      'ready',
      SETUP_WINDOW_MS + 15_000,
      'subscribers',
    );
    say(
      `(b) ${ready.ready}/${o.subscribers} subscribers ready in ${fmt(ready.setupMs / 1000, 1)} s` +
        (ready.errors.length ? ` (first error: ${ready.errors[0]})` : ''),
    );
    const cpu0 = cpuSeconds(ctx.api.pid);
    await profiled(ctx.api, 'api-fanout', async () => {
      for (let i = 1; i <= o.events; i++) {
        const t = now();
        const tr = await transition(ctx.knex, jobId, {
          from: ['RUNNING'],
          to: 'RUNNING',
          kind: 'PROGRESS',
          patch: { progress: Math.round((i / (o.events + 1)) * 1000) / 10, stage: `load:${t}` },
        });
        if (!tr) throw new Error('progress write matched no row');
        publishEvents(bus, tr.events);
        const wait = t + o.eventIntervalMs - now();
        if (wait > 0) await sleep(wait);
      }
      // Wait until every ready client has every event, or for at most DELIVERY_WAIT_MS more.
      const expected = ready.ready * o.events;
      const deadline =
        Date.now() + Math.min(DELIVERY_WAIT_MS, Math.max(2000, remaining() - 30_000));
      while (Date.now() < deadline) {
        const counted = waitFor<SubscribersCount>(proc, 'count', 10_000, 'subscribers');
        proc.send('count');
        if ((await counted).received >= expected) break;
        await sleep(100);
      }
    });
    const apiCpu = cpuSeconds(ctx.api.pid) - cpu0;
    // End the job while the clients are still there: the server completes every stream itself
    // (no writes to sockets closed under it), and the reconciler has nothing to repair.
    await transition(ctx.knex, jobId, {
      from: ['RUNNING'],
      to: 'CANCELLED',
      kind: 'STATUS',
      patch: { message: 'Load test over' },
    }).then(t => t && publishEvents(bus, t.events));
    await sleep(Math.min(5000, 500 + o.subscribers * 2));
    const result = await new Promise<SubscribersResult>((resolve, reject) => {
      waitFor<SubscribersResult>(proc, 'result', 30_000, 'subscribers').then(resolve).catch(reject);
      proc.send('finish');
    });
    const lat = result.latenciesMs;
    return {
      subscribers: o.subscribers,
      ready: ready.ready,
      events: o.events,
      delivered: lat.length,
      expected: ready.ready * o.events,
      p50: percentile(lat, 50),
      p95: percentile(lat, 95),
      p99: percentile(lat, 99),
      max: lat.length ? Math.max(...lat) : NaN,
      setupSeconds: ready.setupMs / 1000,
      apiCpuSeconds: apiCpu,
      errors: [...ready.errors, ...result.errors].slice(0, 5),
    };
  } finally {
    await stop();
    await bus.close();
  }
}

interface SubmitPhase {
  rate: number;
  /** API-process CPU per request. */
  cpuMsPerSubmit: number;
  acknowledged: number;
  requests: number;
  failed: number;
  p50: number;
  p99: number;
  inDb: number;
  inQueue: number;
  dbTotal: number;
  firstError: string | null;
  countsMatch: boolean;
}

async function submitPhase(
  o: Options,
  ctx: {
    url: string;
    users: LoadUser[];
    api: Child;
    knex: FanOutCtxKnex;
    redisUrl: string;
    prefix: string;
  },
): Promise<SubmitPhase> {
  const run = randomUUID().slice(0, 8);
  let n = 0;
  const ids: string[] = [];
  let failed = 0;
  let firstError: string | null = null;
  const cpu0 = cpuSeconds(ctx.api.pid);
  const result = await profiled(ctx.api, 'api-submit', () =>
    cannon({
      url: ctx.url,
      method: 'POST',
      connections: o.submitConnections,
      duration: o.submitSeconds,
      headers: { 'content-type': 'application/json' },
      requests: [
        {
          method: 'POST',
          setupRequest: req => {
            const i = n++;
            const user = ctx.users[i % ctx.users.length]!;
            return {
              ...req,
              headers: { ...req.headers, authorization: `Bearer ${user.token}` },
              body: JSON.stringify({
                query: SUBMIT,
                operationName: 'LoadSubmit',
                variables: {
                  input: {
                    type: 'FEATURE_SELECTION',
                    datasetId: user.datasetIds[0],
                    device: 'CPU',
                    config: JOB_CONFIG,
                    idempotencyKey: `load-${run}-${i}`,
                  },
                },
              }),
            };
          },
          onResponse: (status, body) => {
            try {
              const b = JSON.parse(body) as GqlBody<{ submitJob: { id: string } }>;
              if (status === 200 && b.data?.submitJob?.id) {
                ids.push(b.data.submitJob.id);
                return;
              }
              firstError ??= `${status} ${JSON.stringify(b.errors?.[0] ?? b).slice(0, 200)}`;
            } catch {
              firstError ??= `${status} ${body.slice(0, 200)}`;
            }
            failed++;
          },
        },
      ],
    }),
  );
  const apiCpu = cpuSeconds(ctx.api.pid) - cpu0;
  // Requests still in flight when autocannon stopped may finish on the server: let them.
  await sleep(1500);
  const [dbRow] = (
    (await ctx.knex.raw(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE id = ANY(?::uuid[]))::int AS acked
         FROM jobs WHERE idempotency_key LIKE ?`,
      [ids, `load-${run}-%`],
    )) as { rows: Array<{ total: number; acked: number }> }
  ).rows;
  const redis = new Redis(ctx.redisUrl, { lazyConnect: false });
  let inQueue = 0;
  try {
    const key = (id: string) => `${ctx.prefix}:${queueName('cpu')}:${id}`;
    for (let i = 0; i < ids.length; i += 1000) {
      const pipe = redis.pipeline();
      for (const id of ids.slice(i, i + 1000)) pipe.exists(key(id));
      const res = (await pipe.exec()) ?? [];
      inQueue += res.filter(([err, v]) => !err && v === 1).length;
    }
  } finally {
    redis.disconnect();
  }
  const acknowledged = ids.length;
  return {
    rate: acknowledged / result.seconds,
    cpuMsPerSubmit: (apiCpu * 1000) / Math.max(1, result.requests),
    acknowledged,
    requests: result.requests,
    failed: failed + result.errors,
    p50: percentile(result.latenciesMs, 50),
    p99: percentile(result.latenciesMs, 99),
    inDb: dbRow?.acked ?? 0,
    inQueue,
    dbTotal: dbRow?.total ?? 0,
    firstError,
    countsMatch: acknowledged > 0 && dbRow?.acked === acknowledged && inQueue === acknowledged,
  };
}

type FanOutCtxKnex = ReturnType<Awaited<ReturnType<typeof initOrm>>['em']['getKnex']>;

// --- report ---------------------------------------------------------------------------------

export interface LoadReport {
  machine: { cpus: number; model: string; loadavg: number[] };
  options: Options;
  query: QueryPhase;
  /** Absent when `--only` leaves them out. */
  fanOut?: FanOutPhase;
  submit?: SubmitPhase;
  table: string;
  seconds: number;
}

const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');
const lat = (p50: number, p99: number) => `p50 ${fmt(p50, 1)} ms, p99 ${fmt(p99, 1)} ms`;

function queryRows(q: QueryPhase, listCache: boolean): string[][] {
  if (q.skipped) return [['(a) authenticated query', 'skipped (--only)', '≥ 90 %', '']];
  return [
    [
      `(a) bare Apollo + JWT verify, no DB (${q.connections} conn.)`,
      `${fmt(q.bare.rps)} req/s, ${lat(q.bare.p50, q.bare.p99)}, ${fmt(q.bare.cpuMsPerRequest, 2)} CPU ms/req`,
      'baseline',
      '',
    ],
    [
      `(a) ours: me + datasets(first: 10)${listCache ? '' : ', list cache off'} (${q.connections} conn.)`,
      `${fmt(q.ours.rps)} req/s, ${lat(q.ours.p50, q.ours.p99)}, ${fmt(q.ours.cpuMsPerRequest, 2)} CPU ms/req` +
        ` (+ PostgreSQL and Redis ${fmt(q.ours.servicesCpuMsPerRequest, 2)})` +
        (q.ours.non2xx ? `, ${q.ours.non2xx} non-2xx` : ''),
      '',
      '',
    ],
    [
      '(a) ours / bare throughput',
      `${fmt(q.ratio * 100, 1)} % (CPU/req bare/ours ${fmt(q.cpuRatio * 100, 1)} %)`,
      '≥ 90 %',
      pass(q.ratio >= 0.9 && q.ours.non2xx === 0),
    ],
    ...(q.ab
      ? [
          [
            '(a) --ab build: me + datasets(first: 10)',
            `${fmt(q.ab.rps)} req/s, ${lat(q.ab.p50, q.ab.p99)}, ${fmt(q.ab.cpuMsPerRequest, 2)} CPU ms/req` +
              ` (+ ${fmt(q.ab.servicesCpuMsPerRequest, 2)}); ${fmt((q.ab.rps / q.bare.rps) * 100, 1)} % of bare` +
              ` (CPU/req ${fmt((q.bare.cpuMsPerRequest / q.ab.cpuMsPerRequest) * 100, 1)} %)` +
              (q.ab.non2xx ? `, ${q.ab.non2xx} non-2xx` : ''),
            '',
            '',
          ],
        ]
      : []),
  ];
}

function render(q: QueryPhase, listCache: boolean, f?: FanOutPhase, s?: SubmitPhase): string {
  return table(
    ['measurement', 'value', 'target', 'result'],
    [...queryRows(q, listCache), ...(f ? [fanOutRow(f)] : []), ...(s ? submitRows(s) : [])],
  );
}

function fanOutRow(f: FanOutPhase): string[] {
  return [
    `(b) fan-out: ${fmt(f.subscribers)} subscribers × ${f.events} events`,
    `p50 ${fmt(f.p50, 1)} ms, p95 ${fmt(f.p95, 1)} ms, p99 ${fmt(f.p99, 1)} ms, max ${fmt(f.max, 1)} ms; ` +
      `${fmt(f.delivered)}/${fmt(f.expected)} delivered, ${f.ready} ready; ` +
      `API CPU ${fmt((f.apiCpuSeconds * 1000) / Math.max(1, f.delivered), 3)} ms/delivery`,
    'p95 < 250 ms, all delivered',
    pass(f.p95 < 250 && f.delivered === f.expected && f.ready === f.subscribers && f.expected > 0),
  ];
}

function submitRows(s: SubmitPhase): string[][] {
  return [
    [
      '(c) submitJob rate',
      `${fmt(s.rate)} submits/s, ${lat(s.p50, s.p99)}, ${fmt(s.cpuMsPerSubmit, 2)} CPU ms/req; ` +
        `${fmt(s.acknowledged)} acknowledged, ${s.failed} failed`,
      '≥ 300 /s',
      pass(s.rate >= 300 && s.failed === 0),
    ],
    [
      '(c) acknowledged jobs in DB / in queue',
      `${fmt(s.inDb)} / ${fmt(s.inQueue)} of ${fmt(s.acknowledged)} (${fmt(s.dbTotal)} rows incl. in-flight)`,
      'all',
      pass(s.countsMatch),
    ],
  ];
}

function skippedQuery(o: Options): QueryPhase {
  const none: QueryFigures = {
    rps: NaN,
    p50: NaN,
    p99: NaN,
    cpuMsPerRequest: NaN,
    servicesCpuMsPerRequest: NaN,
    requests: 0,
    non2xx: 0,
  };
  const q = { connections: o.queryConnections, ours: none, bare: none };
  return { ...q, ratio: NaN, cpuRatio: NaN, skipped: true };
}

// --- main -----------------------------------------------------------------------------------

export async function main(argv = process.argv.slice(2)): Promise<LoadReport> {
  const o = parseOptions(argv);
  profileDir = o.profileDir;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const t0 = Date.now();
  budgetEnd = t0 + WATCHDOG_MS - 10_000;
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
  };
  const watchdog = setTimeout(() => {
    say(`watchdog: still running after ${WATCHDOG_MS / 1000} s; stopping`);
    void cleanup().finally(() => process.exit(2));
  }, WATCHDOG_MS);
  watchdog.unref();
  try {
    const tmp = mkdtempSync(join(tmpdir(), 'omicselector-load-'));
    chmodSync(tmp, 0o755); // embedded PostgreSQL runs as `postgres` when we are root
    cleanups.push(async () => rmSync(tmp, { recursive: true, force: true }));
    const id = randomBytes(4).toString('hex');
    let databaseUrl = process.env.LOAD_DATABASE_URL;
    let redisUrl = process.env.LOAD_REDIS_URL;
    if (!databaseUrl) {
      say('starting embedded PostgreSQL');
      const pg = await startEmbeddedPostgres({ dataDir: join(tmp, 'pg'), ephemeral: true });
      cleanups.push(() => pg.stop());
      databaseUrl = pg.urlFor('omicselector_load');
    }
    if (!redisUrl) {
      const redis = await startRedis();
      cleanups.push(() => redis.stop());
      redisUrl = redis.url;
    }
    const prefix = `load${id}`;
    const dataDir = join(tmp, 'app');
    mkdirSync(dataDir, { recursive: true });
    const jwtSecret = randomBytes(32).toString('base64url');
    const apiEnv: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dataDir,
      JWT_SECRET: jwtSecret,
      REDIS_PREFIX: prefix,
      LOAD_DATABASE_URL: databaseUrl,
      LOAD_REDIS_URL: redisUrl,
      ...(o.dbPool ? { LOAD_DB_POOL_MAX: String(o.dbPool) } : {}),
      ...(o.noListCache ? { DATASETS_LIST_CACHE: 'false' } : {}),
      // Limits on (the round trips are part of what we measure), raised for the load users.
      RATE_LIMIT_PER_USER: '1000000',
      RATE_LIMIT_PER_IP: '1000000',
      QUOTA_CONCURRENT_JOBS: '10000',
      QUOTA_DATASETS: '1000',
      RETENTION_INTERVAL: '0',
      // 1,000 sockets of one user on one job: the per-user WebSocket caps raised accordingly.
      WS_MAX_CONNECTIONS_PER_USER: String(Math.max(10, o.subscribers + 10)),
      WS_MAX_SUBSCRIPTIONS_PER_USER: String(Math.max(50, o.subscribers + 10)),
    };
    const withQuery = o.phases.has('a');
    say(`starting the API${withQuery ? ' and the bare baseline server' : ''}`);
    const [api, bare, ab] = await Promise.all([
      startServer('api', apiEnv),
      // Production mode like the API (graphql-js then skips its development-only checks).
      withQuery
        ? startServer('bare', { ...process.env, NODE_ENV: 'production', JWT_SECRET: jwtSecret })
        : null,
      withQuery && o.ab ? startServer('api', apiEnv, o.ab) : null,
    ]);
    cleanups.push(
      () => api.stop(),
      async () => bare?.stop(),
      async () => ab?.stop(),
    );
    const url = `http://127.0.0.1:${api.port}/graphql`;
    const wsUrl = `ws://127.0.0.1:${api.port}/graphql`;
    const bareUrl = bare ? `http://127.0.0.1:${bare.port}/graphql` : null;
    const abUrl = ab ? `http://127.0.0.1:${ab.port}/graphql` : null;
    const orm = await initOrm({ clientUrl: databaseUrl, poolMax: 4 });
    cleanups.push(() => orm.close(true));
    const knex = orm.em.getKnex();

    say('creating load users and datasets');
    const users: LoadUser[] = [];
    for (let i = 0; i < Math.max(1, o.submitUsers); i++) users.push(await registerUser(url, i));
    const main = users[0]!;
    for (let i = 0; i < o.datasets; i++)
      main.datasetIds.push(await uploadDataset(url, main.token, `load-${i}`, i + 1));
    for (const u of users.slice(1))
      u.datasetIds.push(await uploadDataset(url, u.token, 'load', 99));

    // Both endpoints answer the same query with the same shape before anything is timed.
    for (const target of [url, bareUrl, abUrl].filter(u => u !== null)) {
      const d = await gql<{ me: { id: string }; datasets: { edges: unknown[] } }>(
        target,
        QUERY,
        {},
        main.token,
      );
      if (d.me.id !== main.id || d.datasets.edges.length !== Math.min(10, o.datasets)) {
        throw new Error(`unexpected answer from ${target}: ${JSON.stringify(d).slice(0, 200)}`);
      }
    }

    let query: QueryPhase;
    if (bare) {
      say('(a) authenticated query vs bare Apollo + JWT');
      query = await queryPhase(
        o,
        {
          ours: { url, server: api },
          bare: { url: bareUrl!, server: bare },
          ...(ab ? { ab: { url: abUrl!, server: ab } } : {}),
        },
        main.token,
      );
      await bare.stop();
      await ab?.stop();
    } else query = skippedQuery(o);

    let fanOut: FanOutPhase | undefined;
    let submit: SubmitPhase | undefined;
    if (o.phases.has('b')) {
      say(`(b) fan-out to ${o.subscribers} subscribers`);
      fanOut = await fanOutPhase(o, {
        url,
        wsUrl,
        user: main,
        api,
        knex,
        redisUrl,
        prefix,
      });
    }
    if (o.phases.has('c')) {
      say('(c) submitJob rate');
      submit = await submitPhase(o, { url, users, api, knex, redisUrl, prefix });
    }

    const text = render(query, !o.noListCache, fanOut, submit);
    const report: LoadReport = {
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', loadavg: loadavg() },
      options: o,
      query,
      fanOut,
      submit,
      table: text,
      seconds: (Date.now() - t0) / 1000,
    };
    process.stdout.write(
      `\nLoad figures (${report.machine.cpus} CPUs, ${report.machine.model}, ` +
        `load average ${loadavg()
          .map(v => v.toFixed(1))
          .join(' ')}; ${fmt(report.seconds)} s)\n\n${text}\n`,
    );
    if (fanOut?.errors.length) say(`(b) errors: ${fanOut.errors.join(' | ')}`);
    if (submit?.firstError) say(`(c) first failed submit: ${submit.firstError}`);
    if (o.json) writeFileSync(o.json, JSON.stringify(report, null, 2));
    return report;
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    err => {
      process.stderr.write(`load failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
