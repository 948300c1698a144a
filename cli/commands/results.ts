/**
 * `results show|export|download <jobId>`: the typed result of a COMPLETED job (the `JobResults`
 * operation: feature rows, folds, benchmark table, tuning trials, predictions, artifacts).
 * - show: summary, signatures, the tables and the artifacts;
 * - export: one typed table as CSV or JSON (`--table`, default the first), or `--format json`
 *   without `--table` for the whole typed result plus the raw document;
 * - download: every artifact fetched through its presigned `downloadUrl` into `<out>/artifacts/`
 *   (sizes checked), plus job.json, result.json and each table as `<out>/tables/<name>.csv`.
 * Tables the typed result does not cover are still offered from the raw document (sdk results.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { type Command } from 'commander';
import { UsageError } from '../../compute/cli/errors.js';
import { writeJson, writeStdout } from '../../compute/cli/output.js';
import type { ArtifactKind } from '../../sdk/generated/graphql.js';
import type { JobResults, OmicSelectorClient } from '../../sdk/src/client.js';
import { typedTables } from '../../sdk/src/result-tables.js';
import { resultTables, toCsv, type ResultTable } from '../../sdk/src/results.js';
import { connect, remoteOptions, type RemoteOptions } from '../remote.js';
import { ExitError } from './jobs.js';
import { choice } from './values.js';

type Result = NonNullable<JobResults['result']>;
type Prediction = NonNullable<Result['predictions']>['rows'][number];

async function load(
  client: OmicSelectorClient,
  jobId: string,
): Promise<{ job: JobResults; result: Result; predictions: Prediction[] }> {
  // Every feature, fold and prediction row: the API answers at most 100 per list and request,
  // fullResults pages on with offset.
  const job = await client.jobs.fullResults(jobId);
  if (!job.result) {
    throw new ExitError(
      1,
      `job ${jobId} is ${job.status}: it has no result` +
        (job.errorCode ? ` (${job.errorCode}: ${job.errorMessage})` : ''),
    );
  }
  return { job, result: job.result, predictions: job.result.predictions?.rows ?? [] };
}

/** The raw document, fetched only where the typed result does not cover a table. */
async function rawData(
  client: OmicSelectorClient,
  jobId: string,
): Promise<Record<string, unknown>> {
  return (await client.jobs.getWithResult(jobId)).result?.data ?? {};
}

/** Typed tables, then the raw document's tables under names not taken (old names keep working). */
function allTables(
  type: string,
  typed: ResultTable[],
  data: Record<string, unknown>,
): ResultTable[] {
  const taken = new Set(typed.map(t => t.name));
  // feature_scores is the old, untyped spelling of `features`.
  const raw = resultTables(type, data).filter(
    t => !taken.has(t.name) && t.name !== 'feature_scores',
  );
  return [...typed, ...raw];
}

function pickTable(tables: ResultTable[], name: string | undefined): ResultTable {
  if (tables.length === 0) throw new ExitError(1, 'this result has no table; use --format json');
  if (!name) return tables[0]!;
  const found = tables.find(t => t.name === name);
  if (!found) {
    throw new UsageError(
      '--table',
      `no table "${name}" (tables: ${tables.map(t => t.name).join(', ')})`,
    );
  }
  return found;
}

