/**
 * The CLI's credentials file: `$OMICSELECTOR_CONFIG`, else `$XDG_CONFIG_HOME/omicselector/config.json`,
 * else `~/.config/omicselector/config.json`. One entry per server (tokens or an API key, and who
 * signed in), plus the server used when none is given. Written atomically with mode 0600 in a 0700
 * directory, since it holds secrets.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Tokens } from '../sdk/src/session.js';

export interface ServerEntry {
  tokens?: Tokens;
  apiKey?: string;
  user?: { id: string; email: string; username: string; role: string };
}

export interface CliConfig {
  /** The server of the last `login`. */
  currentServer?: string;
  servers: Record<string, ServerEntry>;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OMICSELECTOR_CONFIG) return env.OMICSELECTOR_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'omicselector', 'config.json');
}

export function readConfig(path = configPath()): CliConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { servers: {} };
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<CliConfig>;
    return { currentServer: parsed.currentServer, servers: parsed.servers ?? {} };
  } catch {
    throw new Error(`${path} is not valid JSON; fix or delete it and log in again`);
  }
}

export function writeConfig(config: CliConfig, path = configPath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  // mode in writeFileSync is subject to the umask and ignored for existing files.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Read-modify-write of one server's entry (re-read so concurrent CLI runs lose nothing). */
export function updateServer(
  server: string,
  update: (entry: ServerEntry) => ServerEntry | undefined,
  options: { makeCurrent?: boolean; path?: string } = {},
): void {
  const path = options.path ?? configPath();
  const config = readConfig(path);
  const next = update(config.servers[server] ?? {});
  if (next) config.servers[server] = next;
  else delete config.servers[server];
  if (options.makeCurrent) config.currentServer = server;
  if (!next && config.currentServer === server) delete config.currentServer;
  writeConfig(config, path);
}
