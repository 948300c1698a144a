/**
 * MikroORM 6 on PostgreSQL. Entities come from the module registry; migrations are TypeScript files
 * in `migrations/` (compiled to `dist/migrations/`), loaded explicitly so the same list works
 * under jest (TS) and from dist (JS) without glob/ts-node detection.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM, type MigrationObject, type Options } from '@mikro-orm/postgresql';
import { log } from './logger.js';
import { entities } from './modules/index.js';

/** `migrations/` next to `src/` (source) or `dist/migrations/` next to `dist/src/` (compiled). */
export const MIGRATIONS_DIR = resolve(__dirname, '..', 'migrations');
/** Where new migration files are written: always the source folder. */
const compiled = basename(resolve(__dirname, '..')) === 'dist';
export const MIGRATIONS_SOURCE_DIR = resolve(__dirname, compiled ? '../..' : '..', 'migrations');

const MIGRATION_FILE = /^(Migration\d{14}[\w-]*)\.(js|ts)$/;

/** Every `MigrationYYYYMMDDhhmmss*.{js,ts}` in the migrations folder, oldest first. */
export function loadMigrations(dir = MIGRATIONS_DIR): MigrationObject[] {
  if (!existsSync(dir)) {
    return [];
  }
  const files = readdirSync(dir)
    .filter(f => MIGRATION_FILE.test(f) && !f.endsWith('.d.ts'))
    .sort();
  return files.map(file => {
    const name = MIGRATION_FILE.exec(file)![1]!;
    const mod = require(join(dir, file)) as Record<string, MigrationObject['class']>;
    const cls = mod[name] ?? Object.values(mod).find(v => typeof v === 'function');
    if (!cls) {
      throw new Error(`migration file ${file} exports no migration class`);
    }
    return { name, class: cls };
  });
}

export interface OrmOptions {
  clientUrl: string;
  /** statement_timeout for every pooled connection (ms, 0 = none). */
  statementTimeoutMs?: number;
  poolMax?: number;
  debug?: boolean;
}

export function ormConfig(options: OrmOptions): Options {
  const timeout = options.statementTimeoutMs ?? 0;
  return defineConfig({
    clientUrl: options.clientUrl,
    entities: [...entities],
    extensions: [Migrator],
    // One identity map per request (em.fork() in the GraphQL context); never a shared global one.
    allowGlobalContext: false,
    forceUtcTimezone: true,
    debug: options.debug ?? false,
    logger: message => log.debug(message),
    pool: {
      min: 0,
      max: options.poolMax ?? 10,
      afterCreate: (conn: unknown, done: (err: Error | null, conn: unknown) => void) => {
        const c = conn as { query(sql: string, cb: (err: Error | null) => void): void };
        c.query(
          `SET statement_timeout = ${Math.floor(timeout)}; SET idle_in_transaction_session_timeout = 60000`,
          err => done(err, conn),
        );
      },
    },
    migrations: {
      path: MIGRATIONS_DIR,
      pathTs: MIGRATIONS_SOURCE_DIR,
      migrationsList: loadMigrations(),
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      emit: 'ts',
      silent: true,
    },
  });
}

export async function initOrm(options: OrmOptions): Promise<MikroORM> {
  try {
    return await MikroORM.init(ormConfig(options));
  } catch (e) {
    // Replicas started together on a fresh server all see the database missing (MikroORM's
    // ensureDatabase) and race to create it: the losers get duplicate_database (42P04) or a
    // unique violation on pg_database (23505); either way it exists now.
    const code = (e as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw e;
    return MikroORM.init(ormConfig(options));
  }
}

/** Key of the session advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK = [0x6f6d6963, 1] as const;

/**
 * Applies pending migrations; returns their names. Several API replicas may start at once: a
 * session-level advisory lock on a connection of its own makes them migrate one after the other
 * (the later ones then find nothing pending) instead of racing on the same DDL.
 */
export async function migrateUp(orm: MikroORM): Promise<string[]> {
  const knex = orm.em.getConnection().getKnex();
  const conn = await knex.client.acquireConnection();
  const query = (sql: string) => knex.raw(sql).connection(conn);
  try {
    await query(`SELECT pg_advisory_lock(${MIGRATION_LOCK[0]}, ${MIGRATION_LOCK[1]})`);
    const applied = await orm.getMigrator().up();
    return applied.map(m => m.name);
  } finally {
    await query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK[0]}, ${MIGRATION_LOCK[1]})`).catch(
      () => undefined,
    );
    await knex.client.releaseConnection(conn);
  }
}
