/**
 * The credential a client sends, and access-token refresh. Refresh tokens are single use (the
 * server rotates them and ends the whole session when an old one is presented again), so:
 * - concurrent requests that need a refresh share one refresh call;
 * - a request rejected with a token that has already been replaced just retries with the new one;
 * - with a `store` (e.g. the CLI's config file), tokens rotated by another process are adopted
 *   instead of spending our now-stale refresh token.
 */
import { OmicSelectorError } from './errors.js';

export interface Tokens {
  accessToken: string;
  refreshToken?: string;
  /** ISO date; when absent it is read from the JWT's `exp`. */
  accessTokenExpiresAt?: string;
  refreshTokenExpiresAt?: string;
}

/** Where tokens live between processes (the SDK itself keeps them in memory only). */
export interface TokenStore {
  load(): Promise<Tokens | undefined> | Tokens | undefined;
  save(tokens: Tokens | undefined): Promise<void> | void;
}

export type Refresher = (refreshToken: string) => Promise<Tokens>;

/** Refresh this many seconds before the access token expires. */
const EXPIRY_MARGIN_S = 15;

/** `exp` (seconds) of a JWT, without verifying it; undefined for anything else. */
export function jwtExpiry(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

export class Session {
  private tokens: Tokens | undefined;
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly apiKey: string | undefined,
    tokens: Tokens | undefined,
    private readonly refresher: Refresher,
    private readonly store?: TokenStore,
    private readonly onTokens?: (tokens: Tokens | undefined) => void,
  ) {
    this.tokens = tokens;
  }

  get current(): Tokens | undefined {
    return this.tokens;
  }

  get usesApiKey(): boolean {
    return this.apiKey !== undefined;
  }

  canRefresh(): boolean {
    return !this.apiKey && Boolean(this.tokens?.refreshToken);
  }

  /** Replace the tokens (after login/register/refresh) and persist them. */
  async set(tokens: Tokens | undefined): Promise<void> {
    this.tokens = tokens;
    await this.store?.save(tokens);
    this.onTokens?.(tokens);
  }

  private expiresAtMs(): number | undefined {
    const t = this.tokens;
    if (!t?.accessToken) return undefined;
    if (t.accessTokenExpiresAt) return Date.parse(t.accessTokenExpiresAt);
    const exp = jwtExpiry(t.accessToken);
    return exp === undefined ? undefined : exp * 1000;
  }

  /**
   * The bearer credential to send now: the API key, or an access token valid for at least the
   * margin (refreshing first when it is about to expire and a refresh token is at hand).
   */
  async bearer(): Promise<string | undefined> {
    if (this.apiKey) return this.apiKey;
    const exp = this.expiresAtMs();
    const stale = exp !== undefined && exp - Date.now() < EXPIRY_MARGIN_S * 1000;
    if (this.canRefresh() && (!this.tokens?.accessToken || stale)) {
      await this.refresh();
    }
    return this.tokens?.accessToken || undefined;
  }

  /**
   * The server rejected `usedToken`. Resolves true when a different token is now available
   * (refreshed here or by a concurrent request); false when there is nothing to refresh with.
   */
  async recover(usedToken: string | undefined): Promise<boolean> {
    if (!this.canRefresh()) return false;
    if (usedToken !== undefined && this.tokens?.accessToken !== usedToken) return true;
    await this.refresh();
    return true;
  }

  /** One refresh at a time; callers arriving meanwhile wait for the same one. */
  refresh(): Promise<void> {
    this.inflight ??= this.doRefresh().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async doRefresh(): Promise<void> {
    const ours = this.tokens?.refreshToken;
    if (!ours) {
      throw new OmicSelectorError('UNAUTHENTICATED', 'No refresh token: sign in again');
    }
    if (this.store) {
      const latest = await this.store.load();
      if (latest?.refreshToken && latest.refreshToken !== ours) {
        // Another process rotated the pair: ours is spent, theirs is current.
        this.tokens = latest;
        this.onTokens?.(latest);
        return;
      }
    }
    let next: Tokens;
    try {
      next = await this.refresher(ours);
    } catch (err) {
      if (err instanceof OmicSelectorError && err.code === 'UNAUTHENTICATED') {
        await this.set(undefined);
        throw new OmicSelectorError(
          'UNAUTHENTICATED',
          `Session expired (${err.message}): sign in again`,
          { cause: err },
        );
      }
      throw err;
    }
    await this.set(next);
  }
}
