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
  return MikroORM.init(ormConfig(options));
}

/** Applies pending migrations; returns their names. */
export async function migrateUp(orm: MikroORM): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map(m => m.name);
}
