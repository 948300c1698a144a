/**
 * `login`, `logout`, `whoami`. Credentials go to the config file (cli/config.ts), one entry per
 * server; the server of the last login becomes the default.
 */
import { type Command } from 'commander';
import { UsageError } from '../../compute/cli/errors.js';
import { writeJson, writeStdout } from '../../compute/cli/output.js';
import { createClient } from '../../sdk/src/client.js';
import { configPath, readConfig, updateServer } from '../config.js';
import { promptLine, promptSecret, readStdin } from '../prompt.js';
import { connect, remoteOptions, resolveServer, type RemoteOptions } from '../remote.js';

interface LoginOptions extends RemoteOptions {
  email?: string;
  passwordStdin?: boolean;
  apiKey?: string;
  apiKeyStdin?: boolean;
}

async function login(opts: LoginOptions): Promise<void> {
  const server = resolveServer(opts);
  if (opts.apiKey !== undefined || opts.apiKeyStdin) {
    if (opts.email || opts.passwordStdin) {
      throw new UsageError('--api-key', 'use either an API key or --email/--password-stdin');
    }
    const apiKey = opts.apiKeyStdin ? await readStdin() : opts.apiKey!;
    if (!apiKey.startsWith('osk_')) {
      throw new UsageError(
        '--api-key',
        'API keys start with osk_ (create one with api-keys create)',
      );
    }
    // Check the key before storing it.
    const user = await createClient({ url: server, apiKey }).auth.me();
    const stored = { id: user.id, email: user.email, username: user.username, role: user.role };
    updateServer(server, () => ({ apiKey, user: stored }), { makeCurrent: true });
    await report(opts, server, stored, 'api-key');
    return;
  }
  const email = opts.email ?? (await promptLine('Email or username: ', '--email'));
  const password = opts.passwordStdin
    ? await readStdin()
    : await promptSecret('Password: ', '--password-stdin');
  if (!email || !password) throw new UsageError('--email', 'email and password are required');
  const client = createClient({ url: server });
  const payload = await client.auth.login(email, password);
  const u = payload.user;
  const user = { id: u.id, email: u.email, username: u.username, role: u.role };
  updateServer(server, () => ({ tokens: client.auth.tokens, user }), { makeCurrent: true });
  await report(opts, server, user, 'token');
}

async function report(
  opts: RemoteOptions,
  server: string,
  user: { username: string; email: string; role: string },
  auth: string,
): Promise<void> {
  if (opts.json) {
    await writeJson({ server, user, auth, config: configPath() });
  } else {
    await writeStdout(
      `Logged in to ${server} as ${user.username} <${user.email}> (${user.role}, ${auth})\n`,
    );
  }
}

async function logout(opts: RemoteOptions): Promise<void> {
  const server = resolveServer(opts);
  const entry = readConfig().servers[server];
  let revoked = false;
  if (entry?.tokens) {
    // End the session on the server too; forget it locally even if the server is unreachable.
    try {
      await connect(opts).client.auth.logout();
      revoked = true;
    } catch (err) {
      process.stderr.write(
        `omicselector: warning: server logout failed: ${(err as Error).message}\n`,
      );
    }
  }
  updateServer(server, () => undefined);
  if (opts.json) {
    await writeJson({ server, loggedOut: Boolean(entry), sessionRevoked: revoked });
  } else {
    await writeStdout(entry ? `Logged out of ${server}\n` : `Not logged in to ${server}\n`);
  }
}

async function whoami(opts: RemoteOptions): Promise<void> {
  const remote = connect(opts);
  const me = await remote.client.auth.me();
  if (opts.json) {
    await writeJson({ server: remote.server, auth: remote.auth, user: me });
  } else {
    await writeStdout(
      `${me.username} <${me.email}>\nrole: ${me.role}\nserver: ${remote.server}\nauth: ${remote.auth}\n`,
    );
  }
}

export function registerAuth(program: Command): void {
  remoteOptions(
    program
      .command('login')
      .description('sign in to a server; credentials are kept in the user config dir (mode 0600)')
      .option('--email <login>', 'email or username (asked on the terminal when absent)')
      .option('--password-stdin', 'read the password from stdin (for scripts)')
      .option('--api-key <key>', 'use an API key instead of a password')
      .option('--api-key-stdin', 'read the API key from stdin'),
  ).action((opts: LoginOptions) => login(opts));

  remoteOptions(
    program.command('logout').description('end the session and forget its credentials'),
  ).action((opts: RemoteOptions) => logout(opts));

  remoteOptions(program.command('whoami').description('show the signed-in user')).action(
    (opts: RemoteOptions) => whoami(opts),
  );
}
