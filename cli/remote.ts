/**
 * What every remote command shares: the `--server` / `--json` options, the server URL
 * (`--server`, else `$OMICSELECTOR_URL`, else the server of the last login) and an SDK client
 * signed in with `$OMICSELECTOR_API_KEY`, or the API key or tokens stored by `login`. Rotated
 * tokens are written back to the config file as soon as the SDK refreshes them.
 */
import { type Command } from 'commander';
import { UsageError } from '../compute/cli/errors.js';
import { createClient, endpointUrls, type OmicSelectorClient } from '../sdk/src/client.js';
import { OmicSelectorError } from '../sdk/src/errors.js';
import { type TokenStore } from '../sdk/src/session.js';
import { readConfig, updateServer, type ServerEntry } from './config.js';

export interface RemoteOptions {
  server?: string;
  json?: boolean;
}

/** Adds `--server` and `--json` to a remote command. */
export function remoteOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'server URL (default: $OMICSELECTOR_URL, else the last login)')
    .option('--json', 'print one JSON document (NDJSON for watch) instead of text');
}

export function resolveServer(opts: RemoteOptions, env = process.env): string {
  const given = opts.server ?? env.OMICSELECTOR_URL ?? readConfig().currentServer;
  if (!given) {
    throw new UsageError(
      '--server',
      'no server given: pass --server URL, set OMICSELECTOR_URL, or log in first',
    );
  }
  try {
    return endpointUrls(given).http;
  } catch {
    throw new UsageError('--server', `"${given}" is not a URL (e.g. http://localhost:4000)`);
  }
}

export class NotLoggedInError extends Error {
  override readonly name = 'NotLoggedInError';
  constructor(server: string) {
    super(`not logged in to ${server}: run \`omicselector login --server ${server}\``);
  }
}

function storeFor(server: string): TokenStore {
  return {
    load: () => readConfig().servers[server]?.tokens,
    save: tokens =>
      updateServer(server, entry => {
        const next: ServerEntry = { ...entry, tokens };
        if (!tokens) delete next.tokens;
        return next;
      }),
  };
}

export interface Remote {
  server: string;
  client: OmicSelectorClient;
  /** How this run authenticates. */
  auth: 'api-key' | 'token' | 'none';
}

/** A client for the resolved server; `requireAuth` fails early when no credential is stored. */
export function connect(opts: RemoteOptions, requireAuth = true): Remote {
  const server = resolveServer(opts);
  const entry = readConfig().servers[server] ?? {};
  const apiKey = process.env.OMICSELECTOR_API_KEY || entry.apiKey;
  if (apiKey) {
    return { server, client: createClient({ url: server, apiKey }), auth: 'api-key' };
  }
  if (entry.tokens?.refreshToken || entry.tokens?.accessToken) {
    const client = createClient({
      url: server,
      tokens: entry.tokens,
      tokenStore: storeFor(server),
    });
    return { server, client, auth: 'token' };
  }
  if (requireAuth) throw new NotLoggedInError(server);
  return { server, client: createClient({ url: server }), auth: 'none' };
}

/** A hint for the errors people hit most. */
export function hintFor(err: OmicSelectorError): string | undefined {
  switch (err.code) {
    case 'UNAUTHENTICATED':
      return 'sign in with `omicselector login` (or set OMICSELECTOR_API_KEY)';
    case 'FORBIDDEN':
      return 'your role or credential does not allow this (API keys cannot manage keys)';
    case 'NETWORK_ERROR':
      return 'is the server running? check --server / OMICSELECTOR_URL';
    case 'RATE_LIMITED':
      return err.retryAfterSeconds ? `retry in ${err.retryAfterSeconds} s` : undefined;
    case 'UNAVAILABLE':
      return `the server's Redis is unreachable (a restart?); retry in ${err.retryAfterSeconds ?? 5} s`;
    default:
      return undefined;
  }
}
