/**
 * `results show|export|download <jobId>`: the result document of a COMPLETED job (summary, data,
 * artifact keys) as text, JSON or CSV tables (sdk/src/results.ts finds the tables).
 * Artifacts (e.g. a trained model) are listed by storage key: the API has no download route for
 * them yet.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command } from 'commander';
import { UsageError } from '../../compute/cli/errors.js';
import { writeJson, writeStdout } from '../../compute/cli/output.js';
import type { JobWithResult } from '../../sdk/src/client.js';
import { resultTables, toCsv, type ResultTable } from '../../sdk/src/results.js';
import { connect, remoteOptions, type RemoteOptions } from '../remote.js';
import { ExitError } from './jobs.js';
import { choice } from './values.js';

type Result = NonNullable<JobWithResult['result']>;

async function load(
  jobId: string,
  o: RemoteOptions,
): Promise<{ job: JobWithResult; result: Result }> {
  const job = await connect(o).client.jobs.getWithResult(jobId);
  if (!job.result) {
    throw new ExitError(
      1,
      `job ${jobId} is ${job.status}: it has no result` +
        (job.errorCode ? ` (${job.errorCode}: ${job.errorMessage})` : ''),
    );
  }
  return { job, result: job.result };
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

async function show(jobId: string, o: RemoteOptions): Promise<void> {
  const { job, result } = await load(jobId, o);
  const tables = resultTables(job.type, result.data);
  if (o.json) {
    return writeJson({
      jobId: job.id,
      type: job.type,
      status: job.status,
      summary: result.summary,
      artifacts: result.artifacts,
      tables: tables.map(t => ({ name: t.name, columns: t.columns, rows: t.rows.length })),
    });
  }
  const lines = [`${job.type} ${job.id} (attempt ${result.attempt}, ${result.createdAt})`, ''];
  for (const [k, v] of Object.entries(result.summary)) {
    lines.push(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  }
  const signatures = result.data.signatures;
  if (Array.isArray(signatures) && signatures.length) {
    lines.push('', 'signatures:');
    for (const s of signatures as Array<{ name?: string; features?: string[] }>) {
      const f = s.features ?? [];
      lines.push(
        `  ${s.name}: ${f.slice(0, 20).join(', ')}${f.length > 20 ? `, … (${f.length})` : ''}`,
      );
    }
  }
  if (tables.length) {
    lines.push('', 'tables (results export --format csv --table NAME):');
    for (const t of tables)
      lines.push(`  ${t.name}: ${t.rows.length} rows × ${t.columns.length} columns`);
  }
  if (result.artifacts.length) lines.push('', 'artifacts:', ...result.artifacts.map(a => `  ${a}`));
  await writeStdout(lines.join('\n') + '\n');
}

interface ExportOptions extends RemoteOptions {
  format: string;
  table?: string;
  out?: string;
}

async function exportResult(jobId: string, o: ExportOptions): Promise<void> {
  const format = o.json ? 'json' : choice('--format', o.format, ['csv', 'json']);
  const { job, result } = await load(jobId, o);
  let text: string;
  if (format === 'json' && !o.table) {
    text = JSON.stringify(result.data, null, 2) + '\n';
  } else {
    const t = pickTable(resultTables(job.type, result.data), o.table);
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
}

async function download(jobId: string, o: DownloadOptions): Promise<void> {
  const { job, result } = await load(jobId, o);
  const dir = resolve(o.out);
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    files.push(join(dir, name));
  };
  const { result: _omit, ...jobFields } = job;
  write('job.json', JSON.stringify(jobFields, null, 2) + '\n');
  write('result.json', JSON.stringify(result, null, 2) + '\n');
  for (const t of resultTables(job.type, result.data)) {
    write(`${t.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.csv`, toCsv(t));
  }
  if (o.json) return writeJson({ jobId: job.id, dir, files, artifacts: result.artifacts });
  await writeStdout(
    files.map(f => `wrote ${f}`).join('\n') +
      '\n' +
      (result.artifacts.length
        ? `artifacts (not downloadable through the API yet): ${result.artifacts.join(', ')}\n`
        : ''),
  );
}

export function registerResults(program: Command): void {
  const results = program.command('results').description('results of completed jobs');
  remoteOptions(
    results.command('show <jobId>').description('summary, signatures and tables'),
  ).action((jobId: string, o: RemoteOptions) => show(jobId, o));
  remoteOptions(
    results
      .command('export <jobId>')
      .description('the result as JSON, or one of its tables as CSV')
      .option('--format <f>', 'csv|json', 'csv')
      .option('--table <name>', 'which table (default: the first; see results show)')
      .option('--out <file>', 'write to a file instead of stdout'),
  ).action((jobId: string, o: ExportOptions) => exportResult(jobId, o));
  remoteOptions(
    results
      .command('download <jobId>')
      .description('job.json, result.json and every table as CSV into a directory')
      .requiredOption('--out <dir>', 'target directory (created when missing)'),
  ).action((jobId: string, o: DownloadOptions) => download(jobId, o));
}
