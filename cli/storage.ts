/**
 * Opening the storage a command works on: Redis from `--redis-url` (or
 * `TASKMILL_REDIS_URL`), checked to answer before the command runs, or a
 * SQLite file from `--sqlite` (or `TASKMILL_SQLITE`), checked to be a
 * taskmill database (created when missing).
 *
 * @example
 * ```ts
 * import { withStorage } from "./storage.ts";
 *
 * const code = await withStorage({ "redis-url": "redis://127.0.0.1:6379" }, "stats", async (queue) => {
 *   console.log(await queue.counts("default"));
 *   return 0;
 * });
 * ```
 *
 * @module
 */

import * as rt from "./_runtime.ts";
import { Queue } from "../core/queue.ts";
import type { Storage } from "../core/storage.ts";
import { CliError, UsageError } from "./errors.ts";
import type { FlagValues } from "./flags.ts";
import { escapeText, firstLine, redact } from "./output.ts";

/**
 * An opened storage and how to name it.
 *
 * @example
 * ```ts
 * const choice: StorageChoice = { storage, label: "memory", url: undefined };
 * ```
 */
export interface StorageChoice {
  /** The storage, open. */
  storage: Storage;
  /** How to name it in messages (password redacted). */
  label: string;
  /** The Redis URL it came from, if any (to redact messages with). */
  url: string | undefined;
}

/**
 * Opens Redis and checks it answers. Setup warnings (an eviction policy that
 * can drop jobs) go to `onWarning`; by default one stderr line each.
 *
 * @example
 * ```ts
 * const { storage, label } = await openRedis("redis://127.0.0.1:6379", undefined);
 * ```
 */
export async function openRedis(
  url: string,
  prefix: string | undefined,
  onWarning: (warning: Error) => void = (warning) =>
    rt.err(`taskmill: warning: ${escapeText(redact(warning.message, url))}`),
): Promise<StorageChoice> {
  let mod: typeof import("../adapters/redis/mod.ts");
  try {
    mod = await import("../adapters/redis/mod.ts");
  } catch (error) {
    throw new CliError(
      `cannot use Redis: the ioredis package did not load (${
        firstLine(error)
      }); install it next to taskmill (npm install ioredis)`,
    );
  }
  let storage: Storage;
  try {
    storage = new mod.RedisStorage({ url, prefix, onWarning });
  } catch (error) {
    throw new UsageError(`--redis-url: ${redact(firstLine(error), url)}`);
  }
  const label = `redis ${redact(url, url)}${prefix === undefined ? "" : ` prefix ${prefix}`}`;
  try {
    await storage.isPaused("default"); // one round trip: is the server there?
  } catch (error) {
    await storage.close().catch(() => {});
    throw new CliError(
      `cannot reach Redis at ${redact(url, url)}: ${
        redact(firstLine(error), url).replace(/^.*Cannot connect to \S+: /, "")
      }`,
    );
  }
  await (storage as { checkSetup?: () => Promise<unknown> }).checkSetup?.().catch(() => {});
  return { storage, label, url };
}

/**
 * Where a command's jobs are: a Redis server or a SQLite file.
 *
 * @example
 * ```ts
 * const target: StorageTarget = { kind: "sqlite", path: "jobs.db" };
 * ```
 */
export type StorageTarget =
  | { kind: "redis"; url: string; prefix?: string }
  | { kind: "sqlite"; path: string };

/**
 * The storage the flags (else the environment) name, or undefined for none.
 * Flags win over the environment; naming both Redis and SQLite in the same
 * place is a usage error, as is `--prefix` with SQLite.
 *
 * @example
 * ```ts
 * console.log(storageTarget({ sqlite: "jobs.db" })); // { kind: "sqlite", path: "jobs.db" }
 * ```
 */
