import { randomUUID } from 'node:crypto';
import { Entity, Enum, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/postgresql';
import { Role } from './role.js';

/**
 * An account. Email and username are unique case-insensitively (unique indexes on lower(...)),
 * and are stored as typed so users see their own spelling.
 */
@Entity({ tableName: 'users' })
@Index({
  name: 'users_email_lower_unique',
  expression: 'create unique index "users_email_lower_unique" on "users" (lower("email"))',
})
@Index({
  name: 'users_username_lower_unique',
  expression: 'create unique index "users_username_lower_unique" on "users" (lower("username"))',
})
export class User {
  [OptionalProps]?: 'role' | 'isActive' | 'tokenVersion' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ length: 254 })
  email: string;

  @Property({ length: 64 })
  username: string;

  /** argon2id PHC string. Never exposed through GraphQL. */
  @Property({ type: 'text', hidden: true })
  passwordHash: string;

  @Enum({ items: () => Role })
  role: Role = Role.USER;

  @Property()
  isActive: boolean = true;

  /** Bumped on deactivation and role changes: access tokens carrying an older value are refused. */
  @Property()
  tokenVersion: number = 0;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  lastLoginAt?: Date;
}
