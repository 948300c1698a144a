/** `datasets upload|list|show|delete`. */
import { type Command } from 'commander';
import { UsageError } from '../../compute/cli/errors.js';
import { table, writeJson, writeStdout } from '../../compute/cli/output.js';
import type {
  DataType,
  DatasetStatus,
  DatasetUploadInput,
  OutcomeInput,
  OutcomeKind,
} from '../../sdk/generated/graphql.js';
import type { Dataset } from '../../sdk/src/client.js';
import { connect, remoteOptions, type RemoteOptions } from '../remote.js';
import { choice, jsonArg, list, positiveInt } from './values.js';

const OUTCOMES = ['none', 'binary', 'multiclass', 'continuous', 'survival'] as const;
const DATA_TYPES = [
  'BULK_RNA_SEQ',
  'SINGLE_CELL_RNA_SEQ',
  'PROTEOMICS',
  'METABOLOMICS',
  'METHYLATION',
  'COPY_NUMBER',
  'CLINICAL',
  'OTHER',
] as const;
const STATUSES = ['UPLOADING', 'PROCESSING', 'READY', 'FAILED'] as const;

interface UploadOptions extends RemoteOptions {
  name?: string;
  description?: string;
  dataType?: string;
  outcome: string;
  target?: string;
  positiveClass?: string;
  timeColumn?: string;
  eventColumn?: string;
  sampleId?: string;
  batch?: string;
  ignore?: string;
  delimiter?: string;
  missing?: string;
  metadata?: string;
  presigned?: boolean;
}

function outcomeInput(o: UploadOptions): OutcomeInput | undefined {
  const kind = choice('--outcome', o.outcome, OUTCOMES).toUpperCase() as OutcomeKind;
  const need = (flag: string, value: string | undefined) => {
    if (!value) throw new UsageError(flag, `required with --outcome ${o.outcome}`);
    return value;
  };
  switch (kind) {
    case 'NONE':
      return undefined;
    case 'BINARY':
      return {
        kind,
        column: need('--target', o.target),
        positiveClass: need('--positive-class', o.positiveClass),
      };
    case 'MULTICLASS':
    case 'CONTINUOUS':
      return { kind, column: need('--target', o.target) };
    case 'SURVIVAL':
      return {
        kind,
        timeColumn: need('--time-column', o.timeColumn),
        eventColumn: need('--event-column', o.eventColumn),
      };
  }
}

async function upload(file: string, o: UploadOptions): Promise<void> {
  const name = o.name ?? file.replace(/^.*[\\/]/, '').replace(/\.(csv|tsv|txt)(\.gz)?$/i, '');
  const input: DatasetUploadInput = {
    name,
    description: o.description,
    dataType: o.dataType
      ? (choice('--data-type', o.dataType.toUpperCase(), DATA_TYPES) as DataType)
      : undefined,
    outcome: outcomeInput(o),
    sampleIdColumn: o.sampleId,
    batchColumn: o.batch,
    ignoreColumns: o.ignore ? list(o.ignore) : undefined,
    delimiter: o.delimiter
      ? (choice('--delimiter', o.delimiter.toLowerCase(), ['comma', 'tab']).toUpperCase() as
          'COMMA' | 'TAB')
      : undefined,
    missingValues: o.missing
      ? (choice('--missing', o.missing.toLowerCase(), ['allow', 'error']).toUpperCase() as
          'ALLOW' | 'ERROR')
      : undefined,
    metadata: o.metadata
      ? (jsonArg('--metadata', o.metadata) as Record<string, unknown>)
      : undefined,
  };
  const { client } = connect(o);
  const ds = await client.datasets.upload(file, input, { presigned: o.presigned });
  if (o.json) return writeJson(ds);
  await writeStdout(`Uploaded ${ds.id}\n${describeDataset(ds)}`);
}

