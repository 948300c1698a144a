/**
 * A CLI subcommand: registers itself (flags, help, action) on the commander program. The list of
 * subcommands is compute/cli/commands/index.ts, one line per command.
 */
import { type Command } from 'commander';

export interface CliCommand {
  name: string;
  register(program: Command): void;
}