export function storageTarget(flags: FlagValues): StorageTarget | undefined {
  const url = flags["redis-url"] as string | undefined;
  const path = flags.sqlite as string | undefined;
  if (url !== undefined && path !== undefined) {
    throw new UsageError("give --redis-url or --sqlite, not both");
  }
  const prefix = (flags.prefix as string | undefined) ?? rt.env("TASKMILL_PREFIX");
  const redis = (url: string): StorageTarget => ({ kind: "redis", url, prefix });
  const sqlite = (path: string): StorageTarget => {
    if (flags.prefix !== undefined) throw new UsageError("--prefix is for Redis, not --sqlite");
    if (path === "") throw new UsageError("--sqlite needs a file path");
    return { kind: "sqlite", path };
  };
  if (url !== undefined) return redis(url);
  if (path !== undefined) return sqlite(path);
  const envUrl = rt.env("TASKMILL_REDIS_URL") || undefined;
  const envPath = rt.env("TASKMILL_SQLITE") || undefined;
  if (envUrl !== undefined && envPath !== undefined) {
    throw new UsageError("TASKMILL_REDIS_URL and TASKMILL_SQLITE are both set: give one");
  }
  return envUrl !== undefined ? redis(envUrl) : envPath !== undefined ? sqlite(envPath) : undefined;
}

/**
 * The storage of a command that needs one that outlives it, or a usage error.
 *
 * @example
 * ```ts
 * const target = requireTarget({ "redis-url": "redis://127.0.0.1:6379" }, "stats");
 * ```
 */
export function requireTarget(flags: FlagValues, command: string): StorageTarget {
  const target = storageTarget(flags);
  if (target === undefined) {
    throw new UsageError(
      `${command} needs a storage that outlives this process: give --redis-url URL or ` +
        "--sqlite PATH, or set TASKMILL_REDIS_URL or TASKMILL_SQLITE (the in-memory store " +
        "would be empty here)",
    );
  }
  return target;
}

/**
 * Opens a SQLite file as a taskmill database: created when missing,
 * migrated when older; a newer, foreign or corrupt file is refused, as is
 * a runtime without a built-in SQLite.
 *
 * @example
 * ```ts
 * const { storage, label } = await openSqlite("jobs.db");
 * ```
 */
export async function openSqlite(path: string): Promise<StorageChoice> {
  let mod: typeof import("../adapters/sqlite/mod.ts");
  try {
    mod = await import("../adapters/sqlite/mod.ts");
  } catch (error) {
    throw new CliError(`cannot use SQLite: ${firstLine(error)}`);
  }
  try {
    const storage = await mod.SqliteStorage.open({ path });
    return { storage, label: `sqlite ${path}`, url: undefined };
  } catch (error) {
    throw new CliError(`--sqlite ${path}: ${firstLine(error)}`);
  }
}

/**
 * Opens what `target` names.
 *
 * @example
 * ```ts
 * const { storage } = await openTarget({ kind: "sqlite", path: "jobs.db" });
 * ```
 */
export function openTarget(
  target: StorageTarget,
  onWarning?: (warning: Error) => void,
): Promise<StorageChoice> {
  return target.kind === "redis"
    ? openRedis(target.url, target.prefix, onWarning)
    : openSqlite(target.path);
}

/** The Redis URL to redact from messages, if the target has one. */
export function secretOf(target: StorageTarget | undefined): string | undefined {
  return target?.kind === "redis" ? target.url : undefined;
}

/**
 * Runs `run` with a Queue over the storage the flags name, and closes it after.
 * A TypeError or RangeError from the queue (a bad name, a bad option) is a
 * usage error. `beforeConnect` runs first (e.g. loading a tasks module).
 *
 * @example
 * ```ts
 * await withStorage(flags, "stats", async (queue) => {
 *   console.log(await queue.counts("default"));
 *   return 0;
 * });
 * ```
 */
export async function withStorage<T>(
  flags: FlagValues,
  command: string,
  run: (queue: Queue) => Promise<T>,
  beforeConnect?: () => Promise<void>,
): Promise<T> {
  const target = requireTarget(flags, command);
  await beforeConnect?.();
  const { storage } = await openTarget(target);
  try {
    return await run(new Queue({ storage }));
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new UsageError(firstLine(error));
    }
    throw error;
  } finally {
    await storage.close().catch(() => {});
  }
}
