/**
 * Retention (purge of old soft-deleted datasets, old job events and old job artifacts), the orphan
 * scan, and the audit rows of dataset delete, job cancel and admin actions.
 */
import { randomUUID } from 'node:crypto';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';
import { slowSelection, syntheticCsv, uploadCsv } from '../helpers/worker';
import { runRetention } from '../../src/ops/retention';

let t: TestApp;
const sql = (q: string, params: unknown[] = []) =>
  t.app.services.orm.em.getConnection().execute(q, params);

beforeAll(async () => {
  t = await startTestApp({
    env: {
      RETENTION_DELETED_DATASETS_DAYS: '30',
      RETENTION_JOB_EVENTS_DAYS: '90',
      RETENTION_ARTIFACT_DAYS: '30',
    },
  });
});

afterAll(async () => {
  await t?.close();
});

it('purges old soft-deleted datasets and old job events; orphan scan finds and deletes orphans; all audited', async () => {
  const u = await registerUser(t);
  const admin = await registerUser(t);
  await setRoleInDb(t, admin.id, 'ADMIN');
  const storage = t.app.services.storage;

  const oldId = await uploadCsv(t, u.accessToken, syntheticCsv(10, 5), 'old');
  const recentId = await uploadCsv(t, u.accessToken, syntheticCsv(10, 5), 'recent');
  const keptId = await uploadCsv(t, u.accessToken, syntheticCsv(10, 5), 'kept');
  for (const id of [oldId, recentId]) {
    const del = await t.gql(
      `mutation($id: ID!) { deleteDataset(id: $id) { id } }`,
      { id },
      u.accessToken,
    );
    expect(del.errors).toBeUndefined();
  }
  await sql(`update datasets set deleted_at = now() - interval '31 days' where id = ?`, [oldId]);

  // A job that ended long ago (cancelled while queued; no workers run here).
  const sub = await t.gql<{ submitJob: { id: string } }>(
    `mutation($input: SubmitJobInput!) { submitJob(input: $input) { id } }`,
    {
      input: {
        datasetId: keptId,
        type: 'FEATURE_SELECTION',
        device: 'CPU',
        config: slowSelection(5),
      },
    },
    u.accessToken,
  );
  const jobId = sub.data!.submitJob.id;
  const cancel = await t.gql(
    `mutation($id: ID!) { cancelJob(id: $id) { status } }`,
    { id: jobId },
    u.accessToken,
  );
  expect(cancel.errors).toBeUndefined();
  await sql(`update jobs set finished_at = now() - interval '100 days' where id = ?`, [jobId]);

  // Orphans: an object with no row, and a READY dataset whose matrix object vanished.
  const strayKey = `datasets/${randomUUID()}/upload`;
  await storage.put(strayKey, Buffer.from('stray'));
  await storage.delete(`datasets/${keptId}/matrix.osm`);

  const report = await t.gql<{
    orphanReport: {
      orphanObjects: string[];
      datasetsMissingObjects: string[];
      objectsScanned: number;
    };
  }>(
    `{ orphanReport { objectsScanned orphanObjects datasetsMissingObjects } }`,
    {},
    admin.accessToken,
  );
  expect(report.errors).toBeUndefined();
  expect(report.data!.orphanReport.orphanObjects).toEqual([strayKey]);
  expect(report.data!.orphanReport.datasetsMissingObjects).toEqual([keptId]);
  const denied = await t.gql(`{ orphanReport { objectsScanned } }`, {}, u.accessToken);
  expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

  const run = await t.gql<{ runRetention: { datasetsPurged: number; jobEventsDeleted: number } }>(
    `mutation { runRetention { datasetsPurged jobEventsDeleted } }`,
    {},
    admin.accessToken,
  );
  expect(run.errors).toBeUndefined();
  expect(run.data!.runRetention.datasetsPurged).toBe(1);
  expect(run.data!.runRetention.jobEventsDeleted).toBeGreaterThanOrEqual(2); // QUEUED + CANCELLED
  expect(await storage.stat(`datasets/${oldId}/upload`)).toBeNull();
  expect(await storage.stat(`datasets/${recentId}/upload`)).not.toBeNull(); // deleted too recently
  const rows = (await sql(`select id from datasets where id in (?, ?)`, [
    oldId,
    recentId,
  ])) as unknown[];
  expect(rows).toHaveLength(1);

  const del = await t.gql<{ deleteOrphans: { deleted: number } }>(
    `mutation { deleteOrphans { deleted } }`,
    {},
    admin.accessToken,
  );
  expect(del.data!.deleteOrphans.deleted).toBe(1);
  expect(await storage.stat(strayKey)).toBeNull();

  const log = await t.gql<{
    auditLog: { nodes: Array<{ action: string; targetId: string | null }> };
  }>(`{ auditLog(first: 100) { nodes { action targetId } } }`, {}, admin.accessToken);
  const actions = log.data!.auditLog.nodes.map(n => `${n.action}:${n.targetId ?? ''}`);
  expect(actions).toEqual(
    expect.arrayContaining([
      `dataset.delete:${oldId}`,
      `job.cancel:${jobId}`,
      'admin.runRetention:',
      'admin.deleteOrphans:',
    ]),
  );
});

