/**
 * Entry point of `omicselector` (bin/omicselector.js requires the compiled twin of this file).
 * Exit codes: 0 ok, 1 the run failed, 2 bad usage (message names the flag), 130 interrupted.
 */
import { Command, CommanderError } from 'commander';
import { ArgumentError } from '../core/args';
import { closeThreadPool } from '../core/parallel';
import { commands } from './commands';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './errors';

function version(): string {
  try {
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return (require('../../../package.json') as { version: string }).version;
  }
}

export function buildProgram(): Command {
  const program = new Command('omicselector')
    .description('OmicSelector feature selection, offline (no server)')
    .version(version())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const c of commands) c.register(program);
  // Subcommands inherit the override so their usage errors reach us instead of process.exit.
  for (const sub of program.commands) sub.exitOverride();
  return program;
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
      process.stderr.write(`omicselector: error: ${e.message}\n`);
      return EXIT_USAGE;
    }
    const err = e as Error;
    if (err.name === 'AbortError') {
      process.stderr.write('omicselector: interrupted\n');
      return 130;
    }
    process.stderr.write(
      `omicselector: ${err.name === 'Error' ? 'error' : err.name}: ${err.message}\n`,
    );
    if (process.env.OMICSELECTOR_DEBUG) process.stderr.write(`${err.stack}\n`);
    return EXIT_FAILURE;
  } finally {
    await closeThreadPool();
  }
}
