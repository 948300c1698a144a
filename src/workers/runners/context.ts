/**
 * What a job runner (inside the compute child) gets: the job, I/O to the platform's stores, and
 * the compute RunContext (seeded rng, abort signal, progress).
 */
import { type Dataset } from '../../../compute/core/dataset.js';
import { type ProgressFn, type RunContext } from '../../../compute/core/method.js';
import { type JobRecord, type JobResultRecord } from '../../modules/jobs/job.model.js';
import { type RunOutput, type RunSpec } from '../protocol.js';

export interface RunnerIo {
  loadDataset(datasetId: string): Promise<Dataset>;
  /** Another job of the same owner and its result (null when missing or someone else's). */
  loadJob(jobId: string): Promise<{ job: JobRecord; result: JobResultRecord | null } | null>;
  putArtifact(key: string, body: Buffer, contentType: string): Promise<void>;
  getArtifact(key: string): Promise<Buffer>;
}

export interface RunnerContext {
  spec: RunSpec;
  io: RunnerIo;
  run: RunContext;
  log(message: string): void;
  /** Storage key for an artifact of this run (`jobs/<id>/attempt-<n>/<name>`). */
  artifactKey(name: string): string;
}

export type Runner = (rc: RunnerContext) => Promise<RunOutput>;

/** A bad config or dataset found while running: fails the job without retry, naming the field. */
export class JobInputError extends Error {
  constructor(
    readonly kind: 'BAD_CONFIG' | 'BAD_DATA',
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'JobInputError';
  }
}

/** Split one job's progress over `total` sequential steps (step i covers [i/total, (i+1)/total)). */
export function stepProgress(progress: ProgressFn, total: number) {
  return (i: number, label: string): ProgressFn =>
    (fraction, stage) => {
      const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
      progress((i + f) / Math.max(1, total), stage ? `${label}: ${stage}` : label);
    };
}

/** The same RunContext with another progress sink and a forked rng stream. */
export function subContext(run: RunContext, stream: number, progress: ProgressFn): RunContext {
  return { ...run, rng: run.rng.fork(stream), progress };
}
