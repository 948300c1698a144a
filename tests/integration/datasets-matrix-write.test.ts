/**
 * A failure writing the parsed matrix that is not an object-store outage (a full disk, a bug in
 * a storage backend) must leave the dataset FAILED with a reason — never stuck in PROCESSING —
 * and the client gets a masked internal error (no driver text). The fault is injected into the
 * real local storage backend of a real API; the database and Redis are the test services.
 */
import { registerUser, startTestApp, type TestApp } from '../helpers/app';
import { postUpload } from '../helpers/worker';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ storage: 'local' });
});

afterAll(async () => {
  await t?.close();
});

const CSV = 'sample,g1,g2,y\ns1,1,2,case\ns2,2,1,control\ns3,3,3,case\ns4,0,1,control\n';

it('a non-outage matrix write failure marks the dataset FAILED with a reason', async () => {
  const storage = t.app.services.storage;
  const realPut = storage.put.bind(storage);
  storage.put = async (key, body, opts) => {
    if (key.endsWith('matrix.osm')) {
      if ('resume' in body) body.resume();
      throw new Error('ENOSPC: no space left on device (injected)');
    }
    return realPut(key, body, opts);
  };
  try {
    const u = await registerUser(t);
    const res = await postUpload(t, u.accessToken, CSV, 'matrix-write');
    expect(res.errors?.[0]?.extensions?.code).toBe('INTERNAL');
    expect(JSON.stringify(res.errors)).not.toContain('ENOSPC');

    const list = await t.gql<{
      datasets: { edges: Array<{ node: { status: string; failureReason: string | null } }> };
    }>('{ datasets(first: 5) { edges { node { status failureReason } } } }', {}, u.accessToken);
    expect(list.errors).toBeUndefined();
    const nodes = list.data!.datasets.edges.map(e => e.node);
    expect(nodes).toEqual([
      {
        status: 'FAILED',
        failureReason: 'internal error while storing the parsed matrix; upload it again',
      },
    ]);
  } finally {
    storage.put = realPut;
  }
});
