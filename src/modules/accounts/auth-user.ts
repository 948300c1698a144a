/**
 * The signed-in caller as requests see it (`ctx.auth.user`), and the per-process cache that lets
 * most requests skip reading the user row from PostgreSQL without making revocation slower.
 *
 * How revocation stays immediate: every change to a user row that authentication or `me` depends
 * on (role, active flag, token version, last login) is followed by setting `auth:uv:<userId>` in
 * Redis to a new unique token (`bumpAuthVersion`). The Redis call each authenticated request
 * makes anyway (the token deny-list check, plus the rate-limit counters on HTTP) also returns that
 * token, and a cached row is used only when it was read at the same token. A missing key (TTL,
 * Redis data loss) is re-created by that script with a fresh token — a counter restarting at 0
 * could match a row cached before the loss. So a change made through any API
 * instance is enforced by every instance on its next request, with no extra round trip and no
 * pub/sub race (a message not yet read when the next request arrives). A cache miss reads the
 * row *after* the version came back (see `authenticate.ts`), so a row cached at token T was
 * read after every change committed before T was read.
 *
 * Changes made outside the API code (raw SQL, `npm run create-admin`, which only promotes or
 * re-activates) bypass the version: the cache's TTL bounds how long those stay unseen.
 */
import type { Redis } from 'ioredis';
import { bumpVersionToken } from '../../util/version-token.js';
import type { Role } from './role.js';
import type { User } from './user.entity.js';

/** A read-only snapshot of the user row: what authorization and `me` read. */
export interface AuthUser {
  readonly id: string;
  readonly email: string;
  readonly username: string;
  readonly role: Role;
  readonly isActive: boolean;
  readonly tokenVersion: number;
  readonly createdAt: Date;
  readonly lastLoginAt?: Date | null;
}

export function authUserOf(u: User): AuthUser {
  return {
    id: u.id,
    email: u.email,
    username: u.username,
    role: u.role,
    isActive: u.isActive,
    tokenVersion: u.tokenVersion,
    createdAt: u.createdAt,
    lastLoginAt: u.lastLoginAt ?? null,
  };
}

export const authVersionKey = (userId: string) => `auth:uv:${userId}`;

/**
 * Call after committing any change to a user's role, active flag, token version, password or
 * profile fields: every API instance stops using its cached copy of the row at once.
 */
export async function bumpAuthVersion(redis: Redis, userId: string): Promise<void> {
  await bumpVersionToken(redis, authVersionKey(userId));
}

/** How long a cached row may be used at all (bounds changes made without `bumpAuthVersion`). */
export const AUTH_CACHE_TTL_MS = 5_000;
const AUTH_CACHE_MAX_ENTRIES = 10_000;

interface Entry {
  user: AuthUser;
  version: string;
  expires: number;
}

export class AuthUserCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs = AUTH_CACHE_TTL_MS,
    private readonly maxEntries = AUTH_CACHE_MAX_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached row if it is fresh (whatever version it was read at). */
  peek(userId: string): { user: AuthUser; version: string } | undefined {
    const e = this.entries.get(userId);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(userId);
      return undefined;
    }
    return { user: e.user, version: e.version };
  }

  set(userId: string, version: string, user: AuthUser): void {
    if (this.ttlMs <= 0) return;
    if (!this.entries.has(userId) && this.entries.size >= this.maxEntries) {
      // Map iteration is insertion order: drop the oldest entry.
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.delete(userId);
    this.entries.set(userId, { user, version, expires: this.now() + this.ttlMs });
  }

  delete(userId: string): void {
    this.entries.delete(userId);
  }

  get size(): number {
    return this.entries.size;
  }
}
