/**
 * The `omicselector` remote commands as a user runs them: `node bin/omicselector.js …` spawned
 * against a running server (and a real worker process), with its own config dir. Covers login →
 * whoami → datasets upload/list/show → jobs submit/show/watch/cancel → results, API keys, token
 * rotation persisted to the config file, logout, and usage errors (exit 2).
 */
import 'reflect-metadata';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobProgressView } from '../../cli/progress';
import { TokenSigner } from '../../src/modules/accounts/tokens';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';
import {
  ensureBuilt,
  FAST_JOB_ENV,
  slowSelection,
  startWorker,
  stopAllWorkers,
  syntheticCsv,
  waitForJob,
} from '../helpers/worker';

Object.assign(process.env, FAST_JOB_ENV);
jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'omicselector.js');
const CLI_MAIN = join(ROOT, 'dist', 'cli', 'main.js');

function newest(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n = Math.max(n, newest(p));
    else if (e.name.endsWith('.ts')) n = Math.max(n, statSync(p).mtimeMs);
  }
  return n;
}

/** dist/ for the worker (ensureBuilt) and for the CLI (cli/, sdk/), one build at a time. */
async function ensureCliBuilt(): Promise<void> {
  await ensureBuilt();
  const lock = join(tmpdir(), 'omicselector-jobs-build.lock');
  for (;;) {
    const sources = Math.max(newest(join(ROOT, 'cli')), newest(join(ROOT, 'sdk')));
    if (existsSync(CLI_MAIN) && statSync(CLI_MAIN).mtimeMs >= sources) return;
    let fd: number;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      await new Promise(r => setTimeout(r, 1000));
      continue;
    }
    try {
      // Type errors in files being edited elsewhere do not stop the emit.
      spawnSync(
        process.execPath,
        [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
        {
          cwd: ROOT,
          stdio: 'ignore',
        },
      );
      if (!existsSync(CLI_MAIN)) throw new Error('the build did not produce dist/cli/main.js');
      return;
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('omicselector CLI against a running server', () => {
  let t: TestApp;
  let dir: string;
  let configFile: string;
  let user: { email: string; username: string; password: string; id: string };
  let csv: string;
  let configJson: string;
  let datasetId: string;

  /** Spawns the CLI (never spawnSync: the server answering it runs in this process). */
  function cli(
    args: string[],
    opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<Run> {
    return new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, [BIN, ...args], {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          OMICSELECTOR_CONFIG: configFile,
          ...opts.env,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', b => (stdout += b));
      proc.stderr.on('data', b => (stderr += b));
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`omicselector ${args.join(' ')} timed out:\n${stdout}\n${stderr}`));
      }, opts.timeoutMs ?? 60_000);
      proc.on('close', code => {
        clearTimeout(timer);
        // CLI_TEST_ECHO=1 shows every run's output (to see what users see).
        if (process.env.CLI_TEST_ECHO) {
          process.stderr.write(`$ omicselector ${args.join(' ')}  → ${code}\n${stdout}${stderr}\n`);
        }
        resolve({ code, stdout, stderr });
      });
      proc.stdin.end(opts.input ?? '');
    });
  }

  const json = <T = Record<string, unknown>>(r: Run): T => {
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const config = () =>
    JSON.parse(readFileSync(configFile, 'utf8')) as {
      currentServer?: string;
      servers: Record<string, { tokens?: { accessToken: string; refreshToken: string } }>;
    };

  beforeAll(async () => {
    await ensureCliBuilt();
    t = await startTestApp();
    dir = mkdtempSync(join(tmpdir(), 'cli-remote-'));
    configFile = join(dir, 'xdg', 'omicselector', 'config.json');
    csv = join(dir, 'tumour.csv');
    writeFileSync(csv, syntheticCsv(40, 25));
    configJson = join(dir, 'fs.json');
    writeFileSync(configJson, JSON.stringify({ selectors: [{ code: 't_test', k: 4 }] }));
    user = await registerUser(t);
    // RESEARCHER: needed for the GPU/benchmark paths; CPU feature selection works for USER too.
    await setRoleInDb(t, user.id, 'RESEARCHER');
  });

  afterAll(async () => {
    await stopAllWorkers();
    await t?.close();
  });

  test('login with --password-stdin stores tokens in a 0600 config file; a wrong password exits 1', async () => {
    const bad = await cli(
      ['login', '--server', t.baseUrl, '--email', user.email, '--password-stdin'],
      {
        input: 'not the password\n',
      },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/UNAUTHENTICATED/);
    expect(existsSync(configFile)).toBe(false);

    const ok = json<{ server: string; user: { email: string }; auth: string }>(
      await cli(
        ['login', '--server', t.baseUrl, '--email', user.email, '--password-stdin', '--json'],
        {
          input: `${user.password}\n`,
        },
      ),
    );
    expect(ok).toMatchObject({ server: t.url, user: { email: user.email }, auth: 'token' });
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    const stored = config();
    expect(stored.currentServer).toBe(t.url);
    expect(stored.servers[t.url]!.tokens!.refreshToken).toMatch(/^ort_/);
  });

  test('whoami uses the last server; OMICSELECTOR_URL and --server override it', async () => {
    const me = json<{ user: { username: string; role: string }; auth: string }>(
      await cli(['whoami', '--json']),
    );
    expect(me.user).toMatchObject({ username: user.username, role: 'RESEARCHER' });
    const text = await cli(['whoami']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${user.username} <${user.email}>`);

    const elsewhere = await cli(['whoami'], { env: { OMICSELECTOR_URL: 'http://127.0.0.1:9' } });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/not logged in to http:\/\/127\.0\.0\.1:9\/graphql/);
  });

  test('datasets upload (multipart and presigned), list, show; usage errors exit 2', async () => {
    const up = json<{
      id: string;
      status: string;
      sampleCount: number;
      outcome: { classes: string[] };
    }>(
      await cli([
        'datasets',
        'upload',
        csv,
        '--name',
        'tumour vs normal',
        '--outcome',
        'binary',
        '--target',
        'y',
        '--positive-class',
        'case',
        '--sample-id',
        'sample',
        '--data-type',
        'bulk_rna_seq',
        '--json',
      ]),
    );
    expect(up).toMatchObject({
      status: 'READY',
      sampleCount: 40,
      outcome: { classes: ['ctrl', 'case'] },
    });
    datasetId = up.id;

    const presigned = await cli([
      'datasets',
      'upload',
      csv,
      '--outcome',
      'binary',
      '--target',
      'y',
      '--positive-class',
      'case',
      '--sample-id',
      'sample',
      '--presigned',
    ]);
    expect(presigned.code).toBe(0);
    expect(presigned.stdout).toMatch(/^Uploaded [0-9a-f-]{36}/);
    expect(presigned.stdout).toMatch(/features\s+25/);
    expect(presigned.stdout).toMatch(/BINARY y: ctrl 20, case 20/);

    const listed = json<{
      totalCount: number;
      edges: Array<{ node: { id: string; name: string } }>;
    }>(await cli(['datasets', 'list', '--json']));
    expect(listed.totalCount).toBe(2);
    expect(listed.edges.map(e => e.node.name)).toEqual(['tumour', 'tumour vs normal']);
    const table = await cli(['datasets', 'list']);
    expect(table.stdout).toMatch(/tumour vs normal\s+READY\s+40\s+25\s+BINARY/);

    const shown = await cli(['datasets', 'show', datasetId]);
    expect(shown.stdout).toMatch(/data type\s+BULK_RNA_SEQ/);

    const usage = await cli(['datasets', 'upload', csv, '--outcome', 'binary']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--target: required with --outcome binary/);
    const badKind = await cli(['datasets', 'upload', csv, '--outcome', 'ordinal']);
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toMatch(/--outcome: "ordinal" is not one of/);

    const rejected = await cli(['datasets', 'show', '00000000-0000-4000-8000-000000000000']);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toMatch(/NOT_FOUND/);
  });

  test('jobs submit/show, watch to COMPLETED (exit 0), results show/export/download', async () => {
    const job = json<{ id: string; status: string; type: string }>(
      await cli([
        'jobs',
        'submit',
        '--type',
        'feature-selection',
        '--dataset',
        datasetId,
        '--config',
        `@${configJson}`,
        '--device',
        'cpu',
        '--json',
      ]),
    );
    expect(job).toMatchObject({ status: 'QUEUED', type: 'FEATURE_SELECTION' });
    const shown = json<{ id: string; status: string; config: { selectors: unknown[] } }>(
      await cli(['jobs', 'show', job.id, '--json']),
    );
    expect(shown.id).toBe(job.id);
    expect(shown.config.selectors).toHaveLength(1);

    const worker = startWorker(t, { pool: 'cpu' });
    await worker.live();
    const watched = await cli(['jobs', 'watch', job.id], { timeoutMs: 120_000 });
    // stderr in the failure message: it says how the job or the event stream ended.
    expect({ code: watched.code, stderr: watched.stderr }).toEqual({
      code: 0,
      stderr: expect.stringContaining(`${job.id}: COMPLETED`),
    });
    // Not a terminal: one line per status change / 10 % step, ending with the final state.
    expect(watched.stderr).toMatch(/\[#{30}\] 100%\s+COMPLETED/);
    expect(watched.stderr).toMatch(/RUNNING/);
    expect(watched.stderr.trim().split('\n').at(-1)).toBe(`${job.id}: COMPLETED`);

    const summary = json<{
      summary: { selected: number };
      tables: Array<{ name: string; rows: number }>;
      artifacts: Array<{ name: string; kind: string; bytes: number }>;
    }>(await cli(['results', 'show', job.id, '--json']));
    expect(summary.summary.selected).toBe(4);
    // The typed tables: one feature row per scored feature first.
    expect(summary.tables[0]).toEqual({
      name: 'features',
      columns: expect.any(Array),
      rows: 25,
    });
    expect(summary.tables.map(t => t.name)).toContain('signatures');
    const text = await cli(['results', 'show', job.id]);
    expect(text.stdout).toMatch(/t_test: g\d+, g\d+, g\d+, g\d+/);

    const exported = await cli(['results', 'export', job.id, '--format', 'csv']);
    const lines = exported.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'source,rank,feature,score,selected,frequency,p_value,adjusted_p_value,statistic,votes',
    );
    expect(lines).toHaveLength(26);
    const cells = lines.slice(1).map(l => l.split(','));
    expect(cells.map(c => c[1])).toEqual(cells.map((_, i) => String(i + 1)));
    expect(cells.slice(0, 4).every(c => c[4] === 'true')).toBe(true);
    expect(cells.slice(4).every(c => c[4] === 'false')).toBe(true);
    // t_test: every row has a p-value in [0, 1].
    expect(cells.every(c => Number(c[6]) >= 0 && Number(c[6]) <= 1 && c[6] !== '')).toBe(true);
    const sig = await cli([
      'results',
      'export',
      job.id,
      '--format',
      'csv',
      '--table',
      'signatures',
    ]);
    expect(sig.stdout.split('\n')[0]).toBe('name,n_features,source,selector,features');
    // A table only the raw document has is still reachable by name.
    const selectors = await cli(['results', 'export', job.id, '--table', 'selectors']);
    expect(selectors.code).toBe(0);
    expect(selectors.stdout.split('\n')[0]).toContain('selector');

    const out = join(dir, 'results');
    const dl = json<{
      files: string[];
      artifacts: Array<{ name: string; bytes: number; path: string }>;
    }>(await cli(['results', 'download', job.id, '--out', out, '--json']));
    const rel = dl.files.map(f => f.slice(out.length + 1));
    expect(rel).toEqual(
      expect.arrayContaining([
        'job.json',
        'result.json',
        'tables/features.csv',
        'tables/signatures.csv',
      ]),
    );
    // Artifacts come through their presigned URLs, byte for byte.
    expect(dl.artifacts.length).toBe(summary.artifacts.length);
    for (const a of dl.artifacts) {
      expect(a.path).toBe(join(out, 'artifacts', a.name));
      expect(statSync(a.path).size).toBe(a.bytes);
    }
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as {
      signatures: Array<{ features: string[] }>;
      data: { signatures: Array<{ features: string[] }> };
    };
    expect(result.signatures[0]!.features).toHaveLength(4);
    expect(result.data.signatures[0]!.features).toHaveLength(4);

    const listed = await cli(['jobs', 'list', '--status', 'completed']);
    expect(listed.stdout).toContain(job.id);
    await worker.stop();
  });

  test('watch exits 1 when the job is cancelled; --json prints NDJSON events', async () => {
    const worker = startWorker(t, { pool: 'cpu' });
    await worker.live();
    const job = json<{ id: string }>(
      await cli(
        [
          'jobs',
          'submit',
          '--type',
          'FEATURE_SELECTION',
          '--dataset',
          datasetId,
          '--config',
          '-',
          '--json',
        ],
        { input: JSON.stringify(slowSelection(5000)) },
      ),
    );
    const watching = cli(['jobs', 'watch', job.id, '--json'], { timeoutMs: 120_000 });
    const token = config().servers[t.url]!.tokens!.accessToken;
    await waitForJob(t, token, job.id, j => j.status === 'RUNNING');
    const cancelled = await cli(['jobs', 'cancel', job.id]);
    expect(cancelled.stdout).toMatch(/CANCELLED|RUNNING/);
    const watched = await watching;
    expect({ code: watched.code, stderr: watched.stderr }).toEqual({
      code: 1,
      stderr: expect.stringContaining('CANCELLED'),
    });
    const events = watched.stdout
      .trim()
      .split('\n')
      .map(l => JSON.parse(l) as { seq: number; status: string });
    expect(events.at(-1)!.status).toBe('CANCELLED');
    expect(events.map(e => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(watched.stderr).toMatch(/CANCELLED/);
    await worker.stop();
  });

  test('an access token refused by the server is refreshed; the rotated pair is saved', async () => {
    const before = config().servers[t.url]!.tokens!;
    const file = config();
    // Valid-looking but signed with another key: the CLI must fall back to its refresh token.
    file.servers[t.url]!.tokens!.accessToken = (
      await new TokenSigner(randomBytes(32).toString('base64url'), 900).sign(user.id, 0)
    ).token;
    writeFileSync(configFile, JSON.stringify(file));
    const me = await cli(['whoami', '--json']);
    expect(me.code).toBe(0);
    const after = config().servers[t.url]!.tokens!;
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(file.servers[t.url]!.tokens!.accessToken);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect((await cli(['whoami'])).code).toBe(0);
  });

  test('api-keys create/list/revoke; OMICSELECTOR_API_KEY and login --api-key', async () => {
    const created = json<{ secret: string; apiKey: { id: string } }>(
      await cli(['api-keys', 'create', 'nightly', '--expires-in-days', '7', '--json']),
    );
    expect(created.secret).toMatch(/^osk_/);
    const viaEnv = json<{ auth: string; user: { email: string } }>(
      await cli(['whoami', '--json'], { env: { OMICSELECTOR_API_KEY: created.secret } }),
    );
    expect(viaEnv).toMatchObject({ auth: 'api-key', user: { email: user.email } });
    const denied = await cli(['api-keys', 'create', 'x'], {
      env: { OMICSELECTOR_API_KEY: created.secret },
    });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/FORBIDDEN/);

    const list = await cli(['api-keys', 'list']);
    expect(list.stdout).toMatch(/nightly\s+osk_\S*\s+yes/);
    const revoked = await cli(['api-keys', 'revoke', created.apiKey.id]);
    expect(revoked.stdout).toMatch(/^Revoked/);
    const refused = await cli(['whoami'], { env: { OMICSELECTOR_API_KEY: created.secret } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/UNAUTHENTICATED/);

    const bad = await cli(['login', '--api-key', 'nope']);
    expect(bad.code).toBe(2);
  });

  test('logout ends the server session and forgets it; offline commands still run', async () => {
    const { accessToken } = config().servers[t.url]!.tokens!;
    const out = await cli(['logout']);
    expect(out.stdout).toBe(`Logged out of ${t.url}\n`);
    expect(config().servers[t.url]).toBeUndefined();
    const raw = await t.gql('{ me { id } }', {}, accessToken);
    expect(raw.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const after = await cli(['whoami', '--server', t.url]);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/not logged in/);

    const methods = await cli(['methods', '--json']);
    expect(methods.code).toBe(0);
    expect(JSON.stringify(JSON.parse(methods.stdout))).toContain('t_test');
    const select = await cli([
      'select',
      't_test',
      '--input',
      csv,
      '--target',
      'y',
      '--k',
      '3',
      '--json',
    ]);
    expect(select.code).toBe(0);
    expect((JSON.parse(select.stdout) as { selected: string[] }).selected).toHaveLength(3);
  });
});

describe('jobs watch progress view', () => {
  const event = (status: string, progress: number, stage: string | null = null) => ({
    jobId: 'j',
    seq: 1,
    kind: 'PROGRESS' as const,
    status: status as 'RUNNING',
    progress,
    stage,
    message: null,
    at: '',
  });
  function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: string[] } {
    const written: string[] = [];
    const stream = { isTTY, columns: 50, write: (s: string) => written.push(s) > 0 };
    return { stream: stream as unknown as NodeJS.WriteStream, written };
  }

  test('on a terminal: one line redrawn in place, cut to the width, newline at the end', () => {
    const { stream, written } = fakeStream(true);
    const view = jobProgressView(stream);
    view.update(
      event('RUNNING', 12.5, 'a very long stage name that does not fit in fifty columns'),
    );
    view.update(event('COMPLETED', 100));
    view.done();
    // 49 characters: the terminal width less one, so the line never wraps.
    const full = '[####--------------------------]  13%  RUNNING  a very long stage name';
    expect(written[0]).toBe(`\r\x1b[2K${full.slice(0, 49)}`);
    expect(written[1]).toBe(`\r\x1b[2K[##############################] 100%  COMPLETED`);
    expect(written[2]).toBe('\n');
  });

  test('in logs: a line per status change or 10 % step only', () => {
    const { stream, written } = fakeStream(false);
    const view = jobProgressView(stream);
    for (const p of [0, 3, 7, 12, 15, 55, 56]) view.update(event('RUNNING', p));
    view.update(event('COMPLETED', 100));
    expect(written.map(w => w.match(/\d+%/)![0])).toEqual(['0%', '12%', '55%', '100%']);
    expect(written.every(w => w.endsWith('\n'))).toBe(true);
  });
});
