/**
 * Fixed-window rate limits on GraphQL operations (HTTP), per signed-in user and per client IP,
 * counted atomically in Redis by rate-limiter-flexible (so all API replicas share the counts).
 * Over the limit: RATE_LIMITED, HTTP 429, `Retry-After` (seconds until the window resets).
 */
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppServices } from '../context.js';
import { AppError } from '../errors.js';

export interface RateLimiter {
  consume(userId: string | undefined, ip: string | undefined): Promise<void>;
}

export function createRateLimiter(app: AppServices): RateLimiter {
  const { windowSeconds, perUser, perIp } = app.config.rateLimit;
  const make = (points: number, name: string) =>
    points > 0
      ? new RateLimiterRedis({
          storeClient: app.redis,
          keyPrefix: `rl:${name}`,
          points,
          duration: windowSeconds,
        })
      : undefined;
  const byUser = make(perUser, 'user');
  const byIp = make(perIp, 'ip');

  const take = async (
    limiter: RateLimiterRedis | undefined,
    key: string | undefined,
    what: string,
  ) => {
    if (!limiter || !key) return;
    try {
      await limiter.consume(key);
    } catch (e) {
      if (e instanceof RateLimiterRes) {
        throw AppError.rateLimited(
          `Too many requests (${what} limit ${limiter.points} per ${windowSeconds}s); retry later`,
          e.msBeforeNext / 1000,
        );
      }
      throw e; // Redis down: surface as an internal error rather than silently unlimited
    }
  };
  return {
    async consume(userId, ip) {
      // Both counters at once: one Redis round-trip time per request instead of two in a row.
      // The IP verdict still wins when both are over.
      const [perIpResult, perUserResult] = await Promise.allSettled([
        take(byIp, ip, 'IP'),
        take(byUser, userId, 'user'),
      ]);
      for (const r of [perIpResult, perUserResult]) if (r.status === 'rejected') throw r.reason;
    },
  };
}
