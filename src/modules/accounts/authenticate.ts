/**
 * Turns an `Authorization` header into the caller. No header: anonymous (undefined). Anything
 * present but wrong — bad scheme, bad/expired/unsigned JWT, revoked or unknown API key, inactive
 * user — throws UNAUTHENTICATED (HTTP 401), never a 500.
 *
 * A JWT costs one Redis call (deny-list + the user's auth version, see `auth-user.ts`) and, only
 * when this process has no copy of the user row read at that version, one PostgreSQL read.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppServices, AuthInfo } from '../../context.js';
import { AppError } from '../../errors.js';
import { log } from '../../logger.js';
import { authState, type AuthState } from '../../ops/ratelimit.js';
import { accountsDeps } from './accounts.deps.js';
import { ApiKey } from './api-key.entity.js';
import { authUserOf, authVersionKey, AuthUserCache, type AuthUser } from './auth-user.js';
import { API_KEY_PREFIX, InvalidTokenError, sha256Hex } from './tokens.js';
import { User } from './user.entity.js';

export const denyListKey = (jti: string) => `auth:deny:${jti}`;

/**
 * Reads an access token's deny-list key and its user's auth and datasets versions in one Redis
 * call. The HTTP
 * path passes one that also takes the rate-limit counters in that call (`consumeUnlessDenied`).
 */
export type AuthStateCheck = (
  denyKey: string,
  versionKey: string,
  userId: string,
) => Promise<AuthState>;

/** One cache per running app (tests run several apps in one process). */
const caches = new WeakMap<AppServices, AuthUserCache>();

export function authUserCache(app: AppServices): AuthUserCache {
  let cache = caches.get(app);
  if (!cache) {
    cache = new AuthUserCache();
    caches.set(app, cache);
  }
  return cache;
}

/** An entity manager, or a function making one when first needed (most requests need none). */
export type LazyEm = EntityManager | (() => EntityManager);

const emOf = (em: LazyEm): EntityManager => (typeof em === 'function' ? em() : em);

export async function authenticate(
  header: string | undefined,
  em: LazyEm,
  app: AppServices,
  check?: AuthStateCheck,
): Promise<AuthInfo | undefined> {
  if (header === undefined || header.trim() === '') {
    return undefined;
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) {
    throw AppError.unauthenticated('Use "Authorization: Bearer <token or API key>"');
  }
  const credential = match[1]!;
  return credential.startsWith(API_KEY_PREFIX)
    ? authenticateApiKey(credential, em, app)
    : authenticateJwt(credential, em, app, check);
}

async function authenticateJwt(
  token: string,
  em: LazyEm,
  app: AppServices,
  check: AuthStateCheck = (deny, version, userId) => authState(app.redis, deny, version, userId),
): Promise<AuthInfo> {
  const { verified } = accountsDeps(app.config);
  let claims;
  try {
    claims = await verified.verify(token);
  } catch (err) {
    throw AppError.unauthenticated(
      err instanceof InvalidTokenError ? err.message : 'Invalid access token',
    );
  }
  const state = await check(denyListKey(claims.jti), authVersionKey(claims.sub), claims.sub);
  if (state.denied) {
    throw AppError.unauthenticated('Access token revoked');
  }
  // The row is read only after the version came back: a row cached at version N was read after
  // every change that produced a version ≤ N (so it can never hide one).
  const cache = authUserCache(app);
  const cached = cache.peek(claims.sub);
  const user =
    cached && cached.version === state.version
      ? cached.user
      : await loadUser(cache, claims.sub, state.version, em);
  if (!user || !user.isActive || user.tokenVersion !== claims.tv) {
    throw AppError.unauthenticated('Access token revoked');
  }
  return {
    user,
    method: 'jwt',
    jti: claims.jti,
    expiresAt: claims.exp,
    datasetsVersion: state.datasetsVersion || undefined,
  };
}

/**
 * Reads the row and caches it at `version`. Concurrent requests for the same user and version
 * share one read (when an entry expires, every request in flight would otherwise read it):
 * a read started after some request saw `version` is as fresh as any request seeing `version`
 * needs (a change made before that request would have moved the version on).
 */
const loading = new WeakMap<AuthUserCache, Map<string, Promise<AuthUser | undefined>>>();

function loadUser(
  cache: AuthUserCache,
  userId: string,
  version: string,
  em: LazyEm,
): Promise<AuthUser | undefined> {
  let inFlight = loading.get(cache);
  if (!inFlight) loading.set(cache, (inFlight = new Map()));
  const key = `${userId}:${version}`;
  let p = inFlight.get(key);
  if (!p) {
    p = emOf(em)
      .findOne(User, { id: userId })
      .then(row => {
        if (!row) return undefined;
        const user = authUserOf(row);
        cache.set(row.id, version, user);
        return user;
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

async function authenticateApiKey(key: string, em: LazyEm, app: AppServices): Promise<AuthInfo> {
  // Look up by hash: no secret comparison, so no timing or length issues.
  const row = await emOf(em).findOne(ApiKey, { keyHash: sha256Hex(key) }, { populate: ['user'] });
  const now = new Date();
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= now)) {
    throw AppError.unauthenticated('Invalid API key');
  }
  const user = row.user.getEntity();
  if (!user.isActive) {
    throw AppError.unauthenticated('Invalid API key');
  }
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    // Best effort, at most once a minute per key, outside the request's unit of work.
    app.orm.em
      .fork()
      .nativeUpdate(ApiKey, { id: row.id }, { lastUsedAt: now })
      .catch(err => log.warn('could not record API key use', { error: String(err) }));
  }
  return { user: authUserOf(user), method: 'apiKey', apiKeyId: row.id };
}
