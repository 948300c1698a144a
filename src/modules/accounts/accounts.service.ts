/**
 * Account logic: registration, password login with throttling, rotating refresh tokens with reuse
 * detection, logout, API keys and user administration. Resolvers stay thin and call this.
 */
import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { requireSession, requireUser } from '../../auth.js';
import type { AppServices, Context } from '../../context.js';
import { afterCursorFilter, encodeCursor } from '../../graphql/connection.js';
import { AppError } from '../../errors.js';
import { assertIdOrNotFound } from '../../util/ids.js';
import { audit } from '../audit/audit.service.js';
import { accountsDeps, type AccountsDeps } from './accounts.deps.js';
import type { CreateApiKeyInput, LoginInput, RegisterInput, UsersArgs } from './accounts.input.js';
import {
  ApiKeyType,
  AuthPayload,
  CreatedApiKey,
  UserConnection,
  UserType,
} from './accounts.types.js';
import { ApiKey } from './api-key.entity.js';
import { bumpAuthVersion, type AuthUser } from './auth-user.js';
import { denyListKey } from './authenticate.js';
import { log } from '../../logger.js';
import { RefreshToken } from './refresh-token.entity.js';
import { Role } from './role.js';
import { API_KEY_PREFIX, randomSecret, REFRESH_TOKEN_PREFIX, sha256Hex } from './tokens.js';
import { User } from './user.entity.js';

/** Failed logins per account before RATE_LIMITED, and the window they are counted in. */
export const LOGIN_MAX_FAILURES = 10;
export const LOGIN_WINDOW_SECONDS = 15 * 60;
/** Attempts per client IP per window (any outcome). */
export const LOGIN_MAX_PER_IP = 300;

const INVALID_LOGIN = 'Invalid login or password';

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, c => `\\${c}`);
}

export class AccountService {
  private readonly app: AppServices;
  private readonly deps: AccountsDeps;

  /** The request's entity manager, forked on first use (`me` needs none). */
  private get em(): EntityManager {
    return this.ctx.em;
  }

  constructor(private readonly ctx: Context) {
    this.app = ctx.app;
    this.deps = accountsDeps(ctx.app.config);
  }

  async register(input: RegisterInput): Promise<AuthPayload> {
    const email = input.email.trim();
    const username = input.username.trim();
    await this.assertAvailable(email, username);
    const passwordHash = await this.deps.hasher.hash(input.password);
    const user = this.em.create(User, { email, username, passwordHash, role: Role.USER });
    await audit(this.em, {
      action: 'auth.register',
      actorId: user.id,
      targetType: 'user',
      targetId: user.id,
      ip: this.ctx.ip,
    });
    try {
      await this.em.flush();
    } catch (err) {
      // Lost a race with a concurrent sign-up: the lower() unique indexes decide.
      if (err instanceof UniqueConstraintViolationException) {
        throw err.message.includes('username')
          ? AppError.conflict('That username is taken', 'username')
          : AppError.conflict('That email is already registered', 'email');
      }
      throw err;
    }
    return this.issueSession(user, randomUUID());
  }

  private async assertAvailable(email: string, username: string): Promise<void> {
    const conn = this.em.getConnection();
    const rows = await conn.execute<{ email_taken: boolean; username_taken: boolean }[]>(
      `select exists(select 1 from users where lower(email) = lower(?)) as email_taken,
              exists(select 1 from users where lower(username) = lower(?)) as username_taken`,
      [email, username],
    );
    if (rows[0]?.email_taken) {
      throw AppError.conflict('That email is already registered', 'email');
    }
    if (rows[0]?.username_taken) {
      throw AppError.conflict('That username is taken', 'username');
    }
  }

