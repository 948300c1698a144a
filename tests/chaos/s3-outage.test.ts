/**
 * Object storage (S3 / s3rver) stopped and restarted under a running deployment. Expected while it
 * is down: every operation that needs it answers UNAVAILABLE (HTTP 503, Retry-After: 5,
 * retryAfterSeconds 5, a request id, no driver text) — never INTERNAL; nothing is half-written (a
 * multipart upload's dataset is FAILED with a clear reason, a presigned upload's `complete` leaves
 * it UPLOADING so the client can call it again); a worker that cannot read its job's dataset fails
 * the attempt as TRANSIENT and BullMQ retries it with backoff instead of failing the job. After the
 * restart (same port and directory): the preview reads again, the retried `complete` makes the
 * dataset READY, and the job completes with exactly one result.
 */
import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import S3rver from 's3rver';
import { freePort } from '../../src/services/ports';
import { registerUser, type GqlResponse, type TestApp } from '../helpers/app';
import { databaseUrl, testEnv } from '../helpers/env';
import {
  ensureBuilt,
  FAST_JOB_ENV,
  op,
  startWorker,
  stopAllWorkers,
  syntheticCsv,
  uploadCsv,
  type JobView,
} from '../helpers/worker';
import {
  jobFacts,
  newDeployment,
  phase,
  sql,
  startInProcessApi,
  waitForState,
  within,
} from './chaos-helpers';

// Enough attempts that the job outlives the outage (BullMQ backoff 300 ms doubling, see FAST_JOB_ENV).
Object.assign(process.env, FAST_JOB_ENV, { JOBS_ATTEMPTS: '8' });
jest.setTimeout(300_000);

let s3: S3rver | null = null;
let s3Port: number;
let s3Dir: string;
let api: TestApp;
let d: ReturnType<typeof newDeployment>;
let db: ReturnType<typeof sql>;
let user: { id: string; accessToken: string };
let datasetId: string;
const CSV = syntheticCsv(30, 20);
const OUTCOME = { kind: 'BINARY', column: 'y', positiveClass: 'case' };

async function startS3(): Promise<void> {
  s3 = new S3rver({
    address: '127.0.0.1',
    port: s3Port,
    silent: true,
    directory: s3Dir,
    resetOnClose: false,
  });
  await s3.run();
}

async function stopS3(): Promise<void> {
  const server = s3 as unknown as { httpServer?: { closeAllConnections?: () => void } } | null;
  server?.httpServer?.closeAllConnections?.();
  await s3?.close();
  s3 = null;
}

/** The UNAVAILABLE contract of an operation answered while a backing service is down. */
function expectUnavailable(res: GqlResponse<unknown>, what: string): void {
  expect([what, res.status]).toEqual([what, 503]);
  expect(res.headers.get('retry-after')).toBe('5');
  const e = res.errors?.[0];
  expect(e?.extensions).toMatchObject({ code: 'UNAVAILABLE', retryAfterSeconds: 5 });
  expect(typeof e?.extensions?.requestId).toBe('string');
  expect(JSON.stringify(res.errors)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack|minio|S3Error/i);
}

const PREVIEW = 'query($id: ID!) { datasetPreview(id: $id, rows: 2, columns: 2) { totalRows } }';

