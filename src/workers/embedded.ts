/**
 * `npm start` runs the API and one CPU worker. The worker is a separate child process (the same
 * `workers/main.js` entry as `npm run worker`), so its computes never share the API's event loop.
 * If it dies it is restarted with backoff; at shutdown it gets SIGTERM and time to hand jobs back.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { log } from '../logger.js';

export interface EmbeddedWorkers {
  stop(): Promise<void>;
}

export async function startEmbeddedWorkers(
  _config: Config,
  urls: { databaseUrl: string; redisUrl: string },
): Promise<EmbeddedWorkers | undefined> {
  if (process.env.EMBEDDED_WORKER === '0') return undefined;
  const entry = join(__dirname, 'main.js');
  const concurrency = process.env.EMBEDDED_WORKER_CONCURRENCY ?? '1';
  let child: ChildProcess | null = null;
  let stopping = false;
  let restarts = 0;

  const spawn = () => {
    child = fork(entry, ['--pool', 'cpu', '--concurrency', concurrency], {
      env: { ...process.env, DATABASE_URL: urls.databaseUrl, REDIS_URL: urls.redisUrl },
      stdio: 'inherit',
    });
    const started = Date.now();
    child.once('exit', (code, signal) => {
      child = null;
      if (stopping) return;
      if (Date.now() - started > 60_000) restarts = 0;
      const delay = Math.min(30_000, 1000 * 2 ** restarts++);
      log.warn('embedded CPU worker exited; restarting', { code, signal, inMs: delay });
      setTimeout(() => !stopping && spawn(), delay).unref();
    });
  };
  spawn();
  log.info('embedded CPU worker started', { concurrency });

  return {
    stop: async () => {
      stopping = true;
      const c = child as ChildProcess | null;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise<void>(resolve => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