  async login(input: LoginInput): Promise<AuthPayload> {
    const login = input.login.trim();
    const accountKey = `rl:login:acct:${sha256Hex(login.toLowerCase())}`;
    await this.checkLoginRate(accountKey);

    const user = await this.findByLogin(login);
    const ok = user
      ? await this.deps.hasher.verify(user.passwordHash, input.password)
      : await this.deps.hasher.verifyDummy(input.password);
    if (!user || !ok || !user.isActive) {
      await this.app.redis
        .multi()
        .incr(accountKey)
        .expire(accountKey, LOGIN_WINDOW_SECONDS, 'NX')
        .exec();
      await audit(
        this.em,
        {
          action: 'auth.login',
          outcome: 'FAILURE',
          actorId: user?.id,
          targetType: 'user',
          targetId: user?.id,
          ip: this.ctx.ip,
          details: { reason: !user ? 'unknown-login' : !ok ? 'bad-password' : 'inactive' },
        },
        { flush: true },
      );
      throw AppError.unauthenticated(INVALID_LOGIN);
    }
    await this.app.redis.del(accountKey);
    if (this.deps.hasher.needsRehash(user.passwordHash)) {
      user.passwordHash = await this.deps.hasher.hash(input.password);
    }
    user.lastLoginAt = new Date();
    await audit(this.em, {
      action: 'auth.login',
      actorId: user.id,
      targetType: 'user',
      targetId: user.id,
      ip: this.ctx.ip,
    });
    const session = await this.issueSession(user, randomUUID());
    await this.changed(user.id); // lastLoginAt (and maybe the hash) changed
    return session;
  }

  /**
   * After committing a change to a user row: every API instance drops its cached copy (see
   * `auth-user.ts`). Without Redis no request authenticates at all, so a failure here cannot
   * leave a stale copy in use; it is logged, not thrown (the change itself is committed).
   */
  private async changed(userId: string): Promise<void> {
    await bumpAuthVersion(this.app.redis, userId).catch(err =>
      log.warn('could not bump the auth version', { userId, error: String(err) }),
    );
  }

  /** Email or username, case-insensitively, through the lower(...) unique indexes. */
  private async findByLogin(login: string): Promise<User | null> {
    const rows = await this.em
      .getConnection()
      .execute<{ id: string }[]>(
        'select id from users where lower(email) = lower(?) or lower(username) = lower(?) limit 1',
        [login, login],
      );
    return rows[0] ? this.em.findOne(User, { id: rows[0].id }) : null;
  }

  /** Counts every attempt (so 20 aliased logins in one request count 20 times). */
  private async checkLoginRate(accountKey: string): Promise<void> {
    const ipKey = `rl:login:ip:${this.ctx.ip ?? 'unknown'}`;
    const [[, ipCount], , [, failures], [, ttl]] = (await this.app.redis
      .multi()
      .incr(ipKey)
      .expire(ipKey, LOGIN_WINDOW_SECONDS, 'NX')
      .get(accountKey)
      .ttl(accountKey)
      .exec()) as [unknown, unknown][];
    if (Number(ipCount) > LOGIN_MAX_PER_IP) {
      throw AppError.rateLimited('Too many login attempts from this address', LOGIN_WINDOW_SECONDS);
    }
    if (Number(failures ?? 0) >= LOGIN_MAX_FAILURES) {
      throw AppError.rateLimited(
        'Too many failed logins for this account; try again later',
        Math.max(1, Number(ttl)),
      );
    }
  }

  /** Creates a refresh token in `familyId`, signs an access token, flushes. */
  private async issueSession(user: User, familyId: string): Promise<AuthPayload> {
    const refreshToken = randomSecret(REFRESH_TOKEN_PREFIX);
    const refreshExpiresAt = new Date(Date.now() + this.app.config.refreshTokenTtlSeconds * 1000);
    this.em.create(RefreshToken, {
      user,
      familyId,
      tokenHash: sha256Hex(refreshToken),
      expiresAt: refreshExpiresAt,
    });
    await this.em.flush();
    const access = await this.deps.signer.sign(user.id, user.tokenVersion);
    return Object.assign(new AuthPayload(), {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken,
      refreshTokenExpiresAt: refreshExpiresAt,
      user: UserType.from(user),
    });
  }

