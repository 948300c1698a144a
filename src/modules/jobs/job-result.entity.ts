import { Entity, OneToOne, PrimaryKey, Property } from '@mikro-orm/postgresql';
import { Job } from './job.entity.js';

/**
 * The one result of a job (unique job_id). Written in the same statement that completes the run,
 * fenced by the run's attempt, so a re-delivered job can never store two results.
 */
@Entity({ tableName: 'job_results' })
export class JobResult {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id: string;

  @OneToOne(() => Job, { owner: true, unique: true, deleteRule: 'cascade' })
  job: Job;

  /** The run (fencing token) that produced it. */
  @Property()
  attempt: number;

  /** Headline numbers. */
  @Property({ type: 'json' })
  summary: Record<string, unknown>;

  /** The full result document. */
  @Property({ type: 'json' })
  data: Record<string, unknown>;

  /** Storage keys of the artifacts (models, exports) written by the run. */
  @Property({ type: 'json', defaultRaw: `'[]'::jsonb` })
  artifacts: string[];

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date;
}
