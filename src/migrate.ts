/**
 * `npm run migrate`            apply pending migrations
 * `npm run migrate -- --create [name]`  write a new migration (migrations/) from the entity diff
 * `npm run migrate -- --check` exit 1 when the entities differ from the migrated schema
 */
import 'reflect-metadata';
import { loadConfig } from './config.js';
import { log } from './logger.js';
import { initOrm, migrateUp, MIGRATIONS_SOURCE_DIR } from './orm.js';
import { databaseForCommand } from './services/index.js';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const config = loadConfig();
  const db = await databaseForCommand(config);
  const orm = await initOrm({ clientUrl: db.databaseUrl });
  try {
    const applied = await migrateUp(orm);
    for (const name of applied) {
      log.info('applied migration', { name });
    }
    if (args.includes('--create')) {
      const name = args.find(a => !a.startsWith('--'));
      const result = await orm
        .getMigrator()
        .createMigration(MIGRATIONS_SOURCE_DIR, false, false, name);
      if (!result.fileName) {
        log.info('entities match the schema: no migration needed');
      } else {
        log.info('wrote migration', { file: `migrations/${result.fileName}` });
      }
    } else if (args.includes('--check')) {
      const sql = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
      if (sql.trim()) {
        process.stderr.write(`Entities differ from the migrated schema:\n${sql}\n`);
        return 1;
      }
      log.info('schema matches entities');
    } else if (applied.length === 0) {
      log.info('database is up to date');
    }
    return 0;
  } finally {
    await orm.close(true);
    await db.stop();
  }
}

main().then(
  code => process.exit(code),
  err => {
    log.error('migrate failed', { error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
