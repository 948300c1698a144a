/**
 * Fixed-window rate limits on GraphQL operations (HTTP and WebSocket), per signed-in user and per
 * client IP, counted atomically in Redis (so all API replicas share the counts).
 * Over the limit: RATE_LIMITED, HTTP 429, `Retry-After` (seconds until the window resets).
 *
 * Both counters are taken by ONE Lua script call (EVALSHA): one command and one socket write per
 * request. (This used to be two rate-limiter-flexible `consume` calls, whose socket writes were a
 * tenth of the API's CPU under `npm run load`.) Same keys and semantics as before: `rl:ip:<ip>`
 * and `rl:user:<id>`, each `SET 0 EX window NX` then `INCRBY`, so a window starts with its first
 * request and every request counts, including refused ones.
 */
import type { Redis } from 'ioredis';
import type { AppServices } from '../context.js';
import { AppError } from '../errors.js';
import { datasetsVersionKey } from '../modules/datasets/dataset.version.js';
import { newVersionToken, VERSION_TOKEN_TTL_SECONDS } from '../util/version-token.js';

export interface RateLimiter {
  consume(userId: string | undefined, ip: string | undefined): Promise<void>;
  /**
   * The access-token deny-list check and the counters in the same Redis call (one round trip
   * per request instead of two), for a caller that checks the user row in PostgreSQL meanwhile.
   * A denied token counts nothing. Otherwise the caller must either `check()` (throws
   * RATE_LIMITED when over) once the user is confirmed, or `undo()` when authentication failed
   * after all, so that, as with `consume` after authentication, refused credentials cost no budget.
   */
  consumeUnlessDenied(
    denyKey: string,
    versionKey: string,
    userId: string,
    ip: string | undefined,
  ): Promise<AuthState & { check(): void; undo(): Promise<void> }>;
}

/**
 * A token's deny-list verdict, its user's auth version (see `modules/accounts/auth-user.ts`) and
 * datasets version (see `modules/datasets/dataset.version.ts`).
 */
export interface AuthState {
  denied: boolean;
  /** The user's auth-version token; '' when denied. */
  version: string;
  /** The user's datasets version token; '' when denied. */
  datasetsVersion: string;
}

/**
 * KEYS: [deny-list key, auth-version key, datasets-version key] if ARGV[2] == '1', then the
 * counters; ARGV[1]: window in seconds; ARGV[3], ARGV[4]: a fresh version token and its TTL,
 * stored in either version key when that key is missing (a token, never a counter restarting at
 * 0, so a key lost with Redis data cannot come back at a value a cache already holds). Returns {-1} for a deny-listed token (nothing counted),
 * else {version, datasetsVersion, count1, pttl1, count2, pttl2, …} (the versions are '' without
 * the auth keys).
 */
const INCR_WINDOWS = `
local first = 1
local out = {'', ''}
if ARGV[2] == '1' then
  if redis.call('exists', KEYS[1]) == 1 then return {-1} end
  local av = redis.call('get', KEYS[2])
  if not av then
    av = ARGV[3]
    redis.call('set', KEYS[2], av, 'EX', ARGV[4])
  end
  out[1] = av
  local dv = redis.call('get', KEYS[3])
  if not dv then
    dv = ARGV[3]
    redis.call('set', KEYS[3], dv, 'EX', ARGV[4])
  end
  out[2] = dv
  first = 4
end
for i = first, #KEYS do
  local key = KEYS[i]
  redis.call('set', key, 0, 'EX', ARGV[1], 'NX')
  local n = redis.call('incrby', key, 1)
  local ttl = redis.call('pttl', key)
  if ttl == -1 then
    redis.call('expire', key, ARGV[1])
    ttl = 1000 * tonumber(ARGV[1])
  end
  out[#out + 1] = n
  out[#out + 1] = ttl
end
return out
`;

/** Takes back one request from each counter that still exists (never creates a key). */
const UNDO_WINDOWS = `
for i, key in ipairs(KEYS) do
  if redis.call('exists', key) == 1 then redis.call('decr', key) end
end
return 0
`;