  async refresh(token: string): Promise<AuthPayload> {
    const row = await this.em.findOne(
      RefreshToken,
      { tokenHash: sha256Hex(token) },
      { populate: ['user'] },
    );
    if (!row) {
      throw AppError.unauthenticated('Invalid refresh token');
    }
    if (row.usedAt || row.revokedAt) {
      await this.rejectReuse(row);
    }
    if (row.expiresAt <= new Date()) {
      throw AppError.unauthenticated('Refresh token expired; sign in again');
    }
    const user = row.user.getEntity();
    if (!user.isActive) {
      throw AppError.unauthenticated('Invalid refresh token');
    }
    // Atomic claim: of two concurrent refreshes with the same token exactly one wins.
    const claimed = await this.em.nativeUpdate(
      RefreshToken,
      { id: row.id, usedAt: null, revokedAt: null },
      { usedAt: new Date() },
    );
    if (claimed === 0) {
      await this.rejectReuse(row);
    }
    return this.issueSession(user, row.familyId);
  }

  /** A used or revoked token came back: assume theft and end the whole family. */
  private async rejectReuse(row: RefreshToken): Promise<never> {
    await this.em.nativeUpdate(
      RefreshToken,
      { familyId: row.familyId, revokedAt: null },
      { revokedAt: new Date() },
    );
    await audit(
      this.em,
      {
        action: 'auth.refresh.reuse',
        outcome: 'FAILURE',
        actorId: row.user.id,
        targetType: 'refreshTokenFamily',
        targetId: row.familyId,
        ip: this.ctx.ip,
      },
      { flush: true },
    );
    throw AppError.unauthenticated(
      'Refresh token already used; all sessions from that login were ended',
    );
  }

  /** Ends the session family of `refreshToken` and revokes the presenting access token. */
  async logout(refreshToken?: string | null): Promise<boolean> {
    const auth = this.ctx.auth;
    let familyId: string | undefined;
    if (refreshToken) {
      const row = await this.em.findOne(RefreshToken, { tokenHash: sha256Hex(refreshToken) });
      if (row && (!auth || row.user.id === auth.user.id)) {
        familyId = row.familyId;
        await this.em.nativeUpdate(
          RefreshToken,
          { familyId, revokedAt: null },
          { revokedAt: new Date() },
        );
      }
    }
    if (auth?.method === 'jwt' && auth.jti && auth.expiresAt) {
      const ttl = Math.max(1, auth.expiresAt - Math.floor(Date.now() / 1000) + 60);
      await this.app.redis.set(denyListKey(auth.jti), '1', 'EX', ttl);
    }
    if (!auth && !familyId) {
      throw AppError.unauthenticated('Nothing to log out: send an access token or a refresh token');
    }
    await audit(
      this.em,
      {
        action: 'auth.logout',
        actorId: auth?.user.id,
        targetType: familyId ? 'refreshTokenFamily' : undefined,
        targetId: familyId,
        ip: this.ctx.ip,
      },
      { flush: true },
    );
    return true;
  }

  me(): UserType {
    return UserType.from(requireUser(this.ctx));
  }

  async createApiKey(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    const user = requireSession(this.ctx);
    const secret = randomSecret(API_KEY_PREFIX);
    const key = this.em.create(ApiKey, {
      user: this.em.getReference(User, user.id),
      name: input.name.trim(),
      prefix: secret.slice(0, API_KEY_PREFIX.length + 8),
      keyHash: sha256Hex(secret),
      expiresAt: input.expiresInDays
        ? new Date(Date.now() + input.expiresInDays * 86400_000)
        : undefined,
    });
    await audit(this.em, {
      action: 'apiKey.create',
      actorId: user.id,
      targetType: 'apiKey',
      targetId: key.id,
      ip: this.ctx.ip,
    });
    await this.em.flush();
    return Object.assign(new CreatedApiKey(), { apiKey: ApiKeyType.from(key), secret });
  }

