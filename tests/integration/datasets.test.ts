/**
 * Datasets end to end on both storage backends (local filesystem and S3 via s3rver): multipart and
 * presigned uploads, every parse rejection with its line/column, pagination, preview, soft delete,
 * and the IDOR matrix (user B gets NOT_FOUND on every id-taking operation for user A's dataset).
 * Operations come from schema/operations/datasets.graphql, so that file stays valid.
 */
import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Kind, parse, print, type DefinitionNode } from 'graphql';
import { loadDatasetMatrix } from '../../src/modules/datasets/dataset.matrix';
import { purgeDeletedDatasets } from '../../src/modules/datasets/dataset.service';
import { MatrixIntegrityError } from '../../src/modules/datasets/dataset.storage';
import { registerUser, setRoleInDb, startTestApp, type TestApp } from '../helpers/app';

const ROOT = join(__dirname, '..', '..');
const OPS = parse(readFileSync(join(ROOT, 'schema/operations/datasets.graphql'), 'utf8'));
const FIXTURE = readFileSync(join(ROOT, 'tests/fixtures/uploads/tumor-normal.csv'));
const MAX_UPLOAD = 64 * 1024;

/** One operation of the operations file plus the fragments it uses. */
function op(name: string): string {
  const def = OPS.definitions.find(
    d => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === name,
  );
  if (!def) throw new Error(`no operation ${name} in datasets.graphql`);
  const text = print(def);
  const fragments = OPS.definitions.filter(
    (d: DefinitionNode) =>
      d.kind === Kind.FRAGMENT_DEFINITION && text.includes(`...${d.name.value}`),
  );
  return [text, ...fragments.map(f => print(f))].join('\n');
}

interface Failure {
  code: string;
  line: number | null;
  column: number | null;
  columnName: string | null;
}

interface DatasetView {
  id: string;
  ownerId: string;
  name: string;
  status: string;
  failureReason: string | null;
  failure: Failure | null;
  sampleCount: number | null;
  featureCount: number | null;
  missingCount: number | null;
  outcome: Record<string, unknown> | null;
  sha256: string | null;
  sizeBytes: number | null;
  gzip: boolean | null;
  originalFilename: string | null;
  metadata: Record<string, unknown>;
  deletedAt: string | null;
  dataType: string;
  description: string | null;
}

interface Res<T> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

const binaryOutcome = { kind: 'BINARY', column: 'y', positiveClass: 'case' };

