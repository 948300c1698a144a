/** GraphQL types of the jobs module. */
import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';
import {
  ArgsType,
  Field,
  Float,
  ID,
  InputType,
  Int,
  ObjectType,
  registerEnumType,
} from 'type-graphql';
import { PageInfo } from '../../graphql/connection.js';
import { type WorkerHeartbeat } from '../../queue/heartbeat.js';
import {
  type EventKindName,
  type JobEventRecord,
  type JobRecord,
  type JobResultRecord,
  type JobStatusName,
  type JobTypeName,
} from './job.model.js';

export enum JobType {
  FEATURE_SELECTION = 'FEATURE_SELECTION',
  MODEL_TRAINING = 'MODEL_TRAINING',
  HYPERPARAMETER_TUNING = 'HYPERPARAMETER_TUNING',
  BENCHMARKING = 'BENCHMARKING',
  PREPROCESSING = 'PREPROCESSING',
  PREDICTION = 'PREDICTION',
}
export enum JobStatus {
  PENDING = 'PENDING',
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
export enum JobEventKind {
  STATUS = 'STATUS',
  PROGRESS = 'PROGRESS',
  LOG = 'LOG',
  RESULT = 'RESULT',
}
export enum JobDevice {
  AUTO = 'AUTO',
  CPU = 'CPU',
  GPU = 'GPU',
}
export enum JobPriority {
  HIGH = 'HIGH',
  NORMAL = 'NORMAL',
  LOW = 'LOW',
}
export enum WorkerPool {
  CPU = 'CPU',
  GPU = 'GPU',
}

registerEnumType(JobType, { name: 'JobType' });
registerEnumType(JobStatus, {
  name: 'JobStatus',
  description: 'PENDING (waits for dependsOn) → QUEUED → RUNNING → COMPLETED | FAILED | CANCELLED',
});
registerEnumType(JobEventKind, { name: 'JobEventKind' });
registerEnumType(JobDevice, {
  name: 'JobDevice',
  description:
    'AUTO: the GPU pool when a GPU worker is live, every method is GPU-capable and the data is large; else CPU',
});
registerEnumType(JobPriority, { name: 'JobPriority' });
registerEnumType(WorkerPool, { name: 'WorkerPool' });

@ObjectType({ description: 'The one result of a completed job' })
export class JobResultType {
  @Field(() => Int, { description: 'The run (attempt) that produced it' })
  attempt: number;

  @Field(() => GraphQLJSONObject, { description: 'Headline numbers' })
  summary: Record<string, unknown>;

  @Field(() => GraphQLJSONObject, { description: 'The full result document' })
  data: Record<string, unknown>;

  @Field(() => [String], {
    description:
      'Storage keys the run listed (the trained model, a preprocessed matrix); `artifacts` has every stored file with a download URL',
  })
  artifactKeys: string[];

  @Field()
  createdAt: Date;

  /** The job it belongs to (not exposed: the field resolvers of result.resolver.ts read them). */
  jobId: string;
  jobType: JobTypeName;
  jobConfig: Record<string, unknown>;

  static from(r: JobResultRecord, job: Pick<JobRecord, 'type' | 'config'>): JobResultType {
    return Object.assign(new JobResultType(), {
      attempt: r.attempt,
      summary: r.summary,
      data: r.data,
      artifactKeys: r.artifacts,
      createdAt: r.createdAt,
      jobId: r.jobId,
      jobType: job.type,
      jobConfig: job.config,
    });
  }
}

@ObjectType('Job')
export class JobNode {
  @Field(() => ID)
  id: string;

  @Field(() => JobType)
  type: JobTypeName;

  @Field(() => JobStatus)
  status: JobStatusName;

  @Field(() => ID)
  datasetId: string;

  @Field(() => GraphQLJSONObject, { description: 'The normalised config (defaults filled in)' })
  config: Record<string, unknown>;

  @Field(() => JobDevice, { description: 'Device requested at submit' })
  device: JobDevice;

  @Field(() => WorkerPool, { description: 'Pool (queue) the job was routed to' })
  pool: WorkerPool;

  @Field(() => JobPriority)
  priority: JobPriority;

  @Field(() => String, { nullable: true })
  idempotencyKey: string | null;

  @Field(() => [ID])
  dependsOn: string[];

  @Field(() => ID, { nullable: true })
  batchId: string | null;

  @Field(() => Float, { description: '0–100' })
  progress: number;

  @Field(() => String, { nullable: true })
  stage: string | null;

  @Field(() => String, { nullable: true, description: 'What is happening, or why it waits' })
  message: string | null;

  @Field(() => Int, { nullable: true, description: 'Estimated seconds left, when known' })
  etaSeconds: number | null;

  @Field(() => Int, { description: 'Runs started (re-deliveries and retries included)' })
  attempts: number;

