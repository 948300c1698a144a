/**
 * Entry point of `omicselector` (bin/omicselector.js requires the compiled twin of this file):
 * the offline compute commands of compute/cli (select, methods, evaluate, benchmark), which need no
 * server, plus the remote commands built on the SDK (login, whoami, datasets, jobs, results,
 * api-keys). compute/ stays free of GraphQL: the composition happens here.
 *
 * Exit codes: 0 ok, 1 the run or request failed (or the watched job FAILED/CANCELLED), 2 bad
 * usage (the message names the flag), 130 interrupted.
 */
import { Command, CommanderError } from 'commander';
import { commands as offlineCommands } from '../compute/cli/commands/index.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from '../compute/cli/errors.js';
import { ArgumentError } from '../compute/core/args.js';
import { closeThreadPool } from '../compute/core/parallel.js';
import { OmicSelectorError } from '../sdk/src/errors.js';
import { registerApiKeys } from './commands/api-keys.js';
import { registerAuth } from './commands/auth.js';
import { registerDatasets } from './commands/datasets.js';
import { ExitError, registerJobs } from './commands/jobs.js';
import { registerResults } from './commands/results.js';
import { hintFor, NotLoggedInError } from './remote.js';

function version(): string {
  for (const p of ['../package.json', '../../package.json']) {
    try {
      return (require(p) as { version: string }).version;
    } catch {
      // dist/cli/main.js sits one level deeper than cli/main.ts
    }
  }
  return '0.0.0';
}

const HELP_AFTER = `
Offline commands (select, evaluate, benchmark, methods) compute on local files.
The others talk to an OmicSelector server:
  --server URL or OMICSELECTOR_URL   which server (default: the last login)
  OMICSELECTOR_API_KEY               authenticate with an API key instead of a login
  OMICSELECTOR_CONFIG                credentials file (default $XDG_CONFIG_HOME/omicselector/config.json)
`;

function overrideExits(cmd: Command): void {
  // Usage errors reach main() instead of calling process.exit.
  cmd.exitOverride();
  for (const sub of cmd.commands) overrideExits(sub);
}

export function buildProgram(): Command {
  const program = new Command('omicselector')
    .description('OmicSelector biomarker discovery: offline feature selection and the server CLI')
    .version(version())
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', HELP_AFTER);
  for (const c of offlineCommands) c.register(program);
  registerAuth(program);
  registerDatasets(program);
  registerJobs(program);
  registerResults(program);
  registerApiKeys(program);
  overrideExits(program);
  return program;
}

function fail(message: string): void {
  process.stderr.write(`omicselector: ${message}\n`);
}

/** Run the CLI; resolves to the exit code (never calls process.exit itself). */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  // Libraries that log to stdout (tfjs prints a hint on load) must not corrupt --json output.
  console.log = (...a: unknown[]) => console.error(...a);
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed the message (help / version exit with code 0).
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof UsageError || e instanceof ArgumentError) {
      fail(`error: ${e.message}`);
      return EXIT_USAGE;
    }
    if (e instanceof ExitError) {
      fail(e.message);
      return e.exitCode;
    }
    if (e instanceof NotLoggedInError) {
      fail(`error: ${e.message}`);
      return EXIT_FAILURE;
    }
    if (e instanceof OmicSelectorError) {
      const where = e.path?.length ? ` (at ${e.path.join('.')})` : '';
      const field = typeof e.extensions.field === 'string' ? ` [${e.extensions.field}]` : '';
      fail(`error: ${e.code}: ${e.message}${field}${where}`);
      const hint = hintFor(e);
      if (hint) fail(`hint: ${hint}`);
      return EXIT_FAILURE;
    }
    const err = e as Error;
    if (err.name === 'AbortError') {
      fail('interrupted');
      return 130;
    }
    fail(`${err.name === 'Error' ? 'error' : err.name}: ${err.message}`);
    if (process.env.OMICSELECTOR_DEBUG) process.stderr.write(`${err.stack}\n`);
    return EXIT_FAILURE;
  } finally {
    await closeThreadPool();
  }
}
