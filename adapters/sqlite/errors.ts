/**
 * SQLite's failures as taskmill sees them: the result codes the drivers
 * report (each in its own way), and the refusal of a database file that
 * SqliteStorage will not open.
 *
 * @module
 */

import { StorageError } from "../../core/errors.ts";

/**
 * The primary SQLite result code of a driver error, or undefined. node:sqlite
 * puts it in `errcode`, bun:sqlite in `errno`; Deno's node:sqlite leaves it
 * out of some errors, so the message (SQLite's own text for the code) is
 * read as well.
 *
 * @example
 * ```ts
 * import { sqliteCode } from "./errors.ts";
 *
 * console.log(sqliteCode(new Error("database is locked"))); // 5
 * console.log(sqliteCode(Object.assign(new Error("x"), { errcode: 517 }))); // 5
 * ```
 */
export function sqliteCode(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { errcode, errno } = error as { errcode?: unknown; errno?: unknown };
  const code = typeof errcode === "number" ? errcode : typeof errno === "number" ? errno : NaN;
  // Extended codes (SQLITE_BUSY_SNAPSHOT = 517) carry the primary one in the low byte.
  if (Number.isInteger(code) && code > 0) return code & 0xff;
  const message = String((error as { message?: unknown }).message ?? "");
  if (/database is locked|SQLITE_BUSY/.test(message)) return SQLITE_BUSY;
  if (/file is not a database|SQLITE_NOTADB/.test(message)) return SQLITE_NOTADB;
  if (/database disk image is malformed|SQLITE_CORRUPT/.test(message)) return SQLITE_CORRUPT;
  return undefined;
}

/** Another connection holds the lock. */
export const SQLITE_BUSY = 5;
/** The file's pages are damaged. */
export const SQLITE_CORRUPT = 11;
/** The file is not a SQLite database. */
export const SQLITE_NOTADB = 26;

/**
 * Why a file was refused (see {@linkcode SqliteFileError}):
 * - `"not-sqlite"`: the file is not a SQLite database;
 * - `"corrupt"`: it is one, but damaged;
 * - `"foreign"`: a SQLite database of some other application;
 * - `"newer"`: a taskmill database of a newer schema than this taskmill knows.
 */
export type SqliteFileProblem = "not-sqlite" | "corrupt" | "foreign" | "newer";

/**
 * SqliteStorage refused to open a database file, and left it unchanged.
 * The message names the path and what was found there.
 *
 * @example
 * ```ts
 * import { SqliteFileError } from "./errors.ts";
 *
 * const error = new SqliteFileError("newer", "jobs.db", "schema version 9, this taskmill knows 1");
 * console.log(error.name, error.problem, error instanceof Error); // "SqliteFileError" "newer" true
 * ```
 */
export class SqliteFileError extends StorageError {
  /** Why it was refused. */
  readonly problem: SqliteFileProblem;
  /** The file's path. */
  readonly path: string;

  /** Creates the error; `found` says what the file holds. */
  constructor(problem: SqliteFileProblem, path: string, found: string, options?: ErrorOptions) {
    super(
      `Cannot open SQLite database ${shownPath(path)}: ${found} (the file was not changed)`,
      options,
    );
    this.name = "SqliteFileError";
    this.problem = problem;
    this.path = shownPath(path);
  }
}

/**
 * `path` as errors show it: a `file:` URI without its query, where options
 * such as an encryption key would be, so that no secret reaches a log.
 *
 * @example
 * ```ts
 * import { shownPath } from "./errors.ts";
 *
 * console.log(shownPath("file:jobs.db?key=hunter2")); // "file:jobs.db?…"
 * console.log(shownPath("/var/lib/jobs.db")); // "/var/lib/jobs.db"
 * ```
 */
export function shownPath(path: string): string {
  const query = path.indexOf("?");
  return path.startsWith("file:") && query >= 0 ? path.slice(0, query) + "?…" : path;
}
