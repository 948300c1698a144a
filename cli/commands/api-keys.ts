/** `api-keys create|list|revoke` (needs a password login: API keys cannot manage keys). */
import { type Command } from 'commander';
import { table, writeJson, writeStdout } from '../../compute/cli/output.js';
import { connect, remoteOptions, type RemoteOptions } from '../remote.js';
import { positiveInt } from './values.js';

interface CreateOptions extends RemoteOptions {
  expiresInDays?: string;
}

async function create(name: string, o: CreateOptions): Promise<void> {
  const days = o.expiresInDays ? positiveInt('--expires-in-days', o.expiresInDays) : undefined;
  const created = await connect(o).client.apiKeys.create(name, days);
  if (o.json) return writeJson(created);
  await writeStdout(
    `${created.secret}\n` +
      `API key ${created.apiKey.id} (${created.apiKey.name}) created; this is the only time ` +
      `the secret is shown. Use it with OMICSELECTOR_API_KEY or \`login --api-key\`.\n`,
  );
}

async function listKeys(o: RemoteOptions): Promise<void> {
  const keys = await connect(o).client.apiKeys.list();
  if (o.json) return writeJson(keys);
  const day = (d: string | null) => (d ? d.slice(0, 10) : '');
  await writeStdout(
    table(
      ['id', 'name', 'prefix', 'active', 'created', 'expires', 'last used'],
      keys.map(k => [
        k.id,
        k.name,
        k.prefix,
        k.active ? 'yes' : 'no',
        day(k.createdAt),
        day(k.expiresAt),
        day(k.lastUsedAt),
      ]),
    ),
  );
}

async function revoke(id: string, o: RemoteOptions): Promise<void> {
  const key = await connect(o).client.apiKeys.revoke(id);
  if (o.json) return writeJson(key);
  await writeStdout(`Revoked ${key.id} (${key.name})\n`);
}

export function registerApiKeys(program: Command): void {
  const keys = program.command('api-keys').description('API keys for scripts and automation');
  remoteOptions(
    keys
      .command('create <name>')
      .description('create a key; prints the secret once')
      .option('--expires-in-days <n>', 'days until it stops working (default: never)'),
  ).action((name: string, o: CreateOptions) => create(name, o));
  remoteOptions(keys.command('list').description('your keys (secrets are never shown)')).action(
    (o: RemoteOptions) => listKeys(o),
  );
  remoteOptions(keys.command('revoke <id>').description('revoke a key at once')).action(
    (id: string, o: RemoteOptions) => revoke(id, o),
  );
}
