/**
 * Log correlation: the request id of the submitting API request travels in the BullMQ payload, and
 * the logger (JSON) stamps requestId + jobId on every line written inside a job's scope.
 */
import { jobsDeps } from '../../src/modules/jobs/job.runtime';
import { log } from '../../src/logger';
import { runWithRequestScope } from '../../src/request-context';
import { registerUser, startTestApp, type TestApp } from '../helpers/app';
import { slowSelection, syntheticCsv, uploadCsv } from '../helpers/worker';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

it('carries the request id into the queue payload', async () => {
  const u = await registerUser(t);
  const datasetId = await uploadCsv(t, u.accessToken, syntheticCsv(10, 5));
  const res = await t.gql<{ submitJob: { id: string } }>(
    `mutation($input: SubmitJobInput!) { submitJob(input: $input) { id } }`,
    { input: { datasetId, type: 'FEATURE_SELECTION', device: 'CPU', config: slowSelection(5) } },
    u.accessToken,
    { 'x-request-id': 'req-correlate-0001' },
  );
  const jobId = res.data!.submitJob.id;
  const entry = await jobsDeps(t.app.services).queues.queue('cpu').getJob(jobId);
  expect(entry?.data).toEqual({ jobId, requestId: 'req-correlate-0001' });
});

it('writes JSON log lines with requestId and jobId inside a job scope', () => {
  const prev = { LOG_FORMAT: process.env.LOG_FORMAT, LOG_LEVEL: process.env.LOG_LEVEL };
  process.env.LOG_FORMAT = 'json';
  process.env.LOG_LEVEL = 'info';
  const lines: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    runWithRequestScope(() => log.info('running', { stage: 'fit' }), 'req-1234567', 'job-abc');
  } finally {
    spy.mockRestore();
    for (const [k, v] of Object.entries(prev)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const entry = JSON.parse(lines.find(l => l.includes('"running"'))!) as Record<string, unknown>;
  expect(entry).toMatchObject({
    msg: 'running',
    requestId: 'req-1234567',
    jobId: 'job-abc',
    stage: 'fit',
  });
});