it('purges artifacts of jobs that ended more than RETENTION_ARTIFACT_DAYS ago; job row, result document and events stay', async () => {
  const u = await registerUser(t);
  const storage = t.app.services.storage;
  const datasetId = await uploadCsv(t, u.accessToken, syntheticCsv(10, 5), 'artifacts');

  /**
   * A MODEL_TRAINING job as a worker leaves it: COMPLETED `daysAgo` days ago, a result listing
   * its model under jobs/<id>/attempt-1/, plus an unlisted export in the same run folder. (No
   * worker runs here: submit, then set the row and objects the way the worker writes them.)
   */
  async function finishedJob(daysAgo: number, withArtifacts = true) {
    const res = await t.gql<{ submitJob: { id: string } }>(
      `mutation($input: SubmitJobInput!) { submitJob(input: $input) { id } }`,
      {
        input: {
          datasetId,
          type: 'FEATURE_SELECTION',
          device: 'CPU',
          config: { selectors: [{ code: 't_test', k: 2 }] },
        },
      },
      u.accessToken,
    );
    expect(res.errors).toBeUndefined();
    const id = res.data!.submitJob.id;
    const model = `jobs/${id}/attempt-1/model.json`;
    const exported = `jobs/${id}/attempt-1/exports/signature.csv`;
    const keys = withArtifacts ? [model] : [];
    if (withArtifacts) {
      await storage.put(model, Buffer.from('{"code":"logistic_regression"}'));
      await storage.put(exported, Buffer.from('feature\ng1\n'));
    }
    await sql(
      `update jobs set status = 'COMPLETED', attempt = 1, progress = 100,
              finished_at = now() - (? * interval '1 day') where id = ?`,
      [daysAgo, id],
    );
    await sql(
      `insert into job_results (job_id, attempt, summary, data, artifacts)
       values (?, 1, ?::jsonb, ?::jsonb, ?::jsonb)`,
      [
        id,
        JSON.stringify({ model: 'logistic_regression', auc: 0.9 }),
        JSON.stringify({
          model: 'logistic_regression',
          ...(withArtifacts ? { modelArtifact: model } : {}),
          cv: { auc: 0.9 },
        }),
        JSON.stringify(keys),
      ],
    );
    return { id, model, exported };
  }

  const old = await finishedJob(31);
  const recent = await finishedJob(29);
  const oldWithout = await finishedJob(40, false);
  const result = async (id: string) =>
    (
      (await sql(`select data, summary, artifacts from job_results where job_id = ?`, [
        id,
      ])) as Array<{
        data: Record<string, unknown>;
        summary: Record<string, unknown>;
        artifacts: string[];
      }>
    )[0]!;

  // Two replicas running the same round at once: each job is purged and counted once.
  const now = new Date();
  const [a, b] = await Promise.all([
    runRetention(t.app.services, now),
    runRetention(t.app.services, now),
  ]);
  expect(a.jobArtifactsPurged + b.jobArtifactsPurged).toBe(1);
  expect(a.artifactObjectsDeleted + b.artifactObjectsDeleted).toBe(2); // model + unlisted export

  // The old job's objects are gone; the recent job's are untouched.
  expect(await storage.stat(old.model)).toBeNull();
  expect(await storage.stat(old.exported)).toBeNull();
  const left: string[] = [];
  for await (const k of storage.list(`jobs/${old.id}/`)) left.push(k);
  expect(left).toEqual([]);
  expect(await storage.stat(recent.model)).not.toBeNull();
  expect(await storage.stat(recent.exported)).not.toBeNull();

  // The result stays, marked: no artifact keys to hand out, the model pointer moved into the
  // purge record (a PREDICTION from this job then reports "no trained model").
  const purged = await result(old.id);
  expect(purged.artifacts).toEqual([]);
  expect(purged.summary).toEqual({ model: 'logistic_regression', auc: 0.9 });
  expect(purged.data).toMatchObject({ model: 'logistic_regression', cv: { auc: 0.9 } });
  expect(purged.data.modelArtifact).toBeUndefined();
  expect(purged.data.artifactsPurged).toEqual({
    at: now.toISOString(),
    keys: [old.model],
    objects: 2,
    modelArtifact: old.model,
  });
  const kept = await result(recent.id);
  expect(kept.artifacts).toEqual([recent.model]);
  expect(kept.data.modelArtifact).toBe(recent.model);
  expect(kept.data.artifactsPurged).toBeUndefined();
  // A job with no artifacts is not touched either.
  expect((await result(oldWithout.id)).data.artifactsPurged).toBeUndefined();

  // The job itself is still there (status, and its events: younger than 90 days).
  const job = await t.gql<{ job: { status: string } }>(
    `query($id: ID!) { job(id: $id) { status } }`,
    { id: old.id },
    u.accessToken,
  );
  expect(job.data?.job.status).toBe('COMPLETED');
  const events = (await sql(`select count(*)::int as n from job_events where job_id = ?`, [
    old.id,
  ])) as Array<{ n: number }>;
  expect(events[0]!.n).toBeGreaterThan(0);

  // Admins run the same round over GraphQL; the counts are in the report and the audit row.
  const later = await finishedJob(35);
  const admin = await registerUser(t);
  await setRoleInDb(t, admin.id, 'ADMIN');
  const run = await t.gql<{
    runRetention: { jobArtifactsPurged: number; artifactObjectsDeleted: number };
  }>(
    `mutation { runRetention { jobArtifactsPurged artifactObjectsDeleted } }`,
    {},
    admin.accessToken,
  );
  expect(run.errors).toBeUndefined();
  expect(run.data!.runRetention).toEqual({ jobArtifactsPurged: 1, artifactObjectsDeleted: 2 });
  expect(await storage.stat(later.model)).toBeNull();
  expect(await storage.stat(recent.model)).not.toBeNull();
  const audit = (await sql(
    `select details from audit_log where action = 'admin.runRetention' and actor_id = ?`,
    [admin.id],
  )) as Array<{ details: Record<string, number> }>;
  expect(audit[0]!.details).toMatchObject({ jobArtifactsPurged: 1, artifactObjectsDeleted: 2 });
});
