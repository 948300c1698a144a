/**
 * `jobEvents(first)` is 1–100 like every page of the API (issue 9): 101 is refused, the default
 * is 100, and clients (the SDK's `jobs.events`, the tests' helper) get every event by paging on
 * with `afterSeq` = the last seq.
 */
import 'reflect-metadata';
import { createClient } from '../../sdk';
import { transition } from '../../src/modules/jobs/job.store';
import { registerUser, startTestApp, type TestApp } from '../helpers/app';
import { allJobEvents } from '../helpers/job-events';
import { op, syntheticCsv, uploadCsv, type JobView } from '../helpers/worker';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const EVENTS =
  'query($id: ID!, $after: Int, $first: Int) { jobEvents(jobId: $id, afterSeq: $after, first: $first) { seq } }';

test('jobEvents: first 1–100, default 100; paging with afterSeq returns every event once', async () => {
  const user = await registerUser(t);
  const datasetId = await uploadCsv(t, user.accessToken, syntheticCsv(20, 10));
  const submitted = await t.gql<{ submitJob: JobView }>(
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
  const id = submitted.data!.submitJob.id;
  // 1 QUEUED event + 230 LOG events (no worker runs: the job stays QUEUED).
  const knex = t.app.services.orm.em.getKnex();
  for (let i = 0; i < 230; i++) {
    const r = await transition(knex, id, {
      from: ['QUEUED'],
      to: 'QUEUED',
      kind: 'LOG',
      patch: { message: `log ${i}` },
    });
    expect(r).not.toBeNull();
  }

  for (const first of [101, 1000, 0, -1]) {
    const res = await t.gql(EVENTS, { id, first }, user.accessToken);
    expect([first, res.errors?.[0]?.extensions]).toEqual([
      first,
      expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'first' }),
    ]);
  }
  const byDefault = await t.gql<{ jobEvents: Array<{ seq: number }> }>(
    EVENTS,
    { id },
    user.accessToken,
  );
  expect(byDefault.data!.jobEvents.map(e => e.seq)).toEqual(
    Array.from({ length: 100 }, (_, i) => i + 1),
  );
  const hundred = await t.gql<{ jobEvents: Array<{ seq: number }> }>(
    EVENTS,
    { id, after: 200, first: 100 },
    user.accessToken,
  );
  expect(hundred.data!.jobEvents.map(e => e.seq)).toEqual(
    Array.from({ length: 31 }, (_, i) => i + 201),
  );

  const all = Array.from({ length: 231 }, (_, i) => i + 1);
  expect((await allJobEvents(t, user.accessToken, id)).map(e => e.seq)).toEqual(all);
  const sdk = createClient({ url: t.url, token: user.accessToken });
  expect((await sdk.jobs.events(id)).map(e => e.seq)).toEqual(all);
  expect((await sdk.jobs.events(id, 150)).map(e => e.seq)).toEqual(all.slice(150));
  expect((await sdk.jobs.eventsPage(id, 0, 10)).map(e => e.seq)).toEqual(all.slice(0, 10));
});