async function multipartUpload(
  name: string,
): Promise<GqlResponse<{ uploadDataset: { id: string } }>> {
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({
      query:
        'mutation($input: DatasetUploadInput!, $file: Upload!) { uploadDataset(input: $input, file: $file) { id status } }',
      variables: { input: { name, sampleIdColumn: 'sample', outcome: OUTCOME }, file: null },
    }),
  );
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', new Blob([Buffer.from(CSV)]), `${name}.csv`);
  const res = await fetch(api.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.accessToken}`, 'apollo-require-preflight': 'true' },
    body: form,
  });
  const body = (await res.json()) as { data?: { uploadDataset: { id: string } }; errors?: never };
  return { status: res.status, headers: res.headers, data: body.data, errors: body.errors };
}

beforeAll(async () => {
  await ensureBuilt();
  s3Port = await freePort();
  s3Dir = mkdtempSync(join(testEnv().tmpDir, 'chaos-s3-'));
  await startS3();
  d = newDeployment(databaseUrl);
  api = await startInProcessApi(d, {
    S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
    S3_ACCESS_KEY: 'S3RVER',
    S3_SECRET_KEY: 'S3RVER',
    S3_BUCKET: `c-${d.prefix}`,
    S3_REGION: 'us-east-1',
  });
  db = sql(d.databaseUrl);
  user = await registerUser(api);
  datasetId = await uploadCsv(api, user.accessToken, CSV);
  phase('s3-outage: deployment up');
});

afterAll(async () => {
  await stopAllWorkers();
  await api?.close();
  await db?.destroy();
  await stopS3();
});

test('S3 down: UNAVAILABLE everywhere, nothing half-written, the job retries; all recover after the restart', async () => {
  const worker = startWorker(api, { pool: 'cpu' });
  await worker.live();
  await stopS3();
  phase('s3-outage: s3rver stopped');

  // Readiness says so (the storage check fails), liveness does not.
  const ready = await fetch(`${api.baseUrl}/ready`);
  expect(ready.status).toBe(503);
  expect(JSON.stringify(await ready.json())).toMatch(/storage/);
  expect((await fetch(`${api.baseUrl}/health`)).status).toBe(200);

  // A read of the stored matrix.
  expectUnavailable(await api.gql(PREVIEW, { id: datasetId }, user.accessToken), 'datasetPreview');

  // A multipart upload: refused with UNAVAILABLE; its row is FAILED and says why.
  const up = await multipartUpload('during-outage');
  expectUnavailable(up, 'uploadDataset');
  const failed = (
    await db.raw<{ rows: Array<{ status: string; failure_reason: string }> }>(
      `select status, failure_reason from datasets where name = 'during-outage'`,
    )
  ).rows;
  expect(failed).toEqual([
    { status: 'FAILED', failure_reason: expect.stringMatching(/object storage was unavailable/) },
  ]);

  // Presigned flow: the ticket needs no storage round trip; `complete` cannot stat the object
  // and gives the row back (UPLOADING) so the same call can be retried.
  const ticket = await api.gql<{
    requestDatasetUpload: { uploadUrl: string; dataset: { id: string } };
  }>(
    'mutation($input: RequestDatasetUploadInput!) { requestDatasetUpload(input: $input) { uploadUrl dataset { id } } }',
    { input: { name: 'presigned', sampleIdColumn: 'sample', outcome: OUTCOME } },
    user.accessToken,
  );
  const presigned = ticket.data!.requestDatasetUpload;
  const COMPLETE = 'mutation($id: ID!) { completeDatasetUpload(id: $id) { id status } }';
  expectUnavailable(
    await api.gql(COMPLETE, { id: presigned.dataset.id }, user.accessToken),
    'completeDatasetUpload',
  );
  const back = await db.raw<{ rows: Array<{ status: string }> }>(
    'select status from datasets where id = ?',
    [presigned.dataset.id],
  );
  expect(back.rows[0]?.status).toBe('UPLOADING');

  // A job whose worker cannot read the dataset: its attempt fails TRANSIENT and is retried.
  const sub = await api.gql<{ submitJob: JobView }>(
    op('SubmitJob'),
    {
      input: {
        datasetId,
        type: 'FEATURE_SELECTION',
        device: 'CPU',
        config: { selectors: [{ code: 't_test', k: 3 }] },
      },
    },
    user.accessToken,
  );
  const jobId = sub.data!.submitJob.id;
  await waitForState(api, user.accessToken, jobId, j => j.attempts >= 2, 60_000);
  expect((await jobFacts(db, jobId)).status).not.toBe('FAILED');
  phase('s3-outage: job retried during the outage');

  await startS3();
  phase('s3-outage: s3rver restarted');

  expect((await fetch(`${api.baseUrl}/ready`)).status).toBe(200);
  // Reads work again (the client's retry after Retry-After).
  const preview = await api.gql<{ datasetPreview: { totalRows: number } }>(
    PREVIEW,
    { id: datasetId },
    user.accessToken,
  );
  expect(preview.data?.datasetPreview.totalRows).toBe(30);

  // The presigned upload: PUT the file, then the same `complete` call succeeds.
  const put = await fetch(presigned.uploadUrl, { method: 'PUT', body: CSV });
  expect(put.status).toBe(200);
  const done = await api.gql<{ completeDatasetUpload: { status: string } }>(
    COMPLETE,
    { id: presigned.dataset.id },
    user.accessToken,
  );
  expect([done.data?.completeDatasetUpload.status, done.errors]).toEqual(['READY', undefined]);

  // The job completes after the restart, once.
  await within(
    waitForState(api, user.accessToken, jobId, j => j.status === 'COMPLETED', 60_000),
    65_000,
    'job did not complete after the storage restart',
  );
  const facts = await jobFacts(db, jobId);
  expect(facts.status).toBe('COMPLETED');
  expect(facts.resultRows).toBe(1);
  expect(facts.attempt).toBeGreaterThanOrEqual(2);
});
