/**
 * RedisStorage's options, and the checks of what the constructor is given.
 *
 * @module
 */

import { checkInt, checkKeys, optionNames } from "../../core/_validate.ts";
import { DEFAULT_EVENT_BACKLOG } from "../../core/storage_events.ts";
import type { StorageWarning } from "../../core/errors.ts";
import { passwordOf, redactRedisUrl } from "./redact.ts";

/**
 * Extra ioredis options for connections `RedisStorage` opens itself: any of
 * ioredis's `RedisOptions` (kept structural here so the docs need no ioredis
 * types), for example `{ tls: { ca } }`.
 *
 * @example
 * ```ts
 * import type { RedisConnectionOptions } from "@taskmill/taskmill/redis";
 *
 * const options: RedisConnectionOptions = { connectTimeout: 2_000, tls: { servername: "db" } };
 * ```
 */
export type RedisConnectionOptions = Record<string, unknown>;

/**
 * An ioredis `Redis` or `Cluster` instance. Typed structurally so that this
 * module's public types do not depend on ioredis' own.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import type { RedisClientLike } from "@taskmill/taskmill/redis";
 *
 * const client: RedisClientLike = new Redis("redis://127.0.0.1:6379", { lazyConnect: true });
 * ```
 */
export interface RedisClientLike {
  /** The connection status, e.g. `"ready"`. */
  readonly status: string;
  /** Runs a loaded script. */
  evalsha(...args: never[]): unknown;
  /** Opens a new connection with the same options. */
  duplicate(...args: never[]): unknown;
}

/** Options of {@linkcode RedisStorage}: give `url` or `client`. */
export interface RedisStorageOptions {
  /**
   * Connection URL: `redis://[[user]:password@]host[:port][/db]`, or
   * `rediss://` for TLS. The storage opens (and closes) its own connection.
   */
  url?: string;
  /** Your own ioredis `Redis` client or `Cluster`. `close()` leaves it open. */
  client?: RedisClientLike;
  /** Namespace of every key, so applications can share a server. Default `"taskmill"`. */
  prefix?: string;
  /**
   * Give each queue its own hash tag (`{prefix:queue}`) so queues spread over
   * cluster nodes. Default false: all queues share `{prefix}`, and a worker
   * reserves across its queues in one call.
   */
  queueTags?: boolean;
  /**
   * Extra ioredis options for the connections opened from `url`, for example
   * `{ tls: { ca } }` to trust a private certificate authority with
   * `rediss://`. Ignored with `client` (configure your client instead).
   */
  redisOptions?: RedisConnectionOptions;
  /**
   * Told once about each problem found with the server's setup: checked
   * with `INFO memory` whenever the storage connects, a `maxmemory-policy`
   * other than `noeviction` (Redis would delete jobs when full). Default:
   * `console.warn`. Give your own to route it to your logs; the warnings are
   * also kept in {@linkcode RedisStorage.warnings}, and a Worker emits them
   * as `error` events (during "storage check") when it starts.
   */
  onWarning?: (warning: StorageWarning) => void;
  /**
   * Events kept per stream (each queue's, and the workers'): an integer from
   * 0 to 10 000 000. Default 10 000 (`DEFAULT_EVENT_BACKLOG`). Every script
   * that changes jobs writes their events to the queue's stream in the same
   * call; 0 turns events off (nothing is written, and `Queue.result()`
   * polls). Trimming removes whole stream blocks, so a stream may hold up to
   * about 100 entries (of up to 200 events each) more than this.
   */
  eventBacklog?: number;
}

/** Every option RedisStorage knows (others are refused: a misspelt one would be ignored). */
const REDIS_OPTIONS = optionNames<RedisStorageOptions>()([
  "url",
  "client",
  "prefix",
  "queueTags",
  "redisOptions",
  "onWarning",
  "eventBacklog",
]);

/**
 * The constructor's options, checked: exactly one of `url` (with its
 * password, to redact from messages) or `client`.
 *
 * @example
 * ```ts ignore
 * const { prefix, queueTags } = checkOptions({ url: "redis://127.0.0.1:6379" });
 * ```
 */
export interface CheckedOptions {
  url: string | undefined;
  client: RedisClientLike | undefined;
  secret: string | undefined;
  prefix: string;
  queueTags: boolean;
  redisOptions: RedisConnectionOptions | undefined;
  onWarning: (warning: StorageWarning) => void;
  eventBacklog: number;
}

/**
 * Checks RedisStorage's options (throws a TypeError or RangeError naming
 * the bad one) and fills in the defaults.
 *
 * @example
 * ```ts ignore
 * const checked = checkOptions({ url: "redis://127.0.0.1:6379", prefix: "myapp" });
 * ```
 */
export function checkOptions(options: RedisStorageOptions): CheckedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Cannot create RedisStorage: options must be an object");
  }
  checkKeys(options, REDIS_OPTIONS, "Cannot create RedisStorage");
  const { url, client } = options;
  if ((url === undefined) === (client === undefined)) {
    throw new TypeError("Cannot create RedisStorage: give exactly one of url or client");
  }
  const prefix = options.prefix ?? "taskmill";
  if (typeof prefix !== "string" || prefix === "" || /[{}\s]/.test(prefix)) {
    throw new RangeError(
      "Cannot create RedisStorage: prefix must be a non-empty string without braces or spaces",
    );
  }
  if (options.onWarning !== undefined && typeof options.onWarning !== "function") {
    throw new TypeError("Cannot create RedisStorage: onWarning must be a function");
  }
  const eventBacklog = options.eventBacklog ?? DEFAULT_EVENT_BACKLOG;
  checkInt(eventBacklog, 0, 10_000_000, "Cannot create RedisStorage: eventBacklog");
  const secret = passwordOf(url);
  if (client !== undefined) {
    if (typeof client !== "object" || client === null || typeof client.evalsha !== "function") {
      throw new TypeError(
        "Cannot create RedisStorage: client must be an ioredis Redis or Cluster",
      );
    }
  } else if (typeof url !== "string" || !/^rediss?:\/\//i.test(url)) {
    throw new TypeError(
      `Cannot create RedisStorage: url must start with redis:// or rediss://, got ${
        JSON.stringify(redactRedisUrl(String(url), secret))
      }`,
    );
  }
  return {
    url: client === undefined ? url : undefined,
    client,
    secret,
    prefix,
    queueTags: options.queueTags ?? false,
    eventBacklog,
    redisOptions: options.redisOptions,
    onWarning: options.onWarning ??
      ((warning) => console.warn(`taskmill: ${warning.message}`)),
  };
}
