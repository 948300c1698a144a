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

export interface RateLimiter {
  consume(userId: string | undefined, ip: string | undefined): Promise<void>;
}

/** KEYS: the counters; ARGV[1]: window in seconds. Returns {count1, pttl1, count2, pttl2, …}. */
const INCR_WINDOWS = `
local out = {}
for i, key in ipairs(KEYS) do
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

type WithIncrWindows = Redis & {
  omicIncrWindows(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
};

export function createRateLimiter(app: AppServices): RateLimiter {
  const { windowSeconds, perUser, perIp } = app.config.rateLimit;
  const redis = app.redis as WithIncrWindows;
  if (typeof redis.omicIncrWindows !== 'function') {
    // ioredis sends EVALSHA, falling back to EVAL once if the server does not have the script.
    redis.defineCommand('omicIncrWindows', { lua: INCR_WINDOWS });
  }
  return {
    async consume(userId, ip) {
      // IP first: its verdict wins when both are over.
      const checks: Array<{ key: string; points: number; what: string }> = [];
      if (perIp > 0 && ip) checks.push({ key: `rl:ip:${ip}`, points: perIp, what: 'IP' });
      if (perUser > 0 && userId) {
        checks.push({ key: `rl:user:${userId}`, points: perUser, what: 'user' });
      }
      if (checks.length === 0) return;
      // A Redis error propagates: an internal error rather than silently unlimited.
      const reply = await redis.omicIncrWindows(
        checks.length,
        ...checks.map(c => c.key),
        windowSeconds,
      );
      checks.forEach((c, i) => {
        const consumed = Number(reply[2 * i]);
        if (consumed > c.points) {
          const msBeforeNext = Math.max(0, Number(reply[2 * i + 1]));
          throw AppError.rateLimited(
            `Too many requests (${c.what} limit ${c.points} per ${windowSeconds}s); retry later`,
            msBeforeNext / 1000,
          );
        }
      });
    },
  };
}
