import { randomUUID } from 'node:crypto';
import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/postgresql';

export type AuditOutcome = 'SUCCESS' | 'FAILURE';

/**
 * Append-only record of security-relevant actions. A trigger (see the migration) rejects UPDATE and
 * DELETE on the table. Actor and target are plain ids, not foreign keys, so history outlives rows.
 * Never store secrets in `details`.
 */
@Entity({ tableName: 'audit_log' })
@Index({ properties: ['actorId', 'createdAt'] })
@Index({ properties: ['targetType', 'targetId'] })
export class AuditLog {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'datetime' })
  @Index()
  createdAt: Date = new Date();

  @Property({ type: 'uuid', nullable: true })
  actorId?: string;

  /** e.g. `auth.login`, `user.setRole`, `apiKey.create`, `dataset.delete`. */
  @Property({ length: 64 })
  action: string;

  @Property({ length: 32, nullable: true })
  targetType?: string;

  @Property({ length: 64, nullable: true })
  targetId?: string;

  @Property({ length: 16 })
  outcome: AuditOutcome;

  @Property({ length: 64, nullable: true })
  ip?: string;

  @Property({ type: 'json', nullable: true })
  details?: Record<string, unknown>;
}
