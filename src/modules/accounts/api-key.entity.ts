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
 * A long-lived credential `osk_<43 chars>`. Only its SHA-256 is stored (the secret has 256 bits of
 * entropy, so a fast hash is enough); `prefix` lets users recognise a key in listings.
 */
@Entity({ tableName: 'api_keys' })
export class ApiKey {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  @Index()
  user: Ref<User>;

  @Property({ length: 100 })
  name: string;

  /** `osk_` plus the first 8 characters of the secret. */
  @Property({ length: 16 })
  prefix: string;

  /** Hex SHA-256 of the full key. */
  @Property({ length: 64, unique: true, hidden: true })
  keyHash: string;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  lastUsedAt?: Date;

  @Property({ type: 'datetime', nullable: true })
  expiresAt?: Date;

  @Property({ type: 'datetime', nullable: true })
  revokedAt?: Date;
}
