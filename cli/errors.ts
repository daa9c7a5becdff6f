/** The two errors a command throws to pick its exit code (2 usage, 1 failure). @module */

/** A bad command line: one line and a pointer to the help, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A failure the user can act on: one line, exit code 1. */
export class CliError extends Error {
  override name = "CliError";
}
