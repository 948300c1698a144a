import { randomUUID } from 'node:crypto';
import {
  Entity,
  Index,
  ManyToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  type Ref,
} from '@mikro-orm/postgresql';
import { User } from './user.entity.js';

/**
 * One link of a rotating refresh-token chain. Every login starts a family; each refresh marks the
 * presented token used and issues the next one in the same family. Presenting a used or revoked
 * token again is treated as theft: the whole family is revoked.
 */
@Entity({ tableName: 'refresh_tokens' })
export class RefreshToken {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  @Index()
  user: Ref<User>;

  @Property({ type: 'uuid' })
  @Index()
  familyId: string;

  /** Hex SHA-256 of the token (256-bit random secret). */
  @Property({ length: 64, unique: true, hidden: true })
  tokenHash: string;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime' })
  expiresAt: Date;

  /** Set when rotated (exchanged for a successor). */
  @Property({ type: 'datetime', nullable: true })
  usedAt?: Date;

  @Property({ type: 'datetime', nullable: true })
  revokedAt?: Date;
}
