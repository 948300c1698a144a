/**
 * Per-user (per-IP for anonymous sockets) WebSocket connection and subscription caps, counted
 * across every API instance of the deployment in Redis — a user behind a load balancer gets the
 * cap once, not once per replica.
 *
 * Each owner has a sorted set per kind (`ws:conn:<owner>`, `ws:sub:<owner>`, under the app
 * client's REDIS_PREFIX): members are connection (or connection:operation) ids, scores their
 * expiry in Redis server time. A slot is taken by one Lua script (drop expired members, compare
 * the count with the cap, add) — atomic across instances. Each instance re-stamps the members it
 * holds every `ttlMs / 3`; a crashed instance stops doing so and its slots expire after `ttlMs`
 * (they are not counted against its users forever). A closed socket or completed subscription
 * gives its slot back at once (ZREM); if Redis is down at that moment, the slot still expires.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { log } from '../logger.js';

export type CapKind = 'conn' | 'sub';

/** Slots not re-stamped for this long are free again (a crashed API instance). */
export const WS_CAP_TTL_MS = 30_000;

// Redis server time in ms (one clock for every instance).
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS[1] set; ARGV: member, max, ttlMs → 1 admitted, 0 over the cap. */
const ACQUIRE = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1`;

/**
 * KEYS[1] set; ARGV: ttlMs, members… → re-stamps (re-adds: Redis may have restarted without its
 * data) the members this instance holds.
 */
const REFRESH = `${NOW}
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1`;

export class WsCaps {
  /** Redis key → members this instance holds there. */
  private readonly held = new Map<string, Set<string>>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  /** `redis`: the app's command client (its keyPrefix namespaces the keys). */
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs = WS_CAP_TTL_MS,
  ) {
    this.timer = setInterval(() => void this.refresh(), Math.max(50, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  newId(): string {
    return randomUUID();
  }

  private key(kind: CapKind, owner: string): string {
    return `ws:${kind}:${owner}`;
  }

  /** Count of live slots of `owner` (all instances). */
  async count(kind: CapKind, owner: string): Promise<number> {
    const key = this.key(kind, owner);
    const [sec, usec] = (await this.redis.time()) as unknown as [string, string];
    const ms = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    return this.redis.zcount(key, `(${ms}`, '+inf');
  }

  /**
   * Take a slot for `member` unless `owner` already holds `max` (across instances). Throws when
   * Redis is unreachable: callers refuse (fail closed) rather than admit uncounted.
   */
  async acquire(kind: CapKind, owner: string, member: string, max: number): Promise<boolean> {
    const key = this.key(kind, owner);
    const ok = (await this.redis.eval(ACQUIRE, 1, key, member, max, this.ttlMs)) === 1;
    if (!ok) return false;
    let set = this.held.get(key);
    if (!set) this.held.set(key, (set = new Set()));
    set.add(member);
    return true;
  }

  /** Give a slot back (idempotent; a Redis failure leaves it to expire). */
  async release(kind: CapKind, owner: string, member: string): Promise<void> {
    const key = this.key(kind, owner);
    const set = this.held.get(key);
    if (!set?.delete(member)) return;
    if (set.size === 0) this.held.delete(key);
    await this.redis.zrem(key, member).catch(err =>
      log.warn('WebSocket cap slot not released (expires on its own)', {
        key,
        error: String(err),
      }),
    );
  }

  private async refresh(): Promise<void> {
    if (this.closed || this.held.size === 0) return;
    const pipe = this.redis.pipeline();
    for (const [key, members] of this.held) pipe.eval(REFRESH, 1, key, this.ttlMs, ...members);
    await pipe
      .exec()
      .catch(err => log.warn('WebSocket cap slots not refreshed', { error: String(err) }));
  }

  /** Stop refreshing and give back every slot still held (shutdown). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const pipe = this.redis.pipeline();
    for (const [key, members] of this.held) pipe.zrem(key, ...members);
    this.held.clear();
    await pipe.exec().catch(() => undefined);
  }

  /** Test hook: stop refreshing WITHOUT releasing (what a crashed instance looks like). */
  abandon(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.held.clear();
  }
}
