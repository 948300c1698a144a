/**
 * The generated SDK (sdk/) end to end against the real server, storage and a real worker process:
 * register/login, typed requests, OmicSelectorError shapes, multipart and presigned uploads, a
 * FEATURE_SELECTION job followed over graphql-ws to its result, token refresh (reactive, proactive,
 * concurrent, rotation) and API keys.
 */
import 'reflect-metadata';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  createClient,
  DatasetsDocument,
  isOmicSelectorError,
  OmicSelectorError,
  SdkMeDocument,
  type OmicSelectorClient,
} from '../../sdk';
import { TokenSigner } from '../../src/modules/accounts/tokens';
import { startTestApp, type TestApp } from '../helpers/app';
import {
  ensureBuilt,
  FAST_JOB_ENV,
  startWorker,
  stopAllWorkers,
  syntheticCsv,
} from '../helpers/worker';

Object.assign(process.env, FAST_JOB_ENV);
jest.setTimeout(180_000);

const OUTCOME = { kind: 'BINARY', column: 'y', positiveClass: 'case' } as const;
const PASSWORD = 'correct horse battery';

/** fetch that records the operationName of every GraphQL request. */
function countingFetch(): { fetch: typeof fetch; ops: string[] } {
  const ops: string[] = [];
  return {
    ops,
    fetch: async (input, init) => {
      if (typeof init?.body === 'string') {
        ops.push((JSON.parse(init.body) as { operationName?: string }).operationName ?? '?');
      } else if (init?.body instanceof FormData) {
        ops.push('multipart');
      }
      return fetch(input, init);
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<OmicSelectorError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OmicSelectorError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('SDK against a running server', () => {
  let t: TestApp;
  let ada: OmicSelectorClient;
  let adaEmail: string;
  let csvPath: string;
  const clients: OmicSelectorClient[] = [];
  const client = (opts: Partial<Parameters<typeof createClient>[0]> = {}) => {
    const c = createClient({ url: t.url, ...opts });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    await ensureBuilt();
    t = await startTestApp();
    const dir = mkdtempSync(join(tmpdir(), 'sdk-'));
    csvPath = join(dir, 'synthetic.csv');
    writeFileSync(csvPath, syntheticCsv(40, 30));
    ada = client();
    adaEmail = `ada${Date.now()}@example.org`;
    await ada.auth.register({ email: adaEmail, username: `ada${Date.now()}`, password: PASSWORD });
  });

  afterAll(async () => {
    await stopAllWorkers();
    await Promise.all(clients.map(c => c.close()));
    await t?.close();
  });

  test('register and login give tokens; me and typed request agree', async () => {
    const me = await ada.auth.me();
    expect(me.email).toBe(adaEmail);
    expect(me.role).toBe('USER');
    const typed = await ada.request(SdkMeDocument);
    expect(typed.me.id).toBe(me.id);

    const other = client();
    const payload = await other.auth.login(adaEmail.toUpperCase(), PASSWORD);
    expect(payload.user.id).toBe(me.id);
    expect(other.auth.tokens?.refreshToken).toMatch(/^ort_/);
    expect((await other.auth.me()).id).toBe(me.id);
  });

  test('errors are OmicSelectorError with the server code, message and path', async () => {
    const bad = await rejection(client().auth.login(adaEmail, 'wrong password!!'));
    expect(bad.code).toBe('UNAUTHENTICATED');
    expect(bad.status).toBe(401);

    const missing = await rejection(ada.datasets.get('00000000-0000-4000-8000-000000000000'));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.path).toEqual(['dataset']);
    expect(isOmicSelectorError(missing, 'NOT_FOUND')).toBe(true);

    const anonymous = await rejection(client().auth.me());
    expect(anonymous.code).toBe('UNAUTHENTICATED');

    const invalid = await rejection(
      ada.jobs.submit({
        type: 'FEATURE_SELECTION',
        datasetId: '00000000-0000-4000-8000-000000000000',
        config: { selectors: [{ code: 'no_such_method' }] },
      }),
    );
    expect(['BAD_USER_INPUT', 'NOT_FOUND']).toContain(invalid.code);

    const unreachable = await rejection(
      createClient({ url: 'http://127.0.0.1:9/graphql' }).auth.me(),
    );
    expect(unreachable.code).toBe('NETWORK_ERROR');
  });

  test('uploads: multipart from a Blob, presigned from a path; list, show, delete', async () => {
    const ops = countingFetch();
    const c = client({ fetch: ops.fetch, token: ada.auth.tokens!.accessToken });
    const viaBlob = await c.datasets.upload(new Blob([syntheticCsv(20, 8)]), {
      name: 'blob upload',
      sampleIdColumn: 'sample',
      outcome: OUTCOME,
    });
    expect(viaBlob).toMatchObject({ status: 'READY', sampleCount: 20, featureCount: 8 });
    expect(ops.ops).toEqual(['multipart']);

    const viaPath = await c.datasets.upload(
      csvPath,
      { name: 'presigned upload', sampleIdColumn: 'sample', outcome: OUTCOME },
      { presigned: true },
    );
    expect(viaPath).toMatchObject({
      status: 'READY',
      sampleCount: 40,
      featureCount: 30,
      originalFilename: 'synthetic.csv',
    });
    expect(viaPath.outcome?.classes).toEqual(['ctrl', 'case']);
    expect(ops.ops.slice(1)).toEqual(['RequestDatasetUpload', 'CompleteDatasetUpload']);

    const bad = await rejection(
      c.datasets.upload(new Blob(['sample,y,g1\nS1,case,abc\nS2,ctrl,1\n']), {
        name: 'broken',
        sampleIdColumn: 'sample',
        outcome: OUTCOME,
      }),
    );
    expect(bad.code).toBe('BAD_USER_INPUT');
    expect(bad.extensions).toMatchObject({ reason: 'NON_NUMERIC', line: 2, columnName: 'g1' });

    const list = await c.datasets.list({ first: 10, filter: { status: 'READY' } });
    expect(list.edges.map(e => e.node.id).sort()).toEqual([viaBlob.id, viaPath.id].sort());
    expect((await c.datasets.get(viaPath.id)).name).toBe('presigned upload');

    await c.datasets.delete(viaBlob.id);
    const after = await c.request(DatasetsDocument, { filter: { status: 'READY' } });
    expect(after.datasets.edges.map(e => e.node.id)).toEqual([viaPath.id]);
  });

  test('a FEATURE_SELECTION job runs on a worker; watch streams its events in order; result readable', async () => {
    const worker = startWorker(t, { pool: 'cpu' });
    await worker.live();
    const ds = await ada.datasets.upload(csvPath, {
      name: 'for jobs',
      sampleIdColumn: 'sample',
      outcome: OUTCOME,
    });
    const job = await ada.jobs.submit({
      type: 'FEATURE_SELECTION',
      datasetId: ds.id,
      device: 'CPU',
      config: { selectors: [{ code: 't_test', k: 5 }] },
    });
    expect(job.status).toBe('QUEUED');
    const events: Array<{ seq: number; status: string; progress: number }> = [];
    const done = await ada.jobs.wait(job.id, e => events.push(e));
    expect(done.status).toBe('COMPLETED');
    const seqs = events.map(e => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(events[0]!.seq).toBe(1);
    expect(events.map(e => e.status)).toContain('RUNNING');
    expect(events.at(-1)!.status).toBe('COMPLETED');
    const signatures = done.result!.data.signatures as Array<{ name: string; features: string[] }>;
    expect(signatures[0]!.name).toBe('t_test');
    expect(signatures[0]!.features).toHaveLength(5);
    // syntheticCsv puts the signal in g1..g5: a t-test must find most of them.
    expect(signatures[0]!.features.filter(f => /^g[1-5]$/.test(f)).length).toBeGreaterThanOrEqual(
      4,
    );

    // Replaying a finished job from seq 2 gives the remaining events once, then ends.
    const replay = [];
    for await (const e of ada.jobs.watch(job.id, 2)) replay.push(e.seq);
    expect(replay).toEqual(seqs.filter(s => s > 2));

    const listed = await ada.jobs.list({ filter: { status: ['COMPLETED'] } });
    expect(listed.edges.map(e => e.node.id)).toContain(job.id);
    await worker.stop();
  });

  test('subscription errors surface as OmicSelectorError', async () => {
    const it = ada.jobs.watch('00000000-0000-4000-8000-000000000000');
    const err = await rejection(it.next());
    expect(err.code).toBe('NOT_FOUND');

    const anonymous = client().jobs.watch('00000000-0000-4000-8000-000000000000');
    expect((await rejection(anonymous.next())).code).toBe('UNAUTHENTICATED');
  });

  test('reactive refresh: a refused access token is renewed once with the refresh token (rotated)', async () => {
    const login = await client().auth.login(adaEmail, PASSWORD);
    // Well-formed, unexpired, but signed with another key: the server answers UNAUTHENTICATED.
    const forged = await new TokenSigner(randomBytes(32).toString('base64url'), 900).sign(
      login.user.id,
      0,
    );
    const ops = countingFetch();
    const seen: Array<string | undefined> = [];
    const c = client({
      token: forged.token,
      refreshToken: login.refreshToken,
      fetch: ops.fetch,
      onTokens: tk => seen.push(tk?.refreshToken),
    });
    const results = await Promise.all([1, 2, 3, 4].map(() => c.auth.me()));
    expect(results.every(u => u.id === login.user.id)).toBe(true);
    // Four refused requests, one refresh between them, four retries.
    expect(ops.ops.filter(o => o === 'SdkRefreshToken')).toHaveLength(1);
    expect(ops.ops.filter(o => o === 'SdkMe')).toHaveLength(8);
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toBe(login.refreshToken);
    expect(c.auth.tokens!.refreshToken).toBe(seen[0]);

    // The old refresh token is spent: presenting it again ends the whole session family.
    const reuse = await rejection(
      createClient({ url: t.url, refreshToken: login.refreshToken }).auth.me(),
    );
    expect(reuse.code).toBe('UNAUTHENTICATED');
    const afterReuse = await rejection(c.auth.refresh());
    expect(afterReuse.code).toBe('UNAUTHENTICATED');
    expect(c.auth.tokens).toBeUndefined();
  });

  test('proactive refresh: an expired token is renewed before the request; a refresh token alone works', async () => {
    const login = await client().auth.login(adaEmail, PASSWORD);
    const expired = await new TokenSigner(t.config.jwtSecret, -120).sign(login.user.id, 0);
    // Sanity: the server itself refuses this token.
    const raw = await t.gql('{ me { id } }', {}, expired.token);
    expect(raw.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const ops = countingFetch();
    const c = client({ token: expired.token, refreshToken: login.refreshToken, fetch: ops.fetch });
    expect((await c.auth.me()).id).toBe(login.user.id);
    expect(ops.ops).toEqual(['SdkRefreshToken', 'SdkMe']);

    const onlyRefresh = client({ refreshToken: c.auth.tokens!.refreshToken });
    expect((await onlyRefresh.auth.me()).id).toBe(login.user.id);
  });

  test('API keys: create, use (no refresh attempts), list, revoke', async () => {
    const created = await ada.apiKeys.create('ci', 30);
    expect(created.secret).toMatch(/^osk_/);
    expect(created.apiKey).toMatchObject({ name: 'ci', active: true });

    const ops = countingFetch();
    const robot = client({ apiKey: created.secret, fetch: ops.fetch });
    expect((await robot.auth.me()).email).toBe(adaEmail);
    // Creating and revoking keys needs a password session; listing them does not.
    expect((await rejection(robot.apiKeys.create('sneaky'))).code).toBe('FORBIDDEN');
    expect((await robot.apiKeys.list()).map(k => k.name)).toContain('ci');

    const keys = await ada.apiKeys.list();
    expect(keys.map(k => k.id)).toContain(created.apiKey.id);
    const revoked = await ada.apiKeys.revoke(created.apiKey.id);
    expect(revoked.active).toBe(false);
    expect((await rejection(robot.auth.me())).code).toBe('UNAUTHENTICATED');
    expect(ops.ops).not.toContain('SdkRefreshToken');
  });

  test('logout ends the session on the server', async () => {
    const c = client();
    await c.auth.login(adaEmail, PASSWORD);
    const { accessToken, refreshToken } = c.auth.tokens!;
    await c.auth.logout();
    expect(c.auth.tokens).toBeUndefined();
    const raw = await t.gql('{ me { id } }', {}, accessToken);
    expect(raw.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const stale = await rejection(createClient({ url: t.url, refreshToken }).auth.me());
    expect(stale.code).toBe('UNAUTHENTICATED');
  });
});
