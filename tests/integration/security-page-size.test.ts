/**
 * Page size ≤ 100 on every list (issue 9), generated from the executable schema: every field
 * argument named `first`, `last` or `limit` (on any type, connections or plain lists) is sent
 * 101 over HTTP and must come back BAD_USER_INPUT on that field (error path ends with the field,
 * `extensions.field` names the argument), while 100 is answered. A new list field is covered
 * without touching this file; one reachable only through an argument this file cannot fill fails
 * with a message saying so. The objects the nested fields hang on (a dataset, a COMPLETED job with
 * its result) are made for real: an upload and a tiny job through a worker.
 */
import {
  getNamedType,
  getNullableType,
  isLeafType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { buildAppSchema } from '../../src/graphql/schema';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';
import {
  ensureBuilt,
  FAST_JOB_ENV,
  gqlOk,
  startWorker,
  stopAllWorkers,
  syntheticCsv,
  TERMINAL,
  uploadCsv,
  waitForJob,
  type JobView,
} from '../helpers/worker';

Object.assign(process.env, FAST_JOB_ENV);

const PAGE_ARGS = new Set(['first', 'last', 'limit']);

interface ListField {
  type: string;
  field: string;
  arg: string;
}

/** Every (type, field, page argument) of the schema. */
function listFields(schema: GraphQLSchema): ListField[] {
  const out: ListField[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      for (const a of field.args) {
        if (PAGE_ARGS.has(a.name)) out.push({ type: type.name, field: field.name, arg: a.name });
      }
    }
  }
  return out;
}

describe('page size ≤ 100 on every list argument of the schema', () => {
  let t: TestApp;
  let token: string;
  let schema: GraphQLSchema;
  /** Ids by object type, for required `id` arguments; by argument name for `jobId` / `datasetId`. */
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    schema = await buildAppSchema();
    await ensureBuilt();
    t = await startTestApp();
    const u = await registerUser(t);
    // ADMIN: the admin-only lists (users, auditLog, orphanReport) are in the schema too.
    await setRoleInDb(t, u.id, 'ADMIN');
    token = u.accessToken;
    const datasetId = await uploadCsv(t, token, syntheticCsv(20, 6, 3));
    const { submitJob } = await gqlOk<{ submitJob: JobView }>(
      t,
      'SubmitJob',
      {
        input: {
          type: 'FEATURE_SELECTION',
          datasetId,
          config: { selectors: [{ code: 't_test', k: 2 }] },
          device: 'CPU',
        },
      },
      token,
    );
    const w = startWorker(t, { pool: 'cpu' });
    await w.live();
    const done = await waitForJob(t, token, submitJob.id, j => TERMINAL.has(j.status), 120_000);
    expect(done.status).toBe('COMPLETED');
    Object.assign(ids, { Dataset: datasetId, datasetId, Job: submitJob.id, jobId: submitJob.id });
  }, 180_000);

  afterAll(async () => {
    await stopAllWorkers();
    await t?.close();
  });

  /** `name(args)` with every required argument filled, or an error naming what is missing. */
  function call(owner: GraphQLObjectType, f: GraphQLField<unknown, unknown>, extra = ''): string {
    const args: string[] = extra ? [extra] : [];
    for (const a of f.args) {
      if (!isNonNullType(a.type) || a.defaultValue !== undefined || PAGE_ARGS.has(a.name)) continue;
      const id = ids[a.name] ?? (a.name === 'id' ? ids[getNamedType(f.type).name] : undefined);
      if (id === undefined) {
        throw new Error(
          `${owner.name}.${f.name}: no value for its required argument "${a.name}"; teach security-page-size.test.ts one`,
        );
      }
      args.push(`${a.name}: ${JSON.stringify(id)}`);
    }
    return args.length ? `${f.name}(${args.join(', ')})` : f.name;
  }

  /** The query reaching `target` from Query (breadth-first over fields we can call), page = n. */
  function queryFor(target: ListField, n: number): string {
    const query = schema.getQueryType()!;
    const targetType = schema.getType(target.type) as GraphQLObjectType;
    const targetField = targetType.getFields()[target.field]!;
    const leaf = isLeafType(getNamedType(targetField.type)) ? '' : ' { __typename }';
    const inner = `${call(targetType, targetField, `${target.arg}: ${n}`)}${leaf}`;
    // Paths of field calls from Query to each reachable type.
    const paths = new Map<string, string[]>([[query.name, []]]);
    const queue: GraphQLObjectType[] = [query];
    while (queue.length && !paths.has(target.type)) {
      const type = queue.shift()!;
      for (const f of Object.values(type.getFields())) {
        const named = getNamedType(f.type);
        if (!isObjectType(named) || paths.has(named.name)) continue;
        // Only through single objects (a list's items would need data of their own).
        if (!isObjectType(getNullableType(f.type))) continue;
        let step: string;
        try {
          step = call(type, f);
        } catch {
          continue;
        }
        paths.set(named.name, [...paths.get(type.name)!, step]);
        queue.push(named);
      }
    }
    const path = paths.get(target.type);
    if (!path) throw new Error(`${target.type}.${target.field}: no path from Query to test it`);
    return `{ ${path.reduceRight((body, step) => `${step} { ${body} }`, inner)} }`;
  }

  it('finds the paged lists (the known ones at least)', () => {
    const names = listFields(schema).map(l => `${l.type}.${l.field}(${l.arg})`);
    expect(names).toEqual(
      expect.arrayContaining([
        'Query.datasets(first)',
        'Query.jobs(first)',
        'Query.jobEvents(first)',
        'JobResultType.features(first)',
        'JobResultType.folds(first)',
        'JobResultType.predictions(first)',
        'Dataset.featureNames(limit)',
        'Dataset.sampleIds(limit)',
      ]),
    );
  });

  it('refuses 101 with BAD_USER_INPUT naming the field, and answers 100, on every one', async () => {
    const lists = listFields(schema);
    const failures: string[] = [];
    for (const l of lists) {
      const name = `${l.type}.${l.field}(${l.arg})`;
      const over = await t.gql(queryFor(l, 101), {}, token);
      const e = over.errors?.[0];
      if (
        e?.extensions?.code !== 'BAD_USER_INPUT' ||
        e.path?.at(-1) !== l.field ||
        e.extensions?.field !== l.arg
      ) {
        failures.push(`${name} 101 → ${JSON.stringify(over.errors ?? over.data)}`);
      }
      const ok = await t.gql(queryFor(l, 100), {}, token);
      if (ok.errors) failures.push(`${name} 100 → ${JSON.stringify(ok.errors)}`);
    }
    expect(failures).toEqual([]);
    expect(lists.length).toBeGreaterThanOrEqual(8);
  });
});