describe.each(['local', 's3'] as const)('datasets on %s storage', storage => {
  let t: TestApp;
  let alice: { id: string; accessToken: string };
  let bob: { id: string; accessToken: string };
  let admin: { id: string; accessToken: string };

  async function gql<T>(name: string, variables: Record<string, unknown>, token?: string) {
    return (await t.gql<T>(op(name), variables, token)) as Res<T>;
  }

  /** GraphQL multipart request (graphql-multipart-request-spec), as curl -F would send it. */
  async function upload(
    token: string,
    input: Record<string, unknown>,
    bytes: Buffer | string,
    filename = 'data.csv',
  ): Promise<Res<{ uploadDataset: DatasetView }>> {
    const form = new FormData();
    form.append(
      'operations',
      JSON.stringify({ query: op('UploadDataset'), variables: { input, file: null } }),
    );
    form.append('map', JSON.stringify({ 0: ['variables.file'] }));
    form.append('0', new Blob([typeof bytes === 'string' ? Buffer.from(bytes) : bytes]), filename);
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
      body: form,
    });
    const body = (await res.json()) as Omit<Res<{ uploadDataset: DatasetView }>, 'status'>;
    return { status: res.status, ...body };
  }

  async function uploadOk(token: string, input: Record<string, unknown>, bytes: Buffer | string) {
    const res = await upload(token, input, bytes);
    if (!res.data?.uploadDataset) throw new Error(`upload failed: ${JSON.stringify(res.errors)}`);
    return res.data.uploadDataset;
  }

  beforeAll(async () => {
    t = await startTestApp({ storage, env: { MAX_UPLOAD_BYTES: String(MAX_UPLOAD) } });
    [alice, bob, admin] = await Promise.all([registerUser(t), registerUser(t), registerUser(t)]);
    await setRoleInDb(t, admin.id, 'ADMIN');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('uploads a CSV by multipart request and parses it (BOM, CRLF, NA, batch, ignored column)', async () => {
    const res = await upload(
      alice.accessToken,
      {
        name: 'Tumour vs normal',
        description: 'six samples',
        dataType: 'BULK_RNA_SEQ',
        metadata: { tissue: 'lung', n: 6 },
        sampleIdColumn: 'sample',
        outcome: { kind: 'BINARY', column: 'diagnosis', positiveClass: 'tumor' },
        batchColumn: 'batch',
        ignoreColumns: ['age'],
      },
      FIXTURE,
      '../../etc/tumor-normal.csv',
    );
    expect(res.errors).toBeUndefined();
    const ds = res.data!.uploadDataset;
    expect(ds).toMatchObject({
      ownerId: alice.id,
      status: 'READY',
      dataType: 'BULK_RNA_SEQ',
      sampleCount: 6,
      featureCount: 4,
      missingCount: 2,
      sha256: createHash('sha256').update(FIXTURE).digest('hex'),
      sizeBytes: FIXTURE.length,
      gzip: false,
      originalFilename: 'tumor-normal.csv',
      metadata: { tissue: 'lung', n: 6 },
      failure: null,
      outcome: {
        kind: 'BINARY',
        column: 'diagnosis',
        positiveClass: 'tumor',
        classes: ['normal', 'tumor'],
        classCounts: [
          { label: 'normal', count: 3 },
          { label: 'tumor', count: 3 },
        ],
      },
    });

    const names = await gql<{ dataset: { featureNames: string[]; sampleIds: string[] } }>(
      'DatasetNames',
      { id: ds.id, offset: 1, limit: 2 },
      alice.accessToken,
    );
    expect(names.data?.dataset).toEqual({
      id: ds.id,
      featureNames: ['BRCA1', 'EGFR'],
      sampleIds: ['P02', 'P03'],
    });

    const preview = await gql<{ datasetPreview: Record<string, unknown> }>(
      'DatasetPreview',
      { id: ds.id, rows: 2, columns: 3, columnOffset: 1 },
      alice.accessToken,
    );
    expect(preview.data?.datasetPreview).toEqual({
      rowOffset: 0,
      columnOffset: 1,
      totalRows: 6,
      totalColumns: 4,
      sampleIds: ['P01', 'P02'],
      featureNames: ['BRCA1', 'EGFR', 'MYC'],
      values: [
        [3.3, null, 7.01],
        [3.91, 2.2, 6.1],
      ],
      outcome: ['tumor', 'normal'],
    });
    const tooMany = await gql('DatasetPreview', { id: ds.id, rows: 101 }, alice.accessToken);
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    // What jobs get: the matrix from the binary object, checksum verified.
    const em = t.app.services.orm.em.fork();
    const matrix = await loadDatasetMatrix(
      { em, storage: t.app.services.storage },
      ds.id,
      alice.id,
    );
    expect(matrix.featureNames).toEqual(['TP53', 'BRCA1', 'EGFR', 'MYC']);
    expect(matrix.batch).toEqual(['b1', 'b1', 'b2', 'b2', 'b1', 'b2']);
    expect(Array.from(matrix.data.subarray(12, 18))).toEqual([NaN, 2.2, 2.95, 2.05, 3.1, 1.98]);
    await expect(
      loadDatasetMatrix({ em: em.fork(), storage: t.app.services.storage }, ds.id, bob.id),
    ).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  });

  it('takes a gzip TSV through the presigned flow (request → PUT → complete)', async () => {
    const rows = ['id\ttime\tstatus\tg1\tg2'];
    for (let i = 0; i < 12; i++) rows.push(`s${i}\t${10 + i}\t${i % 3 ? 1 : 0}\t${i / 4}\t${-i}`);
    const gz = gzipSync(Buffer.from(rows.join('\n') + '\n'));
    const req = await gql<{
      requestDatasetUpload: { uploadUrl: string; expiresAt: string; dataset: DatasetView };
    }>(
      'RequestDatasetUpload',
      {
        input: {
          name: 'survival',
          dataType: 'CLINICAL',
          filename: 'surv.tsv.gz',
          sizeBytes: gz.length,
          outcome: { kind: 'SURVIVAL', timeColumn: 'time', eventColumn: 'status' },
        },
      },
      alice.accessToken,
    );
    expect(req.errors).toBeUndefined();
    const ticket = req.data!.requestDatasetUpload;
    expect(ticket.dataset.status).toBe('UPLOADING');
    const ttl = (Date.parse(ticket.expiresAt) - Date.now()) / 1000;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(t.config.presignTtlSeconds + 5);

    const early = await gql('CompleteDatasetUpload', { id: ticket.dataset.id }, alice.accessToken);
    expect(early.errors?.[0]?.message).toMatch(/nothing has been uploaded yet/);

    const put = await fetch(ticket.uploadUrl, { method: 'PUT', body: gz });
    expect(put.status).toBe(200);
    const done = await gql<{ completeDatasetUpload: DatasetView }>(
      'CompleteDatasetUpload',
      { id: ticket.dataset.id },
      alice.accessToken,
    );
    expect(done.errors).toBeUndefined();
    expect(done.data!.completeDatasetUpload).toMatchObject({
      status: 'READY',
      gzip: true,
      sampleCount: 12,
      featureCount: 2,
      sha256: createHash('sha256').update(gz).digest('hex'),
      sizeBytes: gz.length,
      originalFilename: 'surv.tsv.gz',
      outcome: {
        kind: 'SURVIVAL',
        timeColumn: 'time',
        eventColumn: 'status',
        events: 8,
        censored: 4,
      },
    });
    const again = await gql('CompleteDatasetUpload', { id: ticket.dataset.id }, alice.accessToken);
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('enforces the upload size limit: multipart 413, presigned request, PUT or complete', async () => {
    const big = 'id,g\n' + 'a,1\n'.repeat(MAX_UPLOAD / 4 + 10);
    const res = await upload(alice.accessToken, { name: 'big' }, big);
    expect(res.status).toBe(413);
    expect(res.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'UPLOAD_TOO_LARGE',
    });
    const failedId = res.errors?.[0]?.extensions?.datasetId as string;
    const failed = await gql<{ dataset: DatasetView }>(
      'Dataset',
      { id: failedId },
      alice.accessToken,
    );
    expect(failed.data?.dataset.status).toBe('FAILED');
    expect(await t.app.services.storage.stat(`datasets/${failedId}/upload`)).toBeNull();

    const declared = await gql(
      'RequestDatasetUpload',
      { input: { name: 'big', sizeBytes: MAX_UPLOAD + 1 } },
      alice.accessToken,
    );
    expect(declared.errors?.[0]?.extensions?.reason).toBe('UPLOAD_TOO_LARGE');

    const ticket = await gql<{ requestDatasetUpload: { uploadUrl: string; dataset: DatasetView } }>(
      'RequestDatasetUpload',
      { input: { name: 'liar', sizeBytes: 100 } },
      alice.accessToken,
    );
    const { uploadUrl, dataset } = ticket.data!.requestDatasetUpload;
    const put = await fetch(uploadUrl, { method: 'PUT', body: big });
    if (storage === 'local') {
      // The local backend binds the declared size into the signed URL.
      expect(put.status).toBe(413);
    } else {
      // S3 presigned PUTs cannot bind the size: completing finds it too large and removes it.
      expect(put.status).toBe(200);
      const done = await gql('CompleteDatasetUpload', { id: dataset.id }, alice.accessToken);
      expect(done.errors?.[0]?.extensions).toMatchObject({ reason: 'UPLOAD_TOO_LARGE' });
      expect(await t.app.services.storage.stat(`datasets/${dataset.id}/upload`)).toBeNull();
    }
  });

  const header = 'id,y,g1,g2';
  const rejections: Array<{
    what: string;
    body: string | Buffer;
    input?: Record<string, unknown>;
    reason: string;
    line: number | null;
    column: number | null;
    text: RegExp;
  }> = [
    {
      what: 'a non-numeric cell',
      body: `${header}\na,case,1,2\nb,ctrl,abc,4\n`,
      reason: 'NON_NUMERIC',
      line: 3,
      column: 3,
      text: /line 3, column 3 \("g1"\): "abc" is not a number/,
    },
    {
      what: 'a hex number',
      body: `${header}\na,case,1,0x1A\nb,ctrl,3,4\n`,
      reason: 'NON_NUMERIC',
      line: 2,
      column: 4,
      text: /"0x1A" is not a number/,
    },
    {
      what: 'an infinite value',
      body: `${header}\na,case,1,2\nb,ctrl,-Inf,4\n`,
      reason: 'INFINITE',
      line: 3,
      column: 3,
      text: /"-Inf" is infinite/,
    },
    {
      what: 'duplicate column names',
      body: 'id,y,g1,g1\na,case,1,2\nb,ctrl,3,4\n',
      reason: 'DUPLICATE_COLUMN',
      line: 1,
      column: 4,
      text: /duplicate column name "g1"/,
    },
    {
      what: 'an empty column name',
      body: 'id,y,,g2\na,case,1,2\nb,ctrl,3,4\n',
      reason: 'EMPTY_COLUMN_NAME',
      line: 1,
      column: 3,
      text: /empty column name/,
    },
    {
      what: 'a ragged row',
      body: `${header}\na,case,1,2\nb,ctrl,3\n`,
      reason: 'RAGGED_ROW',
      line: 3,
      column: 4,
      text: /3 fields but the header has 4/,
    },
    {
      what: 'a missing outcome column',
      body: `${header}\na,case,1,2\nb,ctrl,3,4\n`,
      input: { outcome: { kind: 'BINARY', column: 'status', positiveClass: 'case' } },
      reason: 'MISSING_COLUMN',
      line: 1,
      column: null,
      text: /outcome column "status" is not in the header/,
    },
    {
      what: 'a binary outcome with three classes',
      body: `${header}\na,case,1,2\nb,ctrl,3,4\nc,other,5,6\n`,
      reason: 'BAD_OUTCOME',
      line: 4,
      column: 2,
      text: /exactly two classes/,
    },
    {
      what: 'a binary outcome with one class',
      body: `${header}\na,case,1,2\nb,case,3,4\n`,
      reason: 'BAD_OUTCOME',
      line: 1,
      column: 2,
      text: /exactly two classes, found 1/,
    },
    {
      what: 'a positive class that does not occur',
      body: `${header}\na,Case,1,2\nb,ctrl,3,4\n`,
      reason: 'BAD_OUTCOME',
      line: 1,
      column: 2,
      text: /positive class "case" does not occur/,
    },
    {
      what: 'a missing value under the ERROR policy',
      body: `${header}\na,case,1,NA\nb,ctrl,3,4\n`,
      input: { missingValues: 'ERROR' },
      reason: 'MISSING_VALUE',
      line: 2,
      column: 4,
      text: /missing value "NA"/,
    },
    {
      what: 'a binary file (PNG renamed to .csv)',
      body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      reason: 'NOT_TEXT',
      line: 1,
      column: null,
      text: /PNG image/,
    },
    {
      what: 'UTF-16 text',
      body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${header}\n`, 'utf16le')]),
      reason: 'NOT_TEXT',
      line: 1,
      column: null,
      text: /UTF-16/,
    },
    {
      what: 'invalid UTF-8 (Latin-1 text)',
      body: Buffer.concat([
        Buffer.from(`${header}\na,case,1,2\nb`),
        Buffer.from([0xe9]),
        Buffer.from(',ctrl,3,4\n'),
      ]),
      reason: 'NOT_TEXT',
      line: 3,
      column: null,
      text: /invalid UTF-8/,
    },
  ];

  it.each(rejections)(
    'rejects $what: BAD_USER_INPUT naming line/column, dataset FAILED',
    async r => {
      const res = await upload(
        alice.accessToken,
        {
          name: r.what,
          outcome: binaryOutcome,
          ...r.input,
        },
        r.body,
      );
      expect(res.data).toBeNull();
      const err = res.errors?.[0];
      expect(err?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: r.reason,
        line: r.line,
        column: r.column,
      });
      expect(err?.message).toMatch(/^The file could not be read: /);
      expect(err?.message).toMatch(r.text);
      const id = err?.extensions?.datasetId as string;
      const ds = await gql<{ dataset: DatasetView }>('Dataset', { id }, alice.accessToken);
      expect(ds.data?.dataset).toMatchObject({
        status: 'FAILED',
        failure: { code: r.reason, line: r.line, column: r.column },
      });
      expect(err?.message).toContain(ds.data!.dataset.failureReason!);
    },
  );

  it('checks the outcome input before storing anything', async () => {
    const res = await upload(
      alice.accessToken,
      { name: 'no positive', outcome: { kind: 'BINARY', column: 'y' } },
      `${header}\na,case,1,2\n`,
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'outcome.positiveClass',
    });
    const unauth = await gql('Datasets', {});
    expect(unauth.status).toBe(401);
    expect(unauth.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('pages through datasets newest first with a stable cursor, and filters', async () => {
    const carol = await registerUser(t);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const ds = await uploadOk(carol.accessToken, { name: `set ${i}` }, `id,g\na,${i}\nb,2\n`);
      made.push(ds.id);
    }
    await upload(carol.accessToken, { name: 'broken' }, 'id,g\na,x\n');
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const res: Res<{
        datasets: {
          totalCount: number;
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
          edges: Array<{ node: DatasetView }>;
        };
      }> = await gql(
        'Datasets',
        { first: 2, after, filter: { status: 'READY' } },
        carol.accessToken,
      );
      const page = res.data!.datasets;
      expect(page.totalCount).toBe(5);
      seen.push(...page.edges.map(e => e.node.id));
      pages++;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([...made].reverse());

    // List pages read plain rows, not entities: every field must match the single-dataset read.
    const listed = await gql<{ datasets: { edges: Array<{ node: DatasetView }> } }>(
      'Datasets',
      { first: 1, filter: { status: 'READY' } },
      carol.accessToken,
    );
    const single = await gql<{ dataset: DatasetView }>(
      'Dataset',
      { id: made[4] },
      carol.accessToken,
    );
    expect(listed.data?.datasets.edges[0]?.node).toEqual(single.data?.dataset);
    expect(typeof single.data?.dataset.sizeBytes).toBe('number');
    const names = (await t.gql<{
      datasets: { edges: Array<{ node: { featureNames: string[] } }> };
    }>(
      'query ListedNames { datasets(first: 2, filter: { status: READY }) { edges { node { featureNames } } } }',
      {},
      carol.accessToken,
    )) as Res<{ datasets: { edges: Array<{ node: { featureNames: string[] } }> } }>;
    expect(names.data?.datasets.edges.map(e => e.node.featureNames)).toEqual([['g'], ['g']]);

    const failed = await gql<{ datasets: { totalCount: number } }>(
      'Datasets',
      { filter: { status: 'FAILED' } },
      carol.accessToken,
    );
    expect(failed.data?.datasets.totalCount).toBe(1);
    const search = await gql<{ datasets: { edges: Array<{ node: DatasetView }> } }>(
      'Datasets',
      { filter: { search: 'SET 3' } },
      carol.accessToken,
    );
    expect(search.data?.datasets.edges.map(e => e.node.id)).toEqual([made[3]]);
    const wildcard = await gql<{ datasets: { totalCount: number } }>(
      'Datasets',
      { filter: { search: '%' } },
      carol.accessToken,
    );
    expect(wildcard.data?.datasets.totalCount).toBe(0);

    const tooMany = await gql('Datasets', { first: 101 }, carol.accessToken);
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Validated by hand (checkDatasetsArgs), with class-validator's error shape and text.
    const longSearch = await gql(
      'Datasets',
      { filter: { search: 's'.repeat(201) } },
      carol.accessToken,
    );
    expect(longSearch.errors?.[0]?.message).toBe('Argument Validation Error');
    expect(longSearch.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      validationErrors: [
        {
          property: 'filter',
          children: [
            {
              property: 'search',
              constraints: { maxLength: 'search must be shorter than or equal to 200 characters' },
            },
          ],
        },
      ],
    });
    const maxSearch = await gql(
      'Datasets',
      { filter: { search: 's'.repeat(200) } },
      carol.accessToken,
    );
    expect(maxSearch.errors).toBeUndefined();
    const badCursor = await gql('Datasets', { after: 'not-a-cursor' }, carol.accessToken);
    expect(badCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('updates and soft-deletes; deleted datasets are hidden except from admins, then purged', async () => {
    const ds = await uploadOk(
      alice.accessToken,
      { name: 'temp', outcome: binaryOutcome },
      `${header}\na,case,1,2\nb,ctrl,3,4\n`,
    );
    const upd = await gql<{ updateDataset: DatasetView }>(
      'UpdateDataset',
      {
        id: ds.id,
        input: { name: 'renamed', description: null, dataType: 'PROTEOMICS', metadata: { v: 2 } },
      },
      alice.accessToken,
    );
    expect(upd.data?.updateDataset).toMatchObject({
      name: 'renamed',
      description: null,
      dataType: 'PROTEOMICS',
      metadata: { v: 2 },
    });

    const del = await gql<{ deleteDataset: { id: string; deletedAt: string } }>(
      'DeleteDataset',
      { id: ds.id },
      alice.accessToken,
    );
    expect(del.data?.deleteDataset.deletedAt).toBeTruthy();
    for (const [name, vars] of [
      ['Dataset', { id: ds.id }],
      ['DatasetPreview', { id: ds.id }],
      ['DeleteDataset', { id: ds.id }],
      ['UpdateDataset', { id: ds.id, input: { name: 'x' } }],
    ] as const) {
      const r = await gql(name, vars, alice.accessToken);
      expect([name, r.errors?.[0]?.extensions?.code]).toEqual([name, 'NOT_FOUND']);
    }
    const mine = await gql<{ datasets: { edges: Array<{ node: DatasetView }> } }>(
      'Datasets',
      { first: 100 },
      alice.accessToken,
    );
    expect(mine.data?.datasets.edges.map(e => e.node.id)).not.toContain(ds.id);
    const sneaky = await gql('Datasets', { filter: { includeDeleted: true } }, alice.accessToken);
    expect(sneaky.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const asAdmin = await gql<{ datasets: { edges: Array<{ node: DatasetView }> } }>(
      'Datasets',
      { first: 100, filter: { includeDeleted: true, ownerId: alice.id } },
      admin.accessToken,
    );
    const row = asAdmin.data?.datasets.edges.find(e => e.node.id === ds.id)?.node;
    expect(row?.deletedAt).toBeTruthy();
    const adminGet = await gql<{ dataset: DatasetView }>(
      'Dataset',
      { id: ds.id },
      admin.accessToken,
    );
    expect(adminGet.data?.dataset.deletedAt).toBeTruthy();
    await expect(
      loadDatasetMatrix(
        { em: t.app.services.orm.em.fork(), storage: t.app.services.storage },
        ds.id,
        alice.id,
      ),
    ).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });

    const purged = await purgeDeletedDatasets(
      { em: t.app.services.orm.em.fork(), storage: t.app.services.storage },
      new Date(Date.now() + 1000),
    );
    expect(purged).toBeGreaterThanOrEqual(1);
    expect(await t.app.services.storage.stat(`datasets/${ds.id}/upload`)).toBeNull();
    expect(await t.app.services.storage.stat(`datasets/${ds.id}/matrix.osm`)).toBeNull();
    const gone = await gql('Dataset', { id: ds.id }, admin.accessToken);
    expect(gone.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('refuses a corrupted matrix object (checksum) instead of computing on it', async () => {
    const ds = await uploadOk(alice.accessToken, { name: 'c' }, 'id,g\na,1\nb,2\n');
    const key = `datasets/${ds.id}/matrix.osm`;
    const chunks: Buffer[] = [];
    for await (const c of await t.app.services.storage.get(key)) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    bytes[bytes.length - 1] ^= 0xff;
    await t.app.services.storage.put(key, bytes);
    await expect(
      loadDatasetMatrix(
        { em: t.app.services.orm.em.fork(), storage: t.app.services.storage },
        ds.id,
        alice.id,
      ),
    ).rejects.toBeInstanceOf(MatrixIntegrityError);
  });

  it("answers NOT_FOUND to user B on every id-taking operation for A's dataset, with no side effects", async () => {
    const ds = await uploadOk(
      alice.accessToken,
      { name: 'private', outcome: binaryOutcome },
      `${header}\na,case,1,2\nb,ctrl,3,4\n`,
    );
    const pending = await gql<{ requestDatasetUpload: { dataset: DatasetView } }>(
      'RequestDatasetUpload',
      { input: { name: 'pending' } },
      alice.accessToken,
    );
    const pendingId = pending.data!.requestDatasetUpload.dataset.id;
    const missing = randomUUID();
    const calls = (id: string): Array<[string, Record<string, unknown>]> => [
      ['Dataset', { id }],
      ['DatasetNames', { id }],
      ['DatasetPreview', { id }],
      ['UpdateDataset', { id, input: { name: 'pwned' } }],
      ['DeleteDataset', { id }],
      ['CompleteDatasetUpload', { id }],
    ];
    for (const target of [ds.id, pendingId]) {
      const theirs = calls(target);
      const nothing = calls(missing);
      for (let k = 0; k < theirs.length; k++) {
        const [name, vars] = theirs[k]!;
        const a = await gql(name, vars, bob.accessToken);
        const b = await gql(name, nothing[k]![1], bob.accessToken);
        expect([name, a.data ?? null, a.errors?.[0]?.extensions?.code]).toEqual([
          name,
          null,
          'NOT_FOUND',
        ]);
        // Indistinguishable from a missing id (same code, same message shape, same status).
        expect(a.errors?.[0]?.message.replace(target, '<id>')).toBe(
          b.errors?.[0]?.message.replace(missing, '<id>'),
        );
        expect(a.status).toBe(b.status);
      }
    }
    const list = await gql<{ datasets: { totalCount: number } }>('Datasets', {}, bob.accessToken);
    expect(list.data?.datasets.totalCount).toBe(0);
    const peek = await gql('Datasets', { filter: { ownerId: alice.id } }, bob.accessToken);
    expect(peek.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Nothing changed for A.
    const still = await gql<{ dataset: DatasetView }>('Dataset', { id: ds.id }, alice.accessToken);
    expect(still.data?.dataset).toMatchObject({
      name: 'private',
      status: 'READY',
      deletedAt: null,
    });
    const stillPending = await gql<{ dataset: DatasetView }>(
      'Dataset',
      { id: pendingId },
      alice.accessToken,
    );
    expect(stillPending.data?.dataset.status).toBe('UPLOADING');
    // An admin sees both users' datasets.
    const all = await gql<{ datasets: { edges: Array<{ node: DatasetView }> } }>(
      'Datasets',
      { first: 100 },
      admin.accessToken,
    );
    expect(all.data?.datasets.edges.map(e => e.node.id)).toEqual(
      expect.arrayContaining([ds.id, pendingId]),
    );
  });
});
