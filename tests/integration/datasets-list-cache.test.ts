/**
 * The per-process cache of `datasets` list pages (src/modules/datasets/dataset.version.ts) never
 * shows a stale list: two API instances of one deployment (same database and Redis prefix); every
 * dataset write made through instance A (multipart upload, failed upload, presigned request /
 * complete, update, delete, an admin's update of someone else's dataset) shows in instance B's
 * very next list, although B holds a cached copy of the page. And the cache is really used: a
 * change made behind the API's back (SQL, no version bump) is *not* seen until the version moves.
 */
import { datasetsVersionKey } from '../../src/modules/datasets/dataset.version';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';
import { postUpload } from '../helpers/worker';

let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  a = await startTestApp();
  b = await startTestApp({ sameDeploymentAs: a });
});

afterAll(async () => {
  await b?.close();
  await a?.close();
});

const LIST = `query($first: Int!, $filter: DatasetFilterInput) {
  datasets(first: $first, filter: $filter) {
    totalCount
    edges { cursor node { id name status sampleCount ownerId } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Node {
  id: string;
  name: string;
  status: string;
  sampleCount: number | null;
  ownerId: string;
}
interface Page {
  datasets: { totalCount: number; edges: Array<{ node: Node }> };
}

async function list(t: TestApp, token: string, filter?: Record<string, unknown>) {
  const res = await t.gql<Page>(LIST, { first: 20, filter }, token);
  expect(res.errors).toBeUndefined();
  return res.data!.datasets;
}
const names = (p: Page['datasets']) => p.edges.map(e => `${e.node.name}:${e.node.status}`);

const CSV = 'sample,g1,g2,y\ns1,1,2,case\ns2,2,1,control\ns3,3,3,case\ns4,0,1,control\n';

const upload = (t: TestApp, token: string, name: string, body = CSV) =>
  postUpload(t, token, body, name);

const sql = (t: TestApp, text: string, values: unknown[]) =>
  t.app.services.orm.em.getConnection().execute(text, values);

it('every write through A shows in the next list on B', async () => {
  const u = await registerUser(a);
  expect((await list(b, u.accessToken)).totalCount).toBe(0);

  // Multipart upload.
  const up = await upload(a, u.accessToken, 'first');
  expect(up.data?.uploadDataset.status).toBe('READY');
  const id = up.data!.uploadDataset.id;
  expect(names(await list(b, u.accessToken))).toEqual(['first:READY']);
  // Twice: the second is served from B's copy (same version), still right.
  expect(names(await list(b, u.accessToken))).toEqual(['first:READY']);

  // A file that cannot be parsed leaves a FAILED row.
  const bad = await upload(a, u.accessToken, 'broken', 'sample,g1,y\ns1,1\n');
  expect(bad.errors?.length).toBeGreaterThan(0);
  expect(names(await list(b, u.accessToken))).toEqual(['broken:FAILED', 'first:READY']);

  // Presigned flow: request (UPLOADING), complete before the PUT (back to UPLOADING), PUT,
  // complete (READY).
  const req = await a.gql<{
    requestDatasetUpload: { uploadUrl: string; dataset: { id: string } };
  }>(
    `mutation($input: RequestDatasetUploadInput!) {
      requestDatasetUpload(input: $input) { uploadUrl dataset { id } }
    }`,
    {
      input: {
        name: 'presigned',
        filename: 'p.csv',
        sampleIdColumn: 'sample',
        outcome: { kind: 'BINARY', column: 'y', positiveClass: 'case' },
      },
    },
    u.accessToken,
  );
  expect(req.errors).toBeUndefined();
  const ticket = req.data!.requestDatasetUpload;
  expect(names(await list(b, u.accessToken))[0]).toBe('presigned:UPLOADING');
  const COMPLETE = 'mutation($id: ID!) { completeDatasetUpload(id: $id) { id status } }';
  const early = await a.gql(COMPLETE, { id: ticket.dataset.id }, u.accessToken);
  expect(early.errors?.[0]?.message).toMatch(/nothing has been uploaded yet/);
  expect(names(await list(b, u.accessToken))[0]).toBe('presigned:UPLOADING');
  expect((await fetch(ticket.uploadUrl, { method: 'PUT', body: CSV })).status).toBe(200);
  expect((await a.gql(COMPLETE, { id: ticket.dataset.id }, u.accessToken)).errors).toBeUndefined();
  const done = await list(b, u.accessToken);
  expect(done.edges[0]!.node).toMatchObject({ name: 'presigned', status: 'READY', sampleCount: 4 });

  // Update and delete.
  const UPDATE =
    'mutation($id: ID!, $input: UpdateDatasetInput!) { updateDataset(id: $id, input: $input) { id } }';
  const renamed = await a.gql(UPDATE, { id, input: { name: 'renamed' } }, u.accessToken);
  expect(renamed.errors).toBeUndefined();
  expect(names(await list(b, u.accessToken))).toContain('renamed:READY');
  const del = await a.gql(
    'mutation($id: ID!) { deleteDataset(id: $id) { id } }',
    { id },
    u.accessToken,
  );
  expect(del.errors).toBeUndefined();
  const after = await list(b, u.accessToken);
  expect(after.totalCount).toBe(2);
  expect(after.edges.map(e => e.node.id)).not.toContain(id);

  // An admin's write to the user's dataset bumps the owner's version, not the admin's.
  const boss = await registerUser(a);
  await setRoleInDb(a, boss.id, 'ADMIN');
  const target = after.edges[0]!.node.id;
  const byAdmin = await a.gql(
    UPDATE,
    { id: target, input: { name: 'by admin' } },
    boss.accessToken,
  );
  expect(byAdmin.errors).toBeUndefined();
  expect(names(await list(b, u.accessToken))[0]).toBe('by admin:READY');
});

it('pages are per user and per filter; admins always read', async () => {
  const u = await registerUser(a);
  const v = await registerUser(a);
  await upload(a, u.accessToken, 'mine');
  await upload(a, v.accessToken, 'theirs');
  expect(names(await list(b, u.accessToken))).toEqual(['mine:READY']);
  expect(names(await list(b, v.accessToken))).toEqual(['theirs:READY']);
  expect((await list(b, u.accessToken, { status: 'FAILED' })).totalCount).toBe(0);
  expect((await list(b, u.accessToken, { status: 'READY' })).totalCount).toBe(1);

  const boss = await registerUser(a);
  await setRoleInDb(a, boss.id, 'ADMIN');
  expect(names(await list(b, boss.accessToken, { search: 'mine' }))).toEqual(['mine:READY']);
  await sql(a, `update datasets set name = 'mine2' where owner_id = ?`, [u.id]);
  // No bump, but an admin's list is never cached: the same query sees the change.
  expect(names(await list(b, boss.accessToken, { search: 'mine' }))).toEqual(['mine2:READY']);
});

it('the cache is really used, and a vanished version key is a new version', async () => {
  const u = await registerUser(a);
  await upload(a, u.accessToken, 'original');
  expect(names(await list(b, u.accessToken))).toEqual(['original:READY']);
  // Behind the API's back (no bump): B keeps serving its copy (within the TTL)…
  await sql(a, `update datasets set name = 'edited in SQL' where owner_id = ?`, [u.id]);
  expect(names(await list(b, u.accessToken))).toEqual(['original:READY']);
  // …until the version moves: here the key is lost (TTL, Redis data loss) and re-created with a
  // fresh token, never one a cache could hold.
  await a.app.services.redis.del(datasetsVersionKey(u.id));
  expect(names(await list(b, u.accessToken))).toEqual(['edited in SQL:READY']);
  const token = await a.app.services.redis.get(datasetsVersionKey(u.id));
  expect(token).toBeTruthy();
  expect(await a.app.services.redis.ttl(datasetsVersionKey(u.id))).toBeGreaterThan(0);
});

it('DATASETS_LIST_CACHE=false reads PostgreSQL on every list', async () => {
  const c = await startTestApp({ sameDeploymentAs: a, env: { DATASETS_LIST_CACHE: 'false' } });
  try {
    expect(c.config.datasetsListCache).toBe(false);
    const u = await registerUser(a);
    await upload(a, u.accessToken, 'before');
    expect(names(await list(c, u.accessToken))).toEqual(['before:READY']);
    // Behind the API's back (no version bump): a caching instance would serve its copy; this one
    // reads the row again.
    await sql(a, `update datasets set name = 'after' where owner_id = ?`, [u.id]);
    expect(names(await list(c, u.accessToken))).toEqual(['after:READY']);
  } finally {
    await c.close();
  }
});
