/**
 * Version tokens in Redis: a key per (kind, user) holding a value no other write ever produced,
 * replaced after every committed change. Callers cache rows read at a token and use them only
 * while the key still holds it (`modules/accounts/auth-user.ts`, `modules/datasets/dataset.version.ts`;
 * the per-request script in `ops/ratelimit.ts` reads both keys and re-creates a missing one).
 *
 * Tokens, not counters: a key may vanish (TTL, Redis data loss); a counter restarting at 0 could
 * match a copy cached before the loss, a fresh token never does.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Idle users' version keys expire (a re-created key is just a new token: caches miss once). */
export const VERSION_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

const instance = randomUUID();
let sequence = 0;

/** A token no other call, process or restart produces (process id + counter). */
export function newVersionToken(): string {
  return `${instance}.${(sequence++).toString(36)}`;
}

/** Replace the token at `key`: every cached copy read at the old one stops being used. */
export async function bumpVersionToken(redis: Redis, key: string): Promise<void> {
  await redis.set(key, newVersionToken(), 'EX', VERSION_TOKEN_TTL_SECONDS);
}
