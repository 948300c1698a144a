/**
 * Quotas over real HTTP + PostgreSQL: 10 parallel creates against a limit of N let exactly N
 * through (the rest QUOTA_EXCEEDED), for datasets and for concurrent jobs; storage bytes; `usage`.
 * No workers run here, so submitted jobs stay QUEUED and keep counting as concurrent.
 */
import { registerUser, startTestApp, type TestApp } from '../helpers/app';
import { slowSelection, syntheticCsv, uploadCsv } from '../helpers/worker';

const REQUEST_UPLOAD = `mutation($input: RequestDatasetUploadInput!) {
  requestDatasetUpload(input: $input) { dataset { id } } }`;
const SUBMIT = `mutation($input: SubmitJobInput!) { submitJob(input: $input) { id status } }`;
const USAGE = `{ usage { storageBytes { used limit } datasets { used limit }
  concurrentJobs { used limit } gpuMinutes { used limit } } }`;

const DATASETS = 3;
const JOBS = 4;
const STORAGE = 60_000;

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({
    env: {
      QUOTA_DATASETS: String(DATASETS),
      QUOTA_CONCURRENT_JOBS: String(JOBS),
      QUOTA_STORAGE_BYTES: String(STORAGE),
      RATE_LIMIT_PER_USER: '0',
      RATE_LIMIT_PER_IP: '0',
    },
  });
});

afterAll(async () => {
  await t?.close();
});

function codes(results: Array<{ errors?: Array<{ extensions?: Record<string, unknown> }> }>) {
  const ok = results.filter(r => !r.errors?.length).length;
  const quota = results.filter(r => r.errors?.[0]?.extensions?.code === 'QUOTA_EXCEEDED').length;
  return { ok, quota };
}

it('10 parallel dataset creations at a limit of 3: exactly 3 succeed, 7 QUOTA_EXCEEDED', async () => {
  const u = await registerUser(t);
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      t.gql(REQUEST_UPLOAD, { input: { name: `d${i}` } }, u.accessToken),
    ),
  );
  expect(codes(results)).toEqual({ ok: DATASETS, quota: 10 - DATASETS });
  const usage = await t.gql<{ usage: { datasets: { used: number; limit: number } } }>(
    USAGE,
    {},
    u.accessToken,
  );
  expect(usage.data!.usage.datasets).toEqual({ used: DATASETS, limit: DATASETS });
});

it('10 parallel job submissions at a limit of 4: exactly 4 succeed, 6 QUOTA_EXCEEDED', async () => {
  const u = await registerUser(t);
  const datasetId = await uploadCsv(t, u.accessToken, syntheticCsv(20, 10));
  const results = await Promise.all(
    Array.from({ length: 10 }, () =>
      t.gql(
        SUBMIT,
        {
          input: {
            datasetId,
            type: 'FEATURE_SELECTION',
            device: 'CPU',
            config: slowSelection(5),
          },
        },
        u.accessToken,
      ),
    ),
  );
  expect(codes(results)).toEqual({ ok: JOBS, quota: 10 - JOBS });
  const usage = await t.gql<{
    usage: { concurrentJobs: { used: number }; storageBytes: { used: number } };
  }>(USAGE, {}, u.accessToken);
  expect(usage.data!.usage.concurrentJobs.used).toBe(JOBS);
  expect(usage.data!.usage.storageBytes.used).toBeGreaterThan(0);
});

it('rejects an upload that would exceed the storage quota and leaves it FAILED', async () => {
  const u = await registerUser(t);
  // ~2 KB: fits (with its matrix) under the limit.
  await uploadCsv(t, u.accessToken, syntheticCsv(10, 10));
  const big = syntheticCsv(60, 200); // well over 60 KB on its own
  expect(Buffer.byteLength(big)).toBeGreaterThan(STORAGE);
  await expect(uploadCsv(t, u.accessToken, big)).rejects.toThrow(/QUOTA_EXCEEDED|Storage quota/);
  const declared = await t.gql(
    REQUEST_UPLOAD,
    { input: { name: 'declared', sizeBytes: STORAGE + 1 } },
    u.accessToken,
  );
  expect(declared.errors?.[0]?.extensions?.code).toBe('QUOTA_EXCEEDED');
});

it('counts the parsed matrix: a small upload whose matrix would overshoot the quota is refused', async () => {
  const u = await registerUser(t);
  // 60 × 200 zeros: ~24 KB of text fits the 60 KB quota, its 96 KB float64 matrix does not.
  const header = ['sample', 'y', ...Array.from({ length: 200 }, (_, j) => `f${j}`)].join(',');
  const rows = Array.from({ length: 60 }, (_, i) =>
    [`s${i}`, i % 2 ? 'case' : 'ctrl', ...Array.from({ length: 200 }, () => '0')].join(','),
  );
  const csv = [header, ...rows].join('\n');
  expect(Buffer.byteLength(csv)).toBeLessThan(STORAGE);
  await expect(uploadCsv(t, u.accessToken, csv)).rejects.toThrow(/QUOTA_EXCEEDED|Storage quota/);
  const usage = await t.gql<{ usage: { storageBytes: { used: number; limit: number } } }>(
    USAGE,
    {},
    u.accessToken,
  );
  expect(usage.data!.usage.storageBytes.used).toBeLessThanOrEqual(STORAGE);
  const list = await t.gql<{
    datasets: { edges: Array<{ node: { status: string; failureReason: string } }> };
  }>(`{ datasets(first: 5) { edges { node { status failureReason } } } }`, {}, u.accessToken);
  expect(list.data!.datasets.edges[0]!.node.status).toBe('FAILED');
  expect(list.data!.datasets.edges[0]!.node.failureReason).toMatch(/Storage quota exceeded/);
});

it('usage of another user is admin-only', async () => {
  const a = await registerUser(t);
  const b = await registerUser(t);
  const res = await t.gql(
    `query($id: ID) { usage(userId: $id) { datasets { used } } }`,
    { id: b.id },
    a.accessToken,
  );
  expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
});