type WithIncrWindows = Redis & {
  omicIncrWindows(
    numKeys: number,
    ...args: Array<string | number>
  ): Promise<[number | string, ...number[]]>;
  omicUndoWindows(numKeys: number, ...keys: string[]): Promise<number>;
};

function withScripts(redis: Redis): WithIncrWindows {
  const r = redis as WithIncrWindows;
  if (typeof r.omicIncrWindows !== 'function') {
    // ioredis sends EVALSHA, falling back to EVAL once if the server does not have the script.
    r.defineCommand('omicIncrWindows', { lua: INCR_WINDOWS });
    r.defineCommand('omicUndoWindows', { lua: UNDO_WINDOWS });
  }
  return r;
}

/** The auth keys and the script's ARGV after the window: read them, make a missing token so. */
const authKeys = (denyKey: string, versionKey: string, userId: string) =>
  [denyKey, versionKey, datasetsVersionKey(userId)] as const;
const authArgs = () => [1, newVersionToken(), VERSION_TOKEN_TTL_SECONDS] as const;

const DENIED: AuthState = { denied: true, version: '', datasetsVersion: '' };
const stateOf = (reply: ReadonlyArray<number | string>): AuthState =>
  Number(reply[0]) === -1
    ? DENIED
    : { denied: false, version: String(reply[0]), datasetsVersion: String(reply[1]) };

/** The deny-list check and the versions in one call, counting nothing (WebSocket, /admin). */
export async function authState(
  redis: Redis,
  denyKey: string,
  versionKey: string,
  userId: string,
): Promise<AuthState> {
  return stateOf(
    await withScripts(redis).omicIncrWindows(
      3,
      ...authKeys(denyKey, versionKey, userId),
      0,
      ...authArgs(),
    ),
  );
}

interface Check {
  key: string;
  points: number;
  what: string;
}

export function createRateLimiter(app: AppServices): RateLimiter {
  const { windowSeconds, perUser, perIp } = app.config.rateLimit;
  const redis = withScripts(app.redis);
  // IP first: its verdict wins when both are over.
  const checksFor = (userId: string | undefined, ip: string | undefined): Check[] => {
    const checks: Check[] = [];
    if (perIp > 0 && ip) checks.push({ key: `rl:ip:${ip}`, points: perIp, what: 'IP' });
    if (perUser > 0 && userId) {
      checks.push({ key: `rl:user:${userId}`, points: perUser, what: 'user' });
    }
    return checks;
  };
  // reply[0], reply[1] are the versions (or ''), then (count, pttl) per check.
  const verdict = (checks: Check[], reply: ReadonlyArray<number | string>) => {
    checks.forEach((c, i) => {
      const consumed = Number(reply[2 * i + 2]);
      if (consumed > c.points) {
        const msBeforeNext = Math.max(0, Number(reply[2 * i + 3]));
        throw AppError.rateLimited(
          `Too many requests (${c.what} limit ${c.points} per ${windowSeconds}s); retry later`,
          msBeforeNext / 1000,
        );
      }
    });
  };
  return {
    async consume(userId, ip) {
      const checks = checksFor(userId, ip);
      if (checks.length === 0) return;
      // A Redis error propagates: an internal error rather than silently unlimited.
      const keys = checks.map(c => c.key);
      verdict(checks, await redis.omicIncrWindows(keys.length, ...keys, windowSeconds, 0));
    },
    async consumeUnlessDenied(denyKey, versionKey, userId, ip) {
      const checks = checksFor(userId, ip);
      const keys = checks.map(c => c.key);
      const reply = await redis.omicIncrWindows(
        keys.length + 3,
        ...authKeys(denyKey, versionKey, userId),
        ...keys,
        windowSeconds,
        ...authArgs(),
      );
      const state = stateOf(reply);
      if (state.denied) {
        return { ...state, check: () => undefined, undo: async () => undefined };
      }
      return {
        ...state,
        check: () => verdict(checks, reply),
        undo: async () => {
          if (keys.length) await redis.omicUndoWindows(keys.length, ...keys);
        },
      };
    },
  };
}
