/**
 * Container healthcheck for a worker: exit 0 when a live heartbeat from this host exists in Redis
 * (the worker process beats every WORKER_HEARTBEAT_MS), 1 otherwise. Used by docker-compose.gpu.yml.
 */
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { loadConfig } from '../config.js';
import { liveWorkers } from '../queue/heartbeat.js';
import { queueSettings } from '../queue/settings.js';

async function main(): Promise<number> {
  const config = loadConfig();
  if (!config.redisUrl) return 1;
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const live = await liveWorkers(
      redis,
      config.redisPrefix,
      queueSettings().WORKER_HEARTBEAT_TTL_MS,
    );
    return live.some(w => w.host === hostname()) ? 0 : 1;
  } finally {
    redis.disconnect();
  }
}

main().then(
  code => process.exit(code),
  () => process.exit(1),
);
