/**
 * Brings up the backing services `npm start` needs: PostgreSQL (DATABASE_URL or embedded) and
 * Redis (REDIS_URL or a redis-server child), both with data under DATA_DIR so it persists.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { log } from '../logger.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './postgres.js';
import { startRedis, type RedisHandle } from './redis.js';
import { isAlive, readLiveRuntime } from './runtime.js';

export const EMBEDDED_DB_NAME = 'omicselector';

export interface Services {
  databaseUrl: string;
  redisUrl: string;
  /** Which services this process started (and will stop). */
  embedded: { postgres: boolean; redis: boolean };
  stop(): Promise<void>;
}

/** A postmaster left running by a previous `npm start` that was killed: stop it (fast shutdown). */
async function reapOrphanPostgres(pgDir: string): Promise<void> {
  const pidFile = join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) {
    return;
  }
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) {
    return;
  }
  log.warn('stopping PostgreSQL left over from a previous run', { pid });
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 150 && isAlive(pid); i++) {
    await new Promise(r => setTimeout(r, 100));
  }
}

export async function startServices(
  config: Config,
  want: { postgres?: boolean; redis?: boolean } = { postgres: true, redis: true },
): Promise<Services> {
  const running = readLiveRuntime(config.dataDir);
  if (running && ((want.postgres && !config.databaseUrl) || (want.redis && !config.redisUrl))) {
    throw new Error(
      `another server (pid ${running.pid}) is already using DATA_DIR ${config.dataDir}; ` +
        'stop it first or use a different DATA_DIR',
    );
  }
  mkdirSync(config.dataDir, { recursive: true });
  let pg: EmbeddedPostgresHandle | undefined;
  let redis: RedisHandle | undefined;
  const stop = async () => {
    await Promise.allSettled([redis?.stop(), pg?.stop()]);
  };
  try {
    let databaseUrl = config.databaseUrl ?? '';
    if (want.postgres && !config.databaseUrl) {
      const pgDir = join(config.dataDir, 'pg');
      await reapOrphanPostgres(pgDir);
      pg = await startEmbeddedPostgres({ dataDir: pgDir, ownedRoot: config.dataDir });
      databaseUrl = pg.urlFor(EMBEDDED_DB_NAME);
      log.info('embedded PostgreSQL running', { port: pg.port, dataDir: pgDir });
    }
    let redisUrl = config.redisUrl ?? '';
    if (want.redis && !config.redisUrl) {
      redis = await startRedis({ dataDir: join(config.dataDir, 'redis') });
      redisUrl = redis.url;
      log.info('redis-server running', { port: redis.port });
    }
    return { databaseUrl, redisUrl, embedded: { postgres: !!pg, redis: !!redis }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * For one-off commands (migrate, create-admin): the database URL from DATABASE_URL, else the one a
 * running server published, else an embedded PostgreSQL started just for this command.
 */
export async function databaseForCommand(
  config: Config,
): Promise<{ databaseUrl: string; stop(): Promise<void> }> {
  if (config.databaseUrl) {
    return { databaseUrl: config.databaseUrl, stop: async () => {} };
  }
  const running = readLiveRuntime(config.dataDir);
  if (running) {
    return { databaseUrl: running.databaseUrl, stop: async () => {} };
  }
  const services = await startServices(config, { postgres: true, redis: false });
  return { databaseUrl: services.databaseUrl, stop: services.stop };
}
