/**
 * Messages between a worker process and the compute child it forks for each job (IPC with
 * structured-clone serialisation, so typed arrays cross without JSON).
 */
import { type JobTypeName } from '../modules/jobs/job.model.js';

export interface RunSpec {
  jobId: string;
  ownerId: string;
  datasetId: string;
  type: JobTypeName;
  config: Record<string, unknown>;
  /** Fencing token of this run; artifacts are written under it so a stale run can't clobber. */
  attempt: number;
  /** Tensor backend preference for the compute ('gpu' on a usable GPU worker). */
  backend: 'gpu' | 'auto';
  threads: number;
}

export type ParentMessage = { type: 'run'; spec: RunSpec } | { type: 'abort' };

/** Failure categories decide retries: only TRANSIENT retries. */
export type FailureKind = 'BAD_CONFIG' | 'BAD_DATA' | 'ABORTED' | 'TRANSIENT' | 'COMPUTE_FAILED';

export interface RunFailure {
  kind: FailureKind;
  message: string;
  /** Config path the problem is about (e.g. `config.selectors[0].args.alpha`). */
  field?: string;
}

export interface RunOutput {
  /** Small headline numbers (shown in the RESULT event and listings). */
  summary: Record<string, unknown>;
  /** The full result document. */
  data: Record<string, unknown>;
  /** Storage keys written by this run (removed if the run is cancelled or superseded). */
  artifacts: string[];
}

export type ChildMessage =
  | { type: 'started'; backend: string }
  | { type: 'progress'; fraction: number; stage: string }
  | { type: 'log'; message: string }
  | { type: 'done'; output: RunOutput }
  | { type: 'failed'; failure: RunFailure };
