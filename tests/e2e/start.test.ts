/**
 * Starts the real entry point as a user would (`node dist/src/main.js`, what `npm start` runs),
 * waits for /ready, talks GraphQL, then stops it with SIGTERM and checks for a clean exit.
 *  1. against the suite's PostgreSQL and Redis (DATABASE_URL / REDIS_URL set);
 *  2. with nothing set: embedded PostgreSQL and a redis-server child under DATA_DIR, restarted once
 *     to prove data persists.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../../src/services/ports';
import { databaseUrl, testEnv } from '../helpers/env';

const ROOT = resolve(__dirname, '../..');
const MAIN = join(ROOT, 'dist/src/main.js');

interface Started {
  child: ChildProcess;
  port: number;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(env: Record<string, string>, port: number): Started {
  let output = '';
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(r =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return { child, port, output: () => output, exit };
}

async function waitReady(s: Started, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void s.exit.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`http://127.0.0.1:${s.port}/ready`);
      if (res.status === 200) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise(r => setTimeout(r, 250));
  }
  throw new Error(`server did not become ready:\n${s.output()}`);
}

async function gql<T>(port: number, query: string, variables: object = {}, token?: string) {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: res.status,
    ...((await res.json()) as { data?: T; errors?: Array<{ extensions?: { code?: string } }> }),
  };
}

async function stop(s: Started): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 30_000);
  const result = await s.exit;
  clearTimeout(timer);
  return result;
}

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }`;
const ME = `{ me { id username } }`;

const running: Started[] = [];

beforeAll(() => {
  if (!existsSync(MAIN)) {
    // `npm test` builds during check:schema; a lone run of this file builds here.
    spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  }
  expect(existsSync(MAIN)).toBe(true);
}, 300_000);

afterAll(async () => {
  for (const s of running) {
    if (s.child.exitCode === null && s.child.signalCode === null) {
      s.child.kill('SIGKILL');
    }
  }
});

it('serves GraphQL from the built entry point against given services and exits cleanly on SIGTERM', async () => {
  const env = testEnv();
  const dataDir = mkdtempSync(join(env.tmpDir, 'e2e-'));
  const s = start(
    {
      DATABASE_URL: databaseUrl(`e2e_${randomUUID().replace(/-/g, '').slice(0, 12)}`),
      REDIS_URL: env.redisUrl,
      REDIS_PREFIX: `e2e${Date.now()}`,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
    },
    await freePort(),
  );
  running.push(s);
  await waitReady(s);
  expect(s.output()).toContain(`http://localhost:${s.port}/graphql`);

  const anonymous = await gql(s.port, ME);
  expect(anonymous.status).toBe(401);
  expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

  const reg = await gql<{ register: { accessToken: string; user: { id: string } } }>(
    s.port,
    REGISTER,
    {
      input: { email: 'e2e@example.org', username: 'e2e', password: 'e2e password 123' },
    },
  );
  expect(reg.errors).toBeUndefined();
  const me = await gql<{ me: { id: string; username: string } }>(
    s.port,
    ME,
    {},
    reg.data!.register.accessToken,
  );
  expect(me.data!.me).toEqual({ id: reg.data!.register.user.id, username: 'e2e' });

  const result = await stop(s);
  expect(result).toEqual({ code: 0, signal: null });
  expect(s.output()).toMatch(/shutting down[\s\S]*stopped/);
  expect(existsSync(join(dataDir, 'runtime.json'))).toBe(false);
}, 120_000);

it('starts with nothing configured (embedded PostgreSQL + redis-server), and data survives a restart', async () => {
  const dataDir = mkdtempSync(join(testEnv().tmpDir, 'e2e-embedded-'));
  const env = { DATA_DIR: dataDir, LOG_LEVEL: 'info' };

  const first = start(env, await freePort());
  running.push(first);
  await waitReady(first);
  expect(first.output()).toMatch(/embedded PostgreSQL/);
  const reg = await gql<{ register: { accessToken: string } }>(first.port, REGISTER, {
    input: { email: 'keep@example.org', username: 'keeper', password: 'keep password 123' },
  });
  expect(reg.errors).toBeUndefined();
  expect(await stop(first)).toEqual({ code: 0, signal: null });

  const second = start(env, await freePort());
  running.push(second);
  await waitReady(second);
  const login = await gql<{ login: { accessToken: string } }>(
    second.port,
    `mutation { login(input: { login: "keeper", password: "keep password 123" }) { accessToken } }`,
  );
  expect(login.errors).toBeUndefined();
  expect(await stop(second)).toEqual({ code: 0, signal: null });

  // Nothing left running on that data directory.
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
  expect(ps.split('\n').filter(line => line.includes(dataDir))).toEqual([]);
}, 240_000);
