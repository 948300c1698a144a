/**
 * Job vocabulary shared by the API, the workers and the compute child processes. Plain values (no
 * decorators) so a worker can import them without loading GraphQL.
 */

export const JOB_TYPES = [
  'FEATURE_SELECTION',
  'MODEL_TRAINING',
  'HYPERPARAMETER_TUNING',
  'BENCHMARKING',
  'PREPROCESSING',
  'PREDICTION',
] as const;
export type JobTypeName = (typeof JOB_TYPES)[number];

export const JOB_STATUSES = [
  'PENDING',
  'QUEUED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const;
export type JobStatusName = (typeof JOB_STATUSES)[number];

export const ACTIVE_STATUSES: readonly JobStatusName[] = ['PENDING', 'QUEUED', 'RUNNING'];
export const TERMINAL_STATUSES: readonly JobStatusName[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

export function isTerminal(s: JobStatusName): boolean {
  return TERMINAL_STATUSES.includes(s);
}

export const EVENT_KINDS = ['STATUS', 'PROGRESS', 'LOG', 'RESULT'] as const;
export type EventKindName = (typeof EVENT_KINDS)[number];

export type DeviceName = 'AUTO' | 'CPU' | 'GPU';

/** User-facing error codes stored on failed jobs. */
export type JobErrorCode =
  | 'BAD_CONFIG'
  | 'BAD_DATA'
  | 'DEPENDENCY_FAILED'
  | 'WORKER_LOST'
  | 'TRANSIENT'
  | 'COMPUTE_FAILED'
  | 'INTERNAL';

/** A job as stored (camelCase view of the `jobs` row). */
export interface JobRecord {
  id: string;
  ownerId: string;
  datasetId: string;
  type: JobTypeName;
  status: JobStatusName;
  config: Record<string, unknown>;
  deviceRequested: DeviceName;
  pool: 'cpu' | 'gpu';
  priority: 'HIGH' | 'NORMAL' | 'LOW';
  idempotencyKey: string | null;
  dependsOn: string[];
  batchId: string | null;
  /** 0–100. */
  progress: number;
  stage: string | null;
  message: string | null;
  etaSeconds: number | null;
  /** Runs started so far; also the fencing token of the current run. */
  attempt: number;
  deviceUsed: string | null;
  deviceInfo: Record<string, unknown> | null;
  workerId: string | null;
  errorCode: JobErrorCode | null;
  errorMessage: string | null;
  lastSeq: number;
  enqueuedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  queuedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** One stored event, carrying the job's absolute state at that moment. */
export interface JobEventRecord {
  jobId: string;
  ownerId: string;
  seq: number;
  kind: EventKindName;
  status: JobStatusName;
  progress: number;
  stage: string | null;
  message: string | null;
  at: Date;
}

export interface JobResultRecord {
  jobId: string;
  attempt: number;
  summary: Record<string, unknown>;
  data: Record<string, unknown>;
  artifacts: string[];
  createdAt: Date;
}
