/**
 * Migrations: applying every migration to an empty database yields a schema with no difference
 * from the entities (all modules registered in src/modules/index.ts), and re-running is a no-op.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { initOrm, loadMigrations, migrateUp } from '../../src/orm';
import { databaseUrl } from '../helpers/env';

let orm: MikroORM;

beforeAll(async () => {
  orm = await initOrm({
    clientUrl: databaseUrl(`m_${randomUUID().replace(/-/g, '').slice(0, 12)}`),
  });
});
afterAll(async () => {
  await orm?.close(true);
});

it('migrates an empty database to exactly the entity schema', async () => {
  const files = loadMigrations();
  expect(files.length).toBeGreaterThan(0);
  const applied = await migrateUp(orm);
  expect(applied).toEqual(files.map(f => f.name));

  const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
  expect(diff.trim()).toBe('');

  expect(await migrateUp(orm)).toEqual([]);
  const tables = await orm.em
    .getConnection()
    .execute<{ tablename: string }[]>(
      `select tablename from pg_tables where schemaname = 'public'`,
    );
  expect(tables.map(t => t.tablename)).toEqual(
    expect.arrayContaining(['users', 'api_keys', 'refresh_tokens', 'audit_log']),
  );
});

it('three replicas starting at once on a fresh database: each comes up, migrations run once', async () => {
  const url = databaseUrl(`r_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  const replicas = await Promise.all([0, 1, 2].map(() => initOrm({ clientUrl: url })));
  try {
    const applied = await Promise.all(replicas.map(r => migrateUp(r)));
    // Every migration applied by exactly one replica; the others found nothing pending.
    expect(applied.flat().sort()).toEqual(
      loadMigrations()
        .map(f => f.name)
        .sort(),
    );
    expect(await migrateUp(replicas[0]!)).toEqual([]);
  } finally {
    await Promise.all(replicas.map(r => r.close(true)));
  }
});
