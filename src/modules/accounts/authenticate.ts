/**
 * Turns an `Authorization` header into the caller. No header: anonymous (undefined). Anything
 * present but wrong — bad scheme, bad/expired/unsigned JWT, revoked or unknown API key, inactive
 * user — throws UNAUTHENTICATED (HTTP 401), never a 500.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppServices, AuthInfo } from '../../context.js';
import { AppError } from '../../errors.js';
import { log } from '../../logger.js';
import { accountsDeps } from './accounts.deps.js';
import { ApiKey } from './api-key.entity.js';
import { API_KEY_PREFIX, InvalidTokenError, sha256Hex } from './tokens.js';
import { User } from './user.entity.js';

export const denyListKey = (jti: string) => `auth:deny:${jti}`;

/**
 * Answers whether an access token's deny-list key is set (true = revoked). The HTTP path passes
 * one that also takes the rate-limit counters in the same Redis call (see `consumeUnlessDenied`).
 */
export type DenyCheck = (denyKey: string, userId: string) => Promise<boolean>;

export async function authenticate(
  header: string | undefined,
  em: EntityManager,
  app: AppServices,
  isDenied?: DenyCheck,
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
    : authenticateJwt(credential, em, app, isDenied);
}

async function authenticateJwt(
  token: string,
  em: EntityManager,
  app: AppServices,
  isDenied: DenyCheck = async key => (await app.redis.exists(key)) > 0,
): Promise<AuthInfo> {
  const { signer } = accountsDeps(app.config);
  let claims;
  try {
    claims = await signer.verify(token);
  } catch (err) {
    throw AppError.unauthenticated(
      err instanceof InvalidTokenError ? err.message : 'Invalid access token',
    );
  }
  const [user, denied] = await Promise.all([
    em.findOne(User, { id: claims.sub }),
    isDenied(denyListKey(claims.jti), claims.sub),
  ]);
  if (!user || !user.isActive || user.tokenVersion !== claims.tv || denied) {
    throw AppError.unauthenticated('Access token revoked');
  }
  return { user, method: 'jwt', jti: claims.jti, expiresAt: claims.exp };
}

async function authenticateApiKey(
  key: string,
  em: EntityManager,
  app: AppServices,
): Promise<AuthInfo> {
  // Look up by hash: no secret comparison, so no timing or length issues.
  const row = await em.findOne(ApiKey, { keyHash: sha256Hex(key) }, { populate: ['user'] });
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
  return { user, method: 'apiKey', apiKeyId: row.id };
}
