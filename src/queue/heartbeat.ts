/**
 * Worker heartbeats in Redis: one key per worker (JSON, with a TTL) plus a sorted-set index scored
 * by the last beat, so listing live workers is one ZRANGEBYSCORE + MGET instead of a SCAN.
 * A worker that dies simply stops beating; its key expires and the index entry is pruned.
 */
import { type Redis } from 'ioredis';
import { type Pool } from './names.js';

export interface GpuFacts {
  name: string;
  memoryMb: number | null;
  driver: string | null;
  cuda: string | null;
}

export interface DeviceFacts {
  /** What the compute actually runs on. */
  kind: 'cpu' | 'gpu';
  /** Tensor backend the worker's computes use ('tensorflow', 'wasm', 'cpu'). */
  backend: string;
  gpus: GpuFacts[];
  /** A gpu-pool worker running on CPU because of --allow-cpu-fallback. */
  cpuFallback: boolean;
  cpus: number;
  memoryMb: number;
}

export interface WorkerHeartbeat {
  id: string;
  pool: Pool;
  host: string;
  pid: number;
  concurrency: number;
  device: DeviceFacts;
  running: string[];
  startedAt: string;
  lastSeenAt: string;
}

const indexKey = (prefix: string) => `${prefix}:workers`;
const workerKey = (prefix: string, id: string) => `${prefix}:worker:${id}`;

export async function writeHeartbeat(
  redis: Redis,
  prefix: string,
  hb: WorkerHeartbeat,
  ttlMs: number,
): Promise<void> {
  const now = Date.now();
  await redis
    .multi()
    .set(workerKey(prefix, hb.id), JSON.stringify(hb), 'PX', ttlMs)
    .zadd(indexKey(prefix), now, hb.id)
    .exec();
}

export async function removeHeartbeat(redis: Redis, prefix: string, id: string): Promise<void> {
  await redis.multi().del(workerKey(prefix, id)).zrem(indexKey(prefix), id).exec();
}

/** Workers whose last heartbeat is younger than `ttlMs`, optionally of one pool. */
export async function liveWorkers(
  redis: Redis,
  prefix: string,
  ttlMs: number,
  pool?: Pool,
): Promise<WorkerHeartbeat[]> {
  const now = Date.now();
  await redis.zremrangebyscore(indexKey(prefix), '-inf', now - ttlMs);
  const ids = await redis.zrangebyscore(indexKey(prefix), now - ttlMs, '+inf');
  if (ids.length === 0) return [];
  const raw = await redis.mget(ids.map(id => workerKey(prefix, id)));
  const out: WorkerHeartbeat[] = [];
  for (const r of raw) {
    if (!r) continue;
    const hb = JSON.parse(r) as WorkerHeartbeat;
    if (!pool || hb.pool === pool) out.push(hb);
  }
  return out.sort((a, b) => a.pool.localeCompare(b.pool) || a.id.localeCompare(b.id));
}
