/**
 * The job quota inside the submit function (`omicselector_submit_job`, issue #9 (c)): concurrent
 * jobs and GPU minutes of the month are counted after the owner's quota lock, a resubmit under an
 * idempotency key already used returns its job even when the quota is full, and the refusals carry
 * the same QUOTA_EXCEEDED texts as before. No workers: jobs stay QUEUED (GPU ones wait).
 */
import { randomUUID } from 'node:crypto';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';
import { syntheticCsv, uploadCsv } from '../helpers/worker';

const SUBMIT = `mutation($input: SubmitJobInput!) { submitJob(input: $input) { id status } }`;

let t: TestApp;
let user: { id: string; accessToken: string };
let datasetId: string;

beforeAll(async () => {
  t = await startTestApp({
    env: {
      QUOTA_CONCURRENT_JOBS: '2',
      QUOTA_GPU_MINUTES_PER_MONTH: '1',
      RATE_LIMIT_PER_USER: '0',
      RATE_LIMIT_PER_IP: '0',
    },
  });
  user = await registerUser(t);
  await setRoleInDb(t, user.id, 'RESEARCHER'); // GPU jobs need it
  datasetId = await uploadCsv(t, user.accessToken, syntheticCsv(20, 10));
});

afterAll(async () => {
  await t?.close();
});

const submit = (device: 'CPU' | 'GPU', key?: string) =>
  t.gql<{ submitJob: { id: string; status: string } }>(
    SUBMIT,
    {
      input: {
        type: 'FEATURE_SELECTION',
        datasetId,
        device,
        config: { selectors: [{ code: 't_test', k: 3 }] },
        ...(key ? { idempotencyKey: key } : {}),
      },
    },
    user.accessToken,
  );

const knex = () => t.app.services.orm.em.getKnex();

it('GPU minutes and concurrent jobs are checked in the submit; an idempotent resubmit is not', async () => {
  const first = await submit('GPU', 'gpu-1');
  expect(first.errors).toBeUndefined();

  // Two GPU minutes used this month (a finished job of this user on the GPU pool).
  await knex().raw(
    `INSERT INTO jobs (id, owner_id, dataset_id, type, status, config, pool, started_at, finished_at)
     VALUES (?, ?, ?, 'FEATURE_SELECTION', 'COMPLETED', '{}', 'gpu',
             clock_timestamp() - interval '2 minutes', clock_timestamp())`,
    [randomUUID(), user.id, datasetId],
  );
  const gpu = await submit('GPU', 'gpu-2');
  expect(gpu.errors?.[0]?.extensions?.code).toBe('QUOTA_EXCEEDED');
  expect(gpu.errors?.[0]?.message).toMatch(/^GPU quota used up: 2\.0 of 1 GPU minutes this month$/);

  // One active job so far (gpu-1): one more fits, the third does not.
  expect((await submit('CPU', 'cpu-1')).errors).toBeUndefined();
  const third = await submit('CPU', 'cpu-2');
  expect(third.errors?.[0]?.extensions?.code).toBe('QUOTA_EXCEEDED');
  expect(third.errors?.[0]?.message).toBe(
    'Concurrent job quota reached: 2 of 2 jobs are pending, queued or running',
  );

  // The same request under a used key returns its job although the quota is full.
  const again = await submit('GPU', 'gpu-1');
  expect(again.errors).toBeUndefined();
  expect(again.data?.submitJob.id).toBe(first.data?.submitJob.id);

  // Nothing was written by the refused submits.
  const rows = (
    await knex().raw(
      `SELECT idempotency_key AS k FROM jobs WHERE owner_id = ? AND idempotency_key IS NOT NULL ORDER BY 1`,
      [user.id],
    )
  ).rows as Array<{ k: string }>;
  expect(rows.map(r => r.k)).toEqual(['cpu-1', 'gpu-1']);
});
