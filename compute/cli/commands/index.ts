/**
 * The CLI's subcommands, in help order. Adding one = a file in this folder exporting a CliCommand
 * and one line below (other commands such as `evaluate` and `benchmark` plug in the same way).
 */
import { type CliCommand } from '../command';
import { benchmarkCommand } from './benchmark';
import { evaluate } from './evaluate';
import { methods } from './methods';
import { select } from './select';

export const commands: readonly CliCommand[] = [
  // --- commands ---
  select,
  evaluate,
  benchmarkCommand,
  methods,
];
