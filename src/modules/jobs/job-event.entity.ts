import { Entity, Enum, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Job } from './job.entity.js';
import { EVENT_KINDS, JOB_STATUSES, type EventKindName, type JobStatusName } from './job.model.js';

/**
 * One change of a job, with the job's absolute state at that moment. `seq` is 1, 2, 3 … per job
 * (unique with the job), so subscribers resume with `afterSeq` and drop duplicates by seq.
 */
@Entity({ tableName: 'job_events' })
@Unique({ properties: ['job', 'seq'] })
export class JobEvent {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id: string;

  @ManyToOne(() => Job, { deleteRule: 'cascade' })
  job: Job;

  @Property()
  seq: number;

  @Enum({ items: [...EVENT_KINDS] })
  kind: EventKindName;

  @Enum({ items: [...JOB_STATUSES] })
  status: JobStatusName;

  @Property({ type: 'double' })
  progress: number;

  @Property({ length: 200, nullable: true })
  stage?: string;

  @Property({ type: 'text', nullable: true })
  message?: string;

  @Property({ type: 'datetime' })
  at: Date;
}
