/**
 * Access tokens: HS256 JWTs (jose), algorithm pinned, issuer/audience/exp/iat/jti required.
 * Refresh tokens and API keys: 256-bit random secrets, stored only as SHA-256.
 */
import { createHash, randomBytes, randomUUID, webcrypto } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';

const ISSUER = 'omicselector';
const AUDIENCE = 'omicselector-api';
/** Seconds past `exp` a token is still accepted (jose's `clockTolerance`). */
const CLOCK_TOLERANCE_SECONDS = 30;

export const API_KEY_PREFIX = 'osk_';
export const REFRESH_TOKEN_PREFIX = 'ort_';

export interface AccessClaims {
  sub: string;
  /** User.tokenVersion at issue time. */
  tv: number;
  jti: string;
  exp: number;
}

export class InvalidTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function randomSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

export class TokenSigner {
  /**
   * Imported once: given raw bytes, jose runs `crypto.subtle.importKey` on every sign/verify,
   * which was about a third of the JWT cost per request (`npm run load` profile).
   */
  private readonly key: Promise<webcrypto.CryptoKey>;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = webcrypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
  }

  async sign(userId: string, tokenVersion: number): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.ttlSeconds;
    const token = await new SignJWT({ tv: tokenVersion })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(await this.key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** Throws InvalidTokenError (never anything else) for any bad, expired or unsigned token. */
  async verify(token: string): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(token, await this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      if (typeof payload.tv !== 'number' || typeof payload.sub !== 'string') {
        throw new InvalidTokenError('malformed token claims');
      }
      return { sub: payload.sub, tv: payload.tv, jti: payload.jti!, exp: payload.exp! };
    } catch (err) {
      if (err instanceof InvalidTokenError) {
        throw err;
      }
      if (err instanceof joseErrors.JWTExpired) {
        throw new InvalidTokenError('Access token expired');
      }
      throw new InvalidTokenError('Invalid access token');
    }
  }
}

/**
 * Remembers tokens whose signature and claims were verified, until they expire: a client sends
 * the same access token with every request (and every WebSocket operation) for its lifetime, and
 * HMAC verification through WebCrypto was the largest single item of an authenticated request's
 * CPU under `npm run load`. Only successful verifications are kept (keyed by the whole token, so
 * nothing but the identical string hits); revocation is unaffected (the deny-list and the user
 * row are checked on every request). Bounded: the oldest entry goes first.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, AccessClaims>();

  constructor(
    private readonly signer: TokenSigner,
    private readonly maxEntries = 10_000,
    private readonly nowSeconds: () => number = () => Date.now() / 1000,
  ) {}

  async verify(token: string): Promise<AccessClaims> {
    const hit = this.entries.get(token);
    if (hit) {
      if (this.nowSeconds() < hit.exp + CLOCK_TOLERANCE_SECONDS) return hit;
      this.entries.delete(token); // expired: the signer says so in its own words
    }
    const claims = await this.signer.verify(token);
    if (this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(token, claims);
    return claims;
  }

  get size(): number {
    return this.entries.size;
  }
}
