/**
 * A `redis-server` child for `npm start` without REDIS_URL and for the test suite. Binds
 * 127.0.0.1 on a free port; persistent mode keeps an append-only file in the data directory.
 * `noeviction` because BullMQ must never lose keys.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../logger.js';
import { freePort, waitForPort } from './ports.js';

export interface RedisHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** Data directory; omit for a throwaway server with no persistence. */
  dataDir?: string;
  port?: number;
}

function onPath(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

/** The exact command a user should run when redis-server is missing. */
export const REDIS_INSTALL_HINT = 'sudo apt-get install -y redis-server';

/**
 * Makes sure `redis-server` is on PATH. As root on Debian/Ubuntu it is installed with apt;
 * otherwise throws an error whose message is the command to run.
 */
export function ensureRedisBinary(): void {
  if (onPath('redis-server')) {
    return;
  }
  const isRoot = process.getuid?.() === 0;
  if (isRoot && existsSync('/etc/debian_version') && onPath('apt-get')) {
    log.info('redis-server not found: installing it with apt-get (running as root on Debian)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    const install = spawnSync('apt-get', ['install', '-y', '-qq', 'redis-server'], {
      stdio: 'inherit',
      env,
    });
    if (update.status === 0 && install.status === 0 && onPath('redis-server')) {
      return;
    }
  }
  throw new Error(
    `redis-server is not installed. Install it with:\n\n    ${REDIS_INSTALL_HINT}\n\n` +
      'or point REDIS_URL at an existing Redis (redis://host:6379).',
  );
}

/** Stops a redis-server left behind by a previous run that was killed (pidfile in dataDir). */
function reapOrphan(pidFile: string): void {
  if (!existsSync(pidFile)) {
    return;
  }
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) {
    return;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes('redis-server')) {
      log.warn('stopping redis-server left over from a previous run', { pid });
      process.kill(pid, 'SIGTERM');
    }
  } catch {
    // Not running (or no /proc): nothing to reap.
  }
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisHandle> {
  ensureRedisBinary();
  const port = options.port ?? (await freePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes'];
  args.push('--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--save', '');
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    const pidFile = join(options.dataDir, 'redis.pid');
    reapOrphan(pidFile);
    args.push('--dir', options.dataDir, '--pidfile', pidFile);
    args.push('--appendonly', 'yes', '--appendfsync', 'everysec');
  } else {
    args.push('--appendonly', 'no');
  }
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  // If this process dies without stopping us (crash, process.exit), take the child along.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => {
    dead = true;
    process.off('exit', killOnExit);
  });
  try {
    await Promise.race([
      waitForPort(port),
      exited.then(() => {
        throw new Error(`redis-server exited during start-up:\n${output}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      if (dead) {
        return;
      }
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    },
  };
}