export function describeDataset(ds: Dataset): string {
  const out = ds.outcome;
  const outcome = !out
    ? 'none'
    : out.kind === 'SURVIVAL'
      ? `SURVIVAL (${out.timeColumn}, ${out.eventColumn}): ${out.events} events, ${out.censored} censored`
      : out.classCounts?.length
        ? `${out.kind} ${out.column}: ${out.classCounts.map(c => `${c.label} ${c.count}`).join(', ')}`
        : `${out.kind} ${out.column ?? ''}`;
  const rows: Array<[string, string]> = [
    ['id', ds.id],
    ['name', ds.name],
    ['status', ds.status + (ds.failureReason ? ` (${ds.failureReason})` : '')],
    ['data type', ds.dataType],
    ['samples', String(ds.sampleCount ?? '')],
    ['features', String(ds.featureCount ?? '')],
    ['missing values', String(ds.missingCount ?? '')],
    ['outcome', outcome],
    [
      'file',
      `${ds.originalFilename ?? ''} (${ds.sizeBytes ?? '?'} bytes${ds.gzip ? ', gzip' : ''})`,
    ],
    ['sha256', ds.sha256 ?? ''],
    ['created', ds.createdAt],
  ];
  if (ds.description) rows.splice(2, 0, ['description', ds.description]);
  const w = Math.max(...rows.map(r => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}

interface ListOptions extends RemoteOptions {
  status?: string;
  search?: string;
  dataType?: string;
  first: string;
  after?: string;
}

async function listDatasets(o: ListOptions): Promise<void> {
  const { client } = connect(o);
  const page = await client.datasets.list({
    first: positiveInt('--first', o.first),
    after: o.after,
    filter: {
      status: o.status
        ? (choice('--status', o.status.toUpperCase(), STATUSES) as DatasetStatus)
        : undefined,
      search: o.search,
      dataType: o.dataType
        ? (choice('--data-type', o.dataType.toUpperCase(), DATA_TYPES) as DataType)
        : undefined,
    },
  });
  if (o.json) return writeJson(page);
  const rows = page.edges.map(({ node: d }) => [
    d.id,
    d.name,
    d.status,
    d.sampleCount ?? '',
    d.featureCount ?? '',
    d.outcome?.kind ?? 'NONE',
    d.createdAt.slice(0, 19).replace('T', ' '),
  ]);
  await writeStdout(
    table(['id', 'name', 'status', 'samples', 'features', 'outcome', 'created'], rows) +
      `${page.edges.length} of ${page.totalCount}` +
      (page.pageInfo.hasNextPage ? ` (next page: --after ${page.pageInfo.endCursor})` : '') +
      '\n',
  );
}

async function show(id: string, o: RemoteOptions): Promise<void> {
  const ds = await connect(o).client.datasets.get(id);
  if (o.json) return writeJson(ds);
  await writeStdout(describeDataset(ds));
}

async function remove(id: string, o: RemoteOptions): Promise<void> {
  const ds = await connect(o).client.datasets.delete(id);
  if (o.json) return writeJson(ds);
  await writeStdout(`Deleted ${ds.id}\n`);
}

export function registerDatasets(program: Command): void {
  const datasets = program.command('datasets').description('upload and manage datasets');
  remoteOptions(
    datasets
      .command('upload <file>')
      .description('upload a CSV/TSV (optionally .gz): rows are samples, columns features')
      .option('--name <name>', 'dataset name (default: the file name)')
      .option('--description <text>', 'free text')
      .option('--data-type <type>', DATA_TYPES.join('|'))
      .option('--outcome <kind>', OUTCOMES.join('|'), 'none')
      .option('--target <column>', 'outcome column (binary, multiclass, continuous)')
      .option('--positive-class <label>', 'binary: the positive class label')
      .option('--time-column <column>', 'survival: time column')
      .option('--event-column <column>', 'survival: event column (1 event, 0 censored)')
      .option('--sample-id <column>', 'sample id column (default: the first column)')
      .option('--batch <column>', 'batch column (kept, not a feature)')
      .option('--ignore <columns>', 'comma-separated columns to drop')
      .option('--delimiter <d>', 'comma|tab (default: detected)')
      .option('--missing <policy>', 'allow|error: NA and empty cells (default allow)')
      .option('--metadata <json>', 'JSON object, or @file.json')
      .option('--presigned', 'upload through a presigned URL (default for files ≥ 64 MiB)')
      .option('--no-presigned', 'always upload in the GraphQL request'),
  ).action((file: string, o: UploadOptions) => upload(file, o));

  remoteOptions(
    datasets
      .command('list')
      .description('your datasets, newest first')
      .option('--status <status>', STATUSES.join('|'))
      .option('--search <text>', 'substring of the name')
      .option('--data-type <type>', DATA_TYPES.join('|'))
      .option('--first <n>', 'page size (1-100)', '20')
      .option('--after <cursor>', 'next page'),
  ).action((o: ListOptions) => listDatasets(o));

  remoteOptions(datasets.command('show <id>').description('one dataset')).action(
    (id: string, o: RemoteOptions) => show(id, o),
  );

  remoteOptions(
    datasets.command('delete <id>').description('delete a dataset (its files are purged later)'),
  ).action((id: string, o: RemoteOptions) => remove(id, o));
}
