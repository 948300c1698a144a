/**
 * Per-user datasets version and the per-process cache of list pages it validates, so a repeated
 * `datasets(…)` list costs no PostgreSQL round trip while staying as fresh as reading it.
 *
 * How freshness is kept: every committed write to a user's dataset rows (create, status changes
 * while processing, failure, update, delete; API code only — workers never write datasets) is
 * followed by `bumpDatasetsVersion`, which sets `ds:v:<ownerId>` in Redis to a new unique token.
 * The one Redis script call every authenticated request makes anyway (deny-list, auth version,
 * rate-limit counters; `ops/ratelimit.ts`) also returns that token. A cached page is used only
 * when it was read at the same token; a miss reads PostgreSQL *after* the token came back, so a
 * page cached with token T was read after every write that a request seeing T must see (a write
 * committed before T was read would have replaced T). So a change made through any API instance
 * shows in every instance's next list, with no extra round trip.
 *
 * Tokens, not counters (`util/version-token.ts`): a missing key is re-created by the script with
 * a fresh token, never one a cache could hold already. The TTL of a cached page bounds
 * only what bypasses the API code: SQL by hand, or a process dying between a commit and its bump.
 *
 * Only lists scoped to the caller's own rows are cached (not admins' lists, which span users).
 */
import type { Redis } from 'ioredis';
import { bumpVersionToken } from '../../util/version-token.js';

export const datasetsVersionKey = (userId: string) => `ds:v:${userId}`;

/**
 * Call after committing any write to `ownerId`'s dataset rows: every API instance stops serving
 * its cached list pages of that user at their next request.
 */
export async function bumpDatasetsVersion(redis: Redis, ownerId: string): Promise<void> {
  await bumpVersionToken(redis, datasetsVersionKey(ownerId));
}

/** How long a cached page may be used at all (bounds writes made without a bump). */
export const PAGE_CACHE_TTL_MS = 5_000;
/** Approximate bytes (JSON length of the rows) held in one process, and per page. */
const PAGE_CACHE_MAX_BYTES = 16 * 1024 * 1024;
const PAGE_MAX_BYTES = 1024 * 1024;

interface Entry<T> {
  value: T;
  version: string;
  expires: number;
  bytes: number;
}

/** Pages per (user, query), valid while the user's datasets version is unchanged. */
export class DatasetPageCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly loading = new Map<string, Promise<T>>();
  private bytes = 0;

  constructor(
    private readonly ttlMs = PAGE_CACHE_TTL_MS,
    private readonly maxBytes = PAGE_CACHE_MAX_BYTES,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The page for `key` read at `version`: from the cache, or from `load` (concurrent misses of
   * one key and version share one read). `sizeOf` estimates a loaded page's bytes.
   */
  async get(
    key: string,
    version: string,
    load: () => Promise<T>,
    sizeOf: (value: T) => number,
  ): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && hit.version === version && hit.expires > this.now()) return hit.value;
    const flight = `${key}\n${version}`;
    let p = this.loading.get(flight);
    if (!p) {
      p = load()
        .then(value => {
          this.set(key, version, value, sizeOf(value));
          return value;
        })
        .finally(() => this.loading.delete(flight));
      this.loading.set(flight, p);
    }
    return p;
  }

  private set(key: string, version: string, value: T, bytes: number): void {
    this.delete(key);
    if (bytes > Math.min(PAGE_MAX_BYTES, this.maxBytes)) return;
    // Oldest first (insertion order) until the new page fits.
    for (const k of this.entries.keys()) {
      if (this.bytes + bytes <= this.maxBytes) break;
      this.delete(k);
    }
    this.entries.set(key, { value, version, expires: this.now() + this.ttlMs, bytes });
    this.bytes += bytes;
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.bytes;
  }
}