  @Field(() => String, { nullable: true, description: 'Device the last run used' })
  deviceUsed: string | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Device facts of the last run (GPU name, memory, driver/CUDA, tensor backend)',
  })
  deviceInfo: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: 'Worker that ran the last run' })
  workerId: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'BAD_CONFIG, BAD_DATA, DEPENDENCY_FAILED, WORKER_LOST, TRANSIENT, COMPUTE_FAILED or INTERNAL',
  })
  errorCode: string | null;

  @Field(() => String, { nullable: true })
  errorMessage: string | null;

  @Field(() => Int, { description: 'Seq of the latest event (resume jobUpdates from here)' })
  lastSeq: number;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;

  @Field(() => Date, { nullable: true })
  queuedAt: Date | null;

  @Field(() => Date, { nullable: true })
  startedAt: Date | null;

  @Field(() => Date, { nullable: true })
  finishedAt: Date | null;

  static from(j: JobRecord): JobNode {
    return Object.assign(new JobNode(), {
      id: j.id,
      type: j.type,
      status: j.status,
      datasetId: j.datasetId,
      config: j.config,
      device: j.deviceRequested as JobDevice,
      pool: j.pool === 'gpu' ? WorkerPool.GPU : WorkerPool.CPU,
      priority: j.priority as JobPriority,
      idempotencyKey: j.idempotencyKey,
      dependsOn: j.dependsOn,
      batchId: j.batchId,
      progress: j.progress,
      stage: j.stage,
      message: j.message,
      etaSeconds: j.etaSeconds,
      attempts: j.attempt,
      deviceUsed: j.deviceUsed,
      deviceInfo: j.deviceInfo,
      workerId: j.workerId,
      errorCode: j.errorCode,
      errorMessage: j.errorMessage,
      lastSeq: j.lastSeq,
      createdAt: j.createdAt,
      updatedAt: j.updatedAt,
      queuedAt: j.queuedAt,
      startedAt: j.startedAt,
      finishedAt: j.finishedAt,
    });
  }
}

@ObjectType('JobEvent', {
  description: 'One change of a job, carrying its absolute state (status, progress) at that time',
})
export class JobEventType {
  @Field(() => ID)
  jobId: string;

  @Field(() => Int, { description: '1, 2, 3 … per job' })
  seq: number;

  @Field(() => JobEventKind)
  kind: EventKindName;

  @Field(() => JobStatus)
  status: JobStatusName;

  @Field(() => Float)
  progress: number;

  @Field(() => String, { nullable: true })
  stage: string | null;

  @Field(() => String, { nullable: true })
  message: string | null;

  @Field()
  at: Date;

  static from(e: JobEventRecord): JobEventType {
    return Object.assign(new JobEventType(), {
      jobId: e.jobId,
      seq: e.seq,
      kind: e.kind,
      status: e.status,
      progress: e.progress,
      stage: e.stage,
      message: e.message,
      at: e.at instanceof Date ? e.at : new Date(e.at),
    });
  }
}

@ObjectType()
export class JobEdge {
  @Field()
  cursor: string;

  @Field(() => JobNode)
  node: JobNode;
}

@ObjectType()
export class JobConnection {
  @Field(() => [JobEdge])
  edges: JobEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  @Field(() => Int)
  totalCount: number;
}

@ObjectType()
export class GpuInfo {
  @Field()
  name: string;

  @Field(() => Int, { nullable: true })
  memoryMb: number | null;

  @Field(() => String, { nullable: true })
  driver: string | null;

  @Field(() => String, { nullable: true })
  cuda: string | null;
}

@ObjectType()
export class WorkerDevice {
  @Field({ description: 'cpu or gpu: what computes actually run on' })
  kind: string;

  @Field({ description: 'Tensor backend (tensorflow, wasm, cpu)' })
  backend: string;

  @Field({ description: 'A gpu-pool worker computing on CPU (--allow-cpu-fallback)' })
  cpuFallback: boolean;

  @Field(() => [GpuInfo])
  gpus: GpuInfo[];

  @Field(() => Int)
  cpus: number;

  @Field(() => Int)
  memoryMb: number;
}

@ObjectType('Worker', { description: 'A live worker (from its heartbeat)' })
export class WorkerType {
  @Field(() => ID)
  id: string;

  @Field(() => WorkerPool)
  pool: WorkerPool;

  @Field()
  host: string;

  @Field(() => Int)
  pid: number;

  @Field(() => Int)
  concurrency: number;

  @Field(() => WorkerDevice)
  device: WorkerDevice;

  @Field(() => [ID], { description: 'Jobs running there now' })
  running: string[];

  @Field()
  startedAt: Date;

  @Field()
  lastSeenAt: Date;

  static from(w: WorkerHeartbeat): WorkerType {
    return Object.assign(new WorkerType(), {
      ...w,
      pool: w.pool === 'gpu' ? WorkerPool.GPU : WorkerPool.CPU,
      startedAt: new Date(w.startedAt),
      lastSeenAt: new Date(w.lastSeenAt),
    });
  }
}

@InputType()
export class SubmitJobInput {
  @Field(() => JobType)
  type: JobTypeName;

  @Field(() => ID, { description: 'The dataset to run on (PREDICTION: the dataset to score)' })
  datasetId: string;

  @Field(() => GraphQLJSON, {
    description: 'Per job type; see the README (Jobs). Validated before anything is queued.',
  })
  config: unknown;

  @Field(() => JobDevice, { defaultValue: JobDevice.AUTO })
  device: JobDevice;

  @Field(() => JobPriority, { defaultValue: JobPriority.NORMAL })
  priority: JobPriority;

  @Field(() => String, {
    nullable: true,
    description: 'Same key (per user) → the same job, however often the request is repeated',
  })
  idempotencyKey?: string | null;

  @Field(() => [ID], { nullable: true, description: 'Jobs that must complete first' })
  dependsOn?: string[] | null;
}

@InputType()
export class JobFilter {
  @Field(() => [JobStatus], { nullable: true })
  status?: JobStatus[] | null;

  @Field(() => JobType, { nullable: true })
  type?: JobTypeName | null;

  @Field(() => ID, { nullable: true })
  datasetId?: string | null;

  @Field(() => ID, { nullable: true })
  batchId?: string | null;
}

@ArgsType()
export class JobsArgs {
  @Field(() => Int, { defaultValue: 20, description: '1–100' })
  first: number;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => JobFilter, { nullable: true })
  filter?: JobFilter | null;
}
