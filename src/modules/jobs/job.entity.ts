import { randomUUID } from 'node:crypto';
import {
  ArrayType,
  Entity,
  Enum,
  Index,
  ManyToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  Unique,
} from '@mikro-orm/postgresql';
import { User } from '../accounts/user.entity.js';
import { DatasetEntity } from '../datasets/dataset.entity.js';
import {
  JOB_STATUSES,
  JOB_TYPES,
  type DeviceName,
  type JobErrorCode,
  type JobStatusName,
  type JobTypeName,
} from './job.model.js';

/**
 * A compute job. State changes go through `job.store.ts` (one conditional UPDATE per change that
 * also appends the event); the entity exists for the schema and for ORM reads.
 *
 * Outbox: a QUEUED row with `enqueuedAt` null has not been confirmed in BullMQ yet; the reconciler
 * (re-)adds such rows, so no job stays QUEUED without a queue entry.
 */
@Entity({ tableName: 'jobs' })
@Unique({ properties: ['owner', 'idempotencyKey'] })
@Index({ properties: ['owner', 'createdAt', 'id'] })
@Index({ properties: ['status', 'updatedAt'] })
// Dependents of a job are found with `depends_on @> ARRAY[parent]`.
@Index({
  name: 'jobs_depends_on_gin',
  expression: 'create index "jobs_depends_on_gin" on "jobs" using gin ("depends_on")',
})
// The quota's active-job count (one per submit) reads only the owner's live jobs, not their history.
@Index({
  name: 'jobs_owner_id_active_index',
  expression: `create index "jobs_owner_id_active_index" on "jobs" ("owner_id") where "status" in ('PENDING', 'QUEUED', 'RUNNING')`,
})
export class Job {
  [OptionalProps]?:
    | 'status'
    | 'progress'
    | 'attempt'
    | 'lastSeq'
    | 'dependsOn'
    | 'createdAt'
    | 'updatedAt'
    | 'priority'
    | 'deviceRequested'
    | 'pool';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  owner: User;

  /** The dataset the job reads (PREDICTION: the dataset it scores). */
  @ManyToOne(() => DatasetEntity, { deleteRule: 'cascade' })
  @Index()
  dataset: DatasetEntity;

  @Enum({ items: [...JOB_TYPES] })
  type: JobTypeName;

  @Enum({ items: [...JOB_STATUSES] })
  status: JobStatusName = 'PENDING';

  /** Normalised config (defaults filled in), validated against the registry at submit. */
  @Property({ type: 'json' })
  config: Record<string, unknown>;

  @Enum({ items: ['AUTO', 'CPU', 'GPU'] })
  deviceRequested: DeviceName = 'AUTO';

  /** Pool (queue) the job was routed to. */
  @Enum({ items: ['cpu', 'gpu'] })
  pool: 'cpu' | 'gpu' = 'cpu';

  @Enum({ items: ['HIGH', 'NORMAL', 'LOW'] })
  priority: 'HIGH' | 'NORMAL' | 'LOW' = 'NORMAL';

  @Property({ length: 128, nullable: true })
  idempotencyKey?: string;

  /** Hash of the submitted request: a reused idempotency key with another request is refused. */
  @Property({ length: 64, nullable: true })
  requestHash?: string;

  @Property({ type: ArrayType, columnType: 'uuid[]', default: '{}' })
  dependsOn: string[] = [];

  @Property({ type: 'uuid', nullable: true })
  @Index()
  batchId?: string;

  /** 0–100. */
  @Property({ type: 'double', default: 0 })
  progress: number = 0;

  @Property({ length: 200, nullable: true })
  stage?: string;

  @Property({ type: 'text', nullable: true })
  message?: string;

  @Property({ nullable: true })
  etaSeconds?: number;

  /** Runs started; the current run's fencing token. */
  @Property({ default: 0 })
  attempt: number = 0;

  @Property({ length: 200, nullable: true })
  deviceUsed?: string;

  @Property({ type: 'json', nullable: true })
  deviceInfo?: Record<string, unknown>;

  @Property({ length: 200, nullable: true })
  workerId?: string;

  @Property({ length: 32, nullable: true })
  errorCode?: JobErrorCode;

  @Property({ type: 'text', nullable: true })
  errorMessage?: string;

  /** Seq of the latest event (events are numbered 1, 2, … per job). */
  @Property({ default: 0 })
  lastSeq: number = 0;

  @Property({ type: 'datetime', nullable: true })
  enqueuedAt?: Date;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  updatedAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  queuedAt?: Date;

  @Property({ type: 'datetime', nullable: true })
  startedAt?: Date;

  @Property({ type: 'datetime', nullable: true })
  finishedAt?: Date;
}
