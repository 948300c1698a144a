/**
 * Exit codes of the CLI: 0 success, 1 the run failed (bad data, numeric failure), 2 bad usage
 * (unknown flag or method, malformed value). A UsageError names the flag it is about.
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    /** The flag or argument at fault, e.g. `--k`. */
    readonly flag: string,
    message: string,
  ) {
    super(`${flag}: ${message}`);
  }
}
