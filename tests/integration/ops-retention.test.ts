/**
 * Retention (purge of old soft-deleted datasets and old job events), the orphan scan, and the
 * audit rows of dataset delete, job cancel and admin actions.
 */
import { randomUUID } from 'node:crypto';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';
import { slowSelection, syntheticCsv, uploadCsv } from '../helpers/worker';

let t: TestApp;
const sql = (q: string, params: unknown[] = []) =>
  t.app.services.orm.em.getConnection().execute(q, params);

beforeAll(async () => {
  t = await startTestApp({
    env: { RETENTION_DELETED_DATASETS_DAYS: '30', RETENTION_JOB_EVENTS_DAYS: '90' },
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