function human(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

async function show(jobId: string, o: RemoteOptions): Promise<void> {
  const { client } = connect(o);
  const { job, result, predictions } = await load(client, jobId);
  const tables = typedTables(result, predictions);
  const artifacts = result.artifacts.map(({ downloadUrl: _u, expiresAt: _e, ...a }) => a);
  if (o.json) {
    return writeJson({
      jobId: job.id,
      type: job.type,
      status: job.status,
      summary: result.summary,
      params: result.params,
      recommended: result.recommended,
      model: result.model,
      artifacts,
      tables: tables.map(t => ({ name: t.name, columns: t.columns, rows: t.rows.length })),
    });
  }
  const lines = [`${job.type} ${job.id} (attempt ${result.attempt}, ${result.createdAt})`, ''];
  for (const [k, v] of Object.entries(result.summary)) {
    lines.push(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  }
  if (result.signatures.length) {
    lines.push('', 'signatures:');
    for (const s of result.signatures) {
      const f = s.features;
      lines.push(
        `  ${s.name}: ${f.slice(0, 20).join(', ')}${f.length > 20 ? `, … (${f.length})` : ''}`,
      );
    }
  }
  if (result.recommended) {
    lines.push('', `recommended: ${result.recommended.signature}`);
    for (const r of result.recommended.reasons) lines.push(`  - ${r}`);
  }
  if (result.params) lines.push('', `parameters: ${JSON.stringify(result.params)}`);
  if (result.model) {
    lines.push(
      '',
      `model: ${result.model.code} (format v${result.model.formatVersion}, ${result.model.features.length} features)`,
    );
  }
  if (tables.length) {
    lines.push('', 'tables (results export --format csv --table NAME):');
    for (const t of tables)
      lines.push(`  ${t.name}: ${t.rows.length} rows × ${t.columns.length} columns`);
  }
  if (artifacts.length) {
    lines.push('', 'artifacts (results download):');
    for (const a of artifacts) lines.push(`  ${a.name}  ${a.kind}  ${human(a.bytes)}`);
  }
  await writeStdout(lines.join('\n') + '\n');
}

interface ExportOptions extends RemoteOptions {
  format: string;
  table?: string;
  out?: string;
}

async function exportResult(jobId: string, o: ExportOptions): Promise<void> {
  const format = o.json ? 'json' : choice('--format', o.format, ['csv', 'json']);
  const { client } = connect(o);
  const { job, result, predictions } = await load(client, jobId);
  let text: string;
  if (format === 'json' && !o.table) {
    const typed = {
      ...result,
      predictions: result.predictions ? { ...result.predictions, rows: predictions } : null,
    };
    text =
      JSON.stringify(
        { jobId: job.id, type: job.type, ...typed, data: await rawData(client, jobId) },
        null,
        2,
      ) + '\n';
  } else {
    let tables = typedTables(result, predictions);
    if (!o.table || !tables.some(t => t.name === o.table)) {
      tables = allTables(job.type, tables, o.table ? await rawData(client, jobId) : {});
    }
    const t = pickTable(tables, o.table);
    text =
      format === 'csv'
        ? toCsv(t)
        : JSON.stringify(
            t.rows.map(r => Object.fromEntries(t.columns.map((c, i) => [c, r[i]]))),
            null,
            2,
          ) + '\n';
  }
  if (o.out) {
    writeFileSync(o.out, text);
    process.stderr.write(`wrote ${o.out}\n`);
  } else {
    await writeStdout(text);
  }
}

interface DownloadOptions extends RemoteOptions {
  out: string;
  kind?: string;
  tables: boolean;
}

/** `<dir>/<name>`, refusing names that would leave `dir` (names come from the server). */
function inside(dir: string, name: string): string {
  const p = resolve(dir, name);
  if (!p.startsWith(dir + sep)) throw new ExitError(1, `refusing artifact name "${name}"`);
  return p;
}

async function download(jobId: string, o: DownloadOptions): Promise<void> {
  const kind = o.kind
    ? (choice('--kind', o.kind.toUpperCase(), ['MODEL', 'EXPORT', 'PLOT', 'DATA']) as ArtifactKind)
    : undefined;
  const { client } = connect(o);
  const { job, result, predictions } = await load(client, jobId);
  const dir = resolve(o.out);
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (path: string, body: string | Uint8Array) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
    files.push(path);
  };
  const { result: _omit, ...jobFields } = job;
  write(join(dir, 'job.json'), JSON.stringify(jobFields, null, 2) + '\n');
  const { artifacts: _a, ...typed } = result;
  write(
    join(dir, 'result.json'),
    JSON.stringify({ ...typed, data: await rawData(client, jobId) }, null, 2) + '\n',
  );
  if (o.tables) {
    for (const t of typedTables(result, predictions)) {
      write(join(dir, 'tables', `${t.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.csv`), toCsv(t));
    }
  }
  // Fresh URLs right before fetching: the ones above may be close to expiry on a slow link.
  const artifacts = await client.jobs.artifacts(jobId, kind ? { kind } : {});
  const fetched = [];
  for (const a of artifacts) {
    const bytes = await client.jobs.download(a);
    if (bytes.length !== a.bytes) {
      throw new ExitError(1, `${a.name}: got ${bytes.length} bytes, expected ${a.bytes}`);
    }
    const path = inside(join(dir, 'artifacts'), a.name);
    write(path, bytes);
    fetched.push({ name: a.name, kind: a.kind, bytes: a.bytes, path });
  }
  if (o.json) return writeJson({ jobId: job.id, dir, files, artifacts: fetched });
  await writeStdout(files.map(f => `wrote ${f}`).join('\n') + '\n');
}

export function registerResults(program: Command): void {
  const results = program.command('results').description('results of completed jobs');
  remoteOptions(
    results
      .command('show <jobId>')
      .description('summary, signatures, recommendation, tables and artifacts'),
  ).action((jobId: string, o: RemoteOptions) => show(jobId, o));
  remoteOptions(
    results
      .command('export <jobId>')
      .description('one typed table as CSV/JSON, or (--format json) the whole typed result')
      .option('--format <f>', 'csv|json', 'csv')
      .option('--table <name>', 'which table (default: the first; see results show)')
      .option('--out <file>', 'write to a file instead of stdout'),
  ).action((jobId: string, o: ExportOptions) => exportResult(jobId, o));
  remoteOptions(
    results
      .command('download <jobId>')
      .description(
        'artifacts (through their presigned URLs) into <out>/artifacts, plus job.json, result.json and tables/*.csv',
      )
      .requiredOption('--out <dir>', 'target directory (created when missing)')
      .option('--kind <kind>', 'only MODEL, EXPORT, PLOT or DATA artifacts')
      .option('--no-tables', 'skip tables/*.csv'),
  ).action((jobId: string, o: DownloadOptions) => download(jobId, o));
}
