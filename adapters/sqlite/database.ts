/**
 * One uniform, synchronous handle on the runtime's own SQLite: `node:sqlite`
 * (`DatabaseSync`, on Node 22.5+ and Deno) or `bun:sqlite` (`Database`, on
 * Bun), chosen by detecting the runtime. Both are loaded with a dynamic
 * import, here only, so that nothing else in taskmill loads SQLite and
 * taskmill keeps no npm dependency.
 *
 * @module
 */

import { StorageError } from "../../core/errors.ts";

/** A value bound to or read from SQLite (no blobs, no bigints: taskmill stores neither). */
export type SqlValue = string | number | null;

/** One result row, by column name. */
export type Row = Record<string, SqlValue>;

/**
 * A prepared statement, with positional `?` parameters.
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 *
 * const db = await openDatabase(":memory:");
 * const one = db.prepare("SELECT ? + 1 AS n");
 * console.log(one.get(1)); // { n: 2 }
 * db.close();
 * ```
 */
export interface Statement {
  /** Runs it; `changes` is how many rows it inserted, updated or deleted. */
  run(...params: SqlValue[]): { changes: number };
  /** The first row, or undefined when there is none. */
  get(...params: SqlValue[]): Row | undefined;
  /** Every row. */
  all(...params: SqlValue[]): Row[];
}

/**
 * An open SQLite database.
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 *
 * const db = await openDatabase(":memory:");
 * db.exec("CREATE TABLE t (a); INSERT INTO t VALUES (1), (2)");
 * console.log(db.prepare("SELECT count(*) AS n FROM t").get()); // { n: 2 }
 * db.close();
 * ```
 */
export interface Database {
  /** The path it was opened with (`":memory:"` for a private in-memory database). */
  readonly path: string;
  /** Which driver it runs on. */
  readonly driver: "node:sqlite" | "bun:sqlite";
  /** Runs one or more statements without parameters. */
  exec(sql: string): void;
  /** A prepared statement, cached by its text (so hot statements are compiled once). */
  prepare(sql: string): Statement;
  /** Closes it (idempotent). */
  close(): void;
}

/** What the drivers' statements have in common (both return more: we read only this). */
interface DriverStatement {
  run(...params: SqlValue[]): { changes: number | bigint };
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
  /** bun:sqlite only (node:sqlite finalizes them as the database closes). */
  finalize?(): void;
}

/** What the drivers' databases have in common. */
interface DriverDatabase {
  exec(sql: string): void;
  prepare(sql: string): DriverStatement;
  close(): void;
}

type DriverConstructor = new (path: string) => DriverDatabase;

let driver: Promise<{ name: Database["driver"]; open: DriverConstructor }> | undefined;

/** Whether this is Bun (its global `Bun` object). */
function isBun(): boolean {
  return typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
}

/** The runtime's SQLite driver, imported once. */
function loadDriver(): Promise<{ name: Database["driver"]; open: DriverConstructor }> {
  driver ??= (async () => {
    if (isBun()) {
      // A variable specifier: Deno and tsc cannot resolve "bun:" and need not.
      const specifier = "bun:sqlite";
      const mod = await import(specifier) as { Database: DriverConstructor };
      return { name: "bun:sqlite" as const, open: mod.Database };
    }
    let mod: { DatabaseSync: DriverConstructor };
    try {
      mod = await import("node:sqlite") as unknown as { DatabaseSync: DriverConstructor };
    } catch (error) {
      throw new StorageError(
        "SqliteStorage needs the runtime's own SQLite: node:sqlite (Node 22.13+, or 22.5+ " +
          "with --experimental-sqlite; Deno 2.2+) or bun:sqlite (Bun), and this runtime " +
          `has neither (${(error as Error)?.message ?? error})`,
        { cause: error },
      );
    }
    return { name: "node:sqlite" as const, open: mod.DatabaseSync };
  })();
  // A failed import (Node < 22.5) is tried again next time, with its own error.
  driver.catch(() => driver = undefined);
  return driver;
}

/**
 * Opens (creating when missing) the SQLite database at `path`, or a private
 * in-memory one for `":memory:"`, on the runtime's own SQLite. Nothing is
 * read or written yet: a file that is not SQLite fails at the first
 * statement (see `schema.ts`, which checks it before changing anything).
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 *
 * const db = await openDatabase(":memory:");
 * console.log(db.driver === "node:sqlite" || db.driver === "bun:sqlite"); // true
 * db.close();
 * ```
 */
export async function openDatabase(path: string): Promise<Database> {
  const { name, open } = await loadDriver();
  return new DriverHandle(path, name, new open(path));
}

class DriverHandle implements Database {
  readonly path: string;
  readonly driver: Database["driver"];
  #db: DriverDatabase;
  #statements = new Map<string, Statement>();
  #prepared: DriverStatement[] = [];
  #closed = false;

  constructor(path: string, name: Database["driver"], db: DriverDatabase) {
    this.path = path;
    this.driver = name;
    this.#db = db;
  }

  exec(sql: string): void {
    this.#db.exec(sql);
  }

  prepare(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      const prepared = this.#db.prepare(sql);
      this.#prepared.push(prepared);
      statement = wrap(prepared);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    // bun:sqlite closes a database with live statements only once they are
    // collected, leaving the file open (and its WAL unmerged) until then.
    for (const prepared of this.#prepared) prepared.finalize?.();
    this.#prepared = [];
    this.#db.close();
  }
}

function wrap(statement: DriverStatement): Statement {
  return {
    run: (...params) => ({ changes: Number(statement.run(...params).changes) }),
    // bun:sqlite answers null for no row, node:sqlite undefined.
    get: (...params) => (statement.get(...params) ?? undefined) as Row | undefined,
    all: (...params) => statement.all(...params) as Row[],
  };
}