  async apiKeys(): Promise<ApiKeyType[]> {
    const user = requireUser(this.ctx);
    const keys = await this.em.find(
      ApiKey,
      { user: user.id },
      { orderBy: { createdAt: 'desc', id: 'desc' } },
    );
    return keys.map(k => ApiKeyType.from(k));
  }

  async revokeApiKey(id: string): Promise<ApiKeyType> {
    const user = requireSession(this.ctx);
    assertIdOrNotFound(id, 'API key');
    const key = await this.em.findOne(ApiKey, { id, user: user.id });
    if (!key) {
      throw AppError.notFound('API key', id);
    }
    if (!key.revokedAt) {
      key.revokedAt = new Date();
      await audit(this.em, {
        action: 'apiKey.revoke',
        actorId: user.id,
        targetType: 'apiKey',
        targetId: key.id,
        ip: this.ctx.ip,
      });
      await this.em.flush();
    }
    return ApiKeyType.from(key);
  }

  async users(args: UsersArgs): Promise<UserConnection> {
    requireSession(this.ctx, Role.ADMIN);
    const where: Record<string, unknown> = {};
    if (args.search?.trim()) {
      const like = `%${escapeLike(args.search.trim())}%`;
      where.$or = [{ email: { $ilike: like } }, { username: { $ilike: like } }];
    }
    const [rows, totalCount] = await Promise.all([
      this.em.find(
        User,
        { $and: [where, afterCursorFilter(args.after)] },
        { orderBy: { createdAt: 'desc', id: 'desc' }, limit: args.first + 1 },
      ),
      this.em.count(User, where),
    ]);
    const page = rows.slice(0, args.first);
    const edges = page.map(u => ({ cursor: encodeCursor(u), node: UserType.from(u) }));
    return Object.assign(new UserConnection(), {
      edges,
      totalCount,
      pageInfo: { hasNextPage: rows.length > args.first, endCursor: edges.at(-1)?.cursor ?? null },
    });
  }

  private async targetUser(admin: AuthUser, userId: string, what: string): Promise<User> {
    if (userId === admin.id) {
      throw AppError.badInput(`You cannot ${what} your own account`, 'userId');
    }
    assertIdOrNotFound(userId, 'User');
    const user = await this.em.findOne(User, { id: userId });
    if (!user) {
      throw AppError.notFound('User', userId);
    }
    return user;
  }

  async setUserRole(userId: string, role: Role): Promise<UserType> {
    const admin = requireSession(this.ctx, Role.ADMIN);
    const user = await this.targetUser(admin, userId, 'change the role of');
    const previous = user.role;
    if (previous !== role) {
      user.role = role;
      await audit(this.em, {
        action: 'user.setRole',
        actorId: admin.id,
        targetType: 'user',
        targetId: user.id,
        ip: this.ctx.ip,
        details: { from: previous, to: role },
      });
      await this.em.flush();
      await this.changed(user.id);
    }
    return UserType.from(user);
  }

  async deactivateUser(userId: string): Promise<UserType> {
    const admin = requireSession(this.ctx, Role.ADMIN);
    const user = await this.targetUser(admin, userId, 'deactivate');
    if (user.isActive) {
      user.isActive = false;
      user.tokenVersion += 1; // outstanding access tokens stop working at once
      await this.em.nativeUpdate(
        RefreshToken,
        { user, revokedAt: null },
        { revokedAt: new Date() },
      );
      await audit(this.em, {
        action: 'user.deactivate',
        actorId: admin.id,
        targetType: 'user',
        targetId: user.id,
        ip: this.ctx.ip,
      });
      await this.em.flush();
      await this.changed(user.id);
    }
    return UserType.from(user);
  }
}
