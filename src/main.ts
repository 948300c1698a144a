/**
 * `npm start`: one command brings up everything — embedded PostgreSQL and a redis-server child
 * unless DATABASE_URL / REDIS_URL are set, storage, migrations, the GraphQL server — and prints
 * the URLs. Ctrl-C / SIGTERM stops it all cleanly; data persists in DATA_DIR.
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, type RunningApp } from './app.js';
import { loadConfig, type Config } from './config.js';
import { log } from './logger.js';
import { startServices, type Services } from './services/index.js';
import { removeRuntime, writeRuntime } from './services/runtime.js';

/** What an embedded-worker module returns: something to stop at shutdown. */
export interface EmbeddedWorkers {
  stop(): Promise<void>;
}

/**
 * Hook for in-process workers (the jobs module): when `src/workers/embedded.ts` exists and exports
 * `startEmbeddedWorkers(config, urls)`, `npm start` also runs them (e.g. one CPU worker).
 */
async function startEmbeddedWorkers(
  config: Config,
  urls: { databaseUrl: string; redisUrl: string },
): Promise<EmbeddedWorkers | undefined> {
  const file = join(__dirname, 'workers', 'embedded.js');
  if (!existsSync(file) && !existsSync(file.replace(/\.js$/, '.ts'))) {
    return undefined;
  }
  const mod = require(file) as {
    startEmbeddedWorkers?: (c: Config, u: typeof urls) => Promise<EmbeddedWorkers | undefined>;
  };
  return mod.startEmbeddedWorkers?.(config, urls);
}

async function main(): Promise<void> {
  const config = loadConfig();
  let services: Services | undefined;
  let app: RunningApp | undefined;
  let workers: EmbeddedWorkers | undefined;
  let stopping = false;

  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn('second signal: exiting immediately', { signal });
      process.exit(1);
    }
    stopping = true;
    log.info('shutting down', { signal });
    const force = setTimeout(() => {
      log.error('shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    await workers?.stop().catch(err => log.warn('worker shutdown failed', { error: String(err) }));
    await app?.close();
    await services?.stop();
    removeRuntime(config.dataDir);
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    services = await startServices(config);
    const urls = { databaseUrl: services.databaseUrl, redisUrl: services.redisUrl };
    app = await startApp(config, urls);
    workers = await startEmbeddedWorkers(config, urls);
    writeRuntime(config.dataDir, {
      pid: process.pid,
      url: app.url,
      databaseUrl: services.databaseUrl,
      redisUrl: services.redisUrl,
      startedAt: new Date().toISOString(),
    });
  } catch (err) {
    log.error('start-up failed', { error: err instanceof Error ? err.message : String(err) });
    await app?.close().catch(() => undefined);
    await services?.stop().catch(() => undefined);
    process.exit(1);
  }

  const lines = [
    '',
    `  OmicSelector GraphQL is running (${config.nodeEnv})`,
    `    GraphQL   ${app.url}${config.isProduction ? '' : '   (Apollo Sandbox: open in a browser)'}`,
    `    WebSocket ${app.wsUrl}`,
    `    Health    ${app.url.replace(/\/graphql$/, '/health')}  ${app.url.replace(/\/graphql$/, '/ready')}`,
    `    Data      ${config.dataDir}${services.embedded.postgres ? ' (embedded PostgreSQL)' : ''}${services.embedded.redis ? ' (redis-server)' : ''}`,
    `    Storage   ${config.storage.kind === 's3' ? `s3://${config.storage.bucket} at ${config.storage.endPoint}` : config.storage.dir}`,
    '  Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

void main();
