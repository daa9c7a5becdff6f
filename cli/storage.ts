/**
 * Opening the storage a command works on: Redis from `--redis-url` (or
 * `TASKMILL_REDIS_URL`), checked to answer before the command runs.
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
 * The Redis URL and prefix of a command that needs Redis, or a usage error.
 *
 * @example
 * ```ts
 * const { url, prefix } = redisTarget({ "redis-url": "redis://127.0.0.1:6379" }, "stats");
 * ```
 */
export function redisTarget(flags: FlagValues, command: string): { url: string; prefix?: string } {
  const url = (flags["redis-url"] as string | undefined) ?? rt.env("TASKMILL_REDIS_URL");
  if (url === undefined) {
    throw new UsageError(
      `${command} needs a storage that outlives this process: give --redis-url URL or set ` +
        "TASKMILL_REDIS_URL (the in-memory store would be empty here)",
    );
  }
  return { url, prefix: (flags.prefix as string | undefined) ?? rt.env("TASKMILL_PREFIX") };
}

/**
 * Runs `run` with a Queue over the Redis the flags name, and closes it after.
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
  const { url, prefix } = redisTarget(flags, command);
  await beforeConnect?.();
  const { storage } = await openRedis(url, prefix);
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
