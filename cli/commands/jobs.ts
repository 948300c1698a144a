/** `jobs submit|list|show|cancel|watch`. */
import { type Command } from 'commander';
import { table, writeJson, writeStdout } from '../../compute/cli/output.js';
import type {
  JobDevice,
  JobPriority,
  JobStatus,
  JobType,
  SubmitJobInput,
} from '../../sdk/generated/graphql.js';
import {
  TERMINAL_STATUSES,
  type Job,
  type JobWithResult,
  type OmicSelectorClient,
} from '../../sdk/src/client.js';
import { jobProgressView } from '../progress.js';
import { readStdin } from '../prompt.js';
import { connect, remoteOptions, type RemoteOptions } from '../remote.js';
import { choice, jsonArg, list, positiveInt } from './values.js';

export const JOB_TYPES = [
  'FEATURE_SELECTION',
  'MODEL_TRAINING',
  'HYPERPARAMETER_TUNING',
  'BENCHMARKING',
  'PREPROCESSING',
  'PREDICTION',
] as const;
const STATUSES = ['PENDING', 'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;

/** Exit with `code` after printing `message`: how `watch` reports FAILED/CANCELLED jobs. */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function jobType(flag: string, value: string): JobType {
  return choice(flag, value.toUpperCase().replace(/-/g, '_'), JOB_TYPES) as JobType;
}

interface SubmitOptions extends RemoteOptions {
  type: string;
  dataset: string;
  config: string;
  device?: string;
  priority?: string;
  idempotencyKey?: string;
  dependsOn?: string;
  watch?: boolean;
}

async function submit(o: SubmitOptions): Promise<void> {
  const config = jsonArg('--config', o.config, o.config === '-' ? await readStdin() : undefined);
  const input: SubmitJobInput = {
    type: jobType('--type', o.type),
    datasetId: o.dataset,
    config,
    device: o.device
      ? (choice('--device', o.device.toUpperCase(), ['AUTO', 'CPU', 'GPU']) as JobDevice)
      : undefined,
    priority: o.priority
      ? (choice('--priority', o.priority.toUpperCase(), ['LOW', 'NORMAL', 'HIGH']) as JobPriority)
      : undefined,
    idempotencyKey: o.idempotencyKey,
    dependsOn: o.dependsOn ? list(o.dependsOn) : undefined,
  };
  const { client } = connect(o);
  const job = await client.jobs.submit(input);
  if (o.watch) {
    if (!o.json) process.stderr.write(`Submitted ${job.id} (${job.type}, ${job.pool} pool)\n`);
    return follow(client, job.id, o);
  }
  if (o.json) return writeJson(job);
  await writeStdout(`Submitted ${job.id}\n${describeJob(job)}`);
}

function seconds(from: string | null, to: string | null): string {
  if (!from) return '';
  const ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
  return `${(ms / 1000).toFixed(1)} s`;
}

export function describeJob(job: Job | JobWithResult): string {
  const rows: Array<[string, string]> = [
    ['id', job.id],
    ['type', job.type],
    ['status', job.status],
    ['progress', `${Math.round(job.progress)}%${job.stage ? ` (${job.stage})` : ''}`],
    ['dataset', job.datasetId],
    ['pool', `${job.pool} (requested ${job.device}, priority ${job.priority})`],
    ['created', job.createdAt],
  ];
  if (job.message) rows.push(['message', job.message]);
  if (job.startedAt) rows.push(['run time', seconds(job.startedAt, job.finishedAt)]);
  if (job.deviceUsed) rows.push(['device used', job.deviceUsed]);
  if (job.attempts > 1) rows.push(['attempts', String(job.attempts)]);
  if (job.dependsOn.length) rows.push(['depends on', job.dependsOn.join(', ')]);
  if (job.errorCode) rows.push(['error', `${job.errorCode}: ${job.errorMessage ?? ''}`]);
  const result = 'result' in job ? job.result : null;
  if (result) {
    for (const [k, v] of Object.entries(result.summary)) {
      rows.push([`result.${k}`, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
    }
  }
  const w = Math.max(...rows.map(r => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}

interface ListOptions extends RemoteOptions {
  status?: string;
  type?: string;
  dataset?: string;
  first: string;
  after?: string;
}

async function listJobs(o: ListOptions): Promise<void> {
  const { client } = connect(o);
  const page = await client.jobs.list({
    first: positiveInt('--first', o.first),
    after: o.after,
    filter: {
      status: o.status
        ? list(o.status).map(s => choice('--status', s.toUpperCase(), STATUSES) as JobStatus)
        : undefined,
      type: o.type ? jobType('--type', o.type) : undefined,
      datasetId: o.dataset,
    },
  });
  if (o.json) return writeJson(page);
  const rows = page.edges.map(({ node: j }) => [
    j.id,
    j.type,
    j.status,
    `${Math.round(j.progress)}%`,
    j.pool,
    j.createdAt.slice(0, 19).replace('T', ' '),
  ]);
  await writeStdout(
    table(['id', 'type', 'status', 'progress', 'pool', 'created'], rows) +
      `${page.edges.length} of ${page.totalCount}` +
      (page.pageInfo.hasNextPage ? ` (next page: --after ${page.pageInfo.endCursor})` : '') +
      '\n',
  );
}

async function show(id: string, o: RemoteOptions): Promise<void> {
  const job = await connect(o).client.jobs.getWithResult(id);
  if (o.json) return writeJson(job);
  await writeStdout(describeJob(job));
}

async function cancel(id: string, o: RemoteOptions): Promise<void> {
  const job = await connect(o).client.jobs.cancel(id);
  if (o.json) return writeJson(job);
  await writeStdout(`${job.id}: ${job.status}\n`);
}

/**
 * Follows a job's events to its end: a progress bar on stderr (or NDJSON events on stdout with
 * --json). Resolves for COMPLETED; throws ExitError(1) for FAILED or CANCELLED.
 */
async function follow(client: OmicSelectorClient, id: string, o: RemoteOptions): Promise<void> {
  const view = o.json ? undefined : jobProgressView();
  let last: { status: string } | undefined;
  try {
    for await (const e of client.jobs.watch(id)) {
      last = e;
      if (o.json) await writeJson(e);
      else view!.update(e);
      if (TERMINAL_STATUSES.has(e.status)) break;
    }
  } finally {
    view?.done();
    await client.close();
  }
  const job = await client.jobs.get(id);
  if (!o.json) {
    process.stderr.write(
      `${job.id}: ${job.status}${job.errorCode ? ` (${job.errorCode}: ${job.errorMessage})` : ''}\n`,
    );
  }
  if (job.status === 'COMPLETED') return;
  if (!last && !TERMINAL_STATUSES.has(job.status)) {
    throw new ExitError(
      1,
      `the event stream of job ${id} ended before the job did (${job.status})`,
    );
  }
  throw new ExitError(1, `job ${id} ${job.status}`);
}

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('submit and follow jobs');
  remoteOptions(
    jobs
      .command('submit')
      .description('submit a job (config: see the README, Jobs)')
      .requiredOption('--type <type>', JOB_TYPES.join('|').toLowerCase())
      .requiredOption('--dataset <id>', 'dataset id')
      .requiredOption('--config <json>', 'config JSON, @file.json, or - for stdin')
      .option('--device <device>', 'auto|cpu|gpu (default auto)')
      .option('--priority <p>', 'low|normal|high (default normal)')
      .option('--idempotency-key <key>', 'resubmitting with the same key returns the same job')
      .option('--depends-on <ids>', 'comma-separated job ids that must complete first')
      .option('--watch', 'then follow it like `jobs watch`'),
  ).action((o: SubmitOptions) => submit(o));

  remoteOptions(
    jobs
      .command('list')
      .description('your jobs, newest first')
      .option('--status <list>', `comma-separated: ${STATUSES.join(',')}`)
      .option('--type <type>', 'job type')
      .option('--dataset <id>', 'jobs on this dataset')
      .option('--first <n>', 'page size (1-100)', '20')
      .option('--after <cursor>', 'next page'),
  ).action((o: ListOptions) => listJobs(o));

  remoteOptions(jobs.command('show <id>').description('one job, with its result summary')).action(
    (id: string, o: RemoteOptions) => show(id, o),
  );

  remoteOptions(jobs.command('cancel <id>').description('cancel a job')).action(
    (id: string, o: RemoteOptions) => cancel(id, o),
  );

  remoteOptions(
    jobs
      .command('watch <id>')
      .description('live progress until the job ends; exit 0 COMPLETED, 1 FAILED or CANCELLED'),
  ).action((id: string, o: RemoteOptions) => follow(connect(o).client, id, o));
}
