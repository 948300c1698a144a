/**
 * Wires the long-lived services (ORM, Redis, storage, pub/sub) to the HTTP/WebSocket server.
 * Used by `main.ts` and by the integration tests (`tests/helpers/app.ts`), so tests boot exactly
 * what users run.
 */
import 'reflect-metadata';
import { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { AppServices } from './context.js';
import { createPubSub } from './graphql/pubsub.js';
import { log } from './logger.js';
import { jobsDeps } from './modules/jobs/job.runtime.js';
import { initOrm, migrateUp } from './orm.js';
import { startRetentionSchedule } from './ops/retention.js';
import { createHttpApp, type HttpApp } from './server.js';
import { createStorage } from './storage/index.js';

export interface RunningApp {
  /** http://host:port/graphql */
  url: string;
  /** ws://host:port/graphql */
  wsUrl: string;
  port: number;
  services: AppServices;
  http: HttpApp;
  close(): Promise<void>;
}

export interface StartAppOptions {
  databaseUrl: string;
  redisUrl: string;
  /** Apply pending migrations before serving (default true). */
  migrate?: boolean;
  /** PostgreSQL connections in this process's pool (default: the ORM's, 10). */
  dbPoolMax?: number;
}

/** Warns when Redis may evict keys: BullMQ and rate limits need `noeviction`. */
async function checkRedisPolicy(redis: Redis): Promise<void> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    if (reply[1] && reply[1] !== 'noeviction') {
      log.warn('Redis maxmemory-policy should be noeviction (queued jobs may be evicted)', {
        policy: reply[1],
      });
    }
  } catch {
    // CONFIG is often disabled on managed Redis; nothing to check then.
  }
}

export async function startApp(config: Config, options: StartAppOptions): Promise<RunningApp> {
  const orm = await initOrm({
    clientUrl: options.databaseUrl,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    poolMax: options.dbPoolMax,
  });
  const cleanups: Array<() => Promise<unknown>> = [() => orm.close(true)];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) {
      await fn().catch(err => log.warn('shutdown step failed', { error: String(err) }));
    }
  };
  try {
    if (options.migrate ?? true) {
      for (const name of await migrateUp(orm)) {
        log.info('applied migration', { name });
      }
    }
    const redis = new Redis(options.redisUrl, {
      connectionName: 'omicselector-api',
      keyPrefix: `${config.redisPrefix}:`,
      maxRetriesPerRequest: 3,
      retryStrategy: times => Math.min(times * 200, 5000),
    });
    redis.on('error', err => log.debug('redis connection error', { error: err.message }));
    cleanups.push(() => redis.quit());
    await redis.ping();
    await checkRedisPolicy(redis);

    const storage = createStorage(config);
    await storage.init();

    const pubSub = createPubSub(options.redisUrl, config.redisPrefix);
    cleanups.push(() => pubSub.close());

    const services: AppServices = { config, orm, redis, storage, pubSub };
    const http = await createHttpApp(services);
    cleanups.push(() => http.close());
    // Build the job machinery now, not on the first jobs request: its reconciler re-queues jobs
    // committed but never enqueued (a crash between the two) even on an API nobody has called.
    jobsDeps(services);
    const stopRetention = startRetentionSchedule(services);
    cleanups.push(async () => stopRetention());
    const port = await http.listen(config.port, config.host);
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    return {
      url: `http://${host}:${port}/graphql`,
      wsUrl: `ws://${host}:${port}/graphql`,
      port,
      services,
      http,
      close: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
