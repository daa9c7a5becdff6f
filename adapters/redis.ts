/**
 * {@linkcode RedisStorage}: taskmill's storage on Redis (standalone or
 * Cluster) through ioredis, for many workers on many machines.
 *
 * ```ts
 * import { Queue, Worker } from "@taskmill/taskmill";
 * import { RedisStorage } from "@taskmill/taskmill/redis";
 *
 * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379", prefix: "myapp" });
 * const queue = new Queue({ storage });
 * await storage.close();
 * ```
 *
 * ## Key layout
 *
 * Every key starts with a hash tag `{T}`, so each script call touches one
 * slot and works on Redis Cluster. `T` is the prefix (default `taskmill`);
 * with `queueTags: true` it is `prefix:queue`, one tag per queue, so queues
 * spread over the nodes of a cluster. For queue `Q`:
 *
 * | key                       | type   | holds                                                  |
 * | ------------------------- | ------ | ------------------------------------------------------ |
 * | `{T}:seq`                 | string | counter: FIFO order, set-member order, lease tokens    |
 * | `{T}:job:ID`              | hash   | the job's fields (payload, result, error as JSON text) |
 * | `{T}:q:Q:wait`            | zset   | `<seq><id>` by 1000 - priority (ties: by seq, FIFO)    |
 * | `{T}:q:Q:delayed`         | zset   | `<seq><id>` by runAt                                   |
 * | `{T}:q:Q:active`          | zset   | `<seq><id>` by lease expiry (`<seq>` of its token)     |
 * | `{T}:q:Q:completed`       | zset   | `<seq><id>` by finishedAt                              |
 * | `{T}:q:Q:failed`          | zset   | `<seq><id>` by finishedAt (the dead-letter set)        |
 * | `{T}:q:Q:mark`            | list   | wake-up markers idle workers BLPOP (at most 16)        |
 * | `{T}:paused`              | set    | paused queue names                                     |
 * | `{prefix}:ids` (per-queue tags only) | hash | id → queue, to find a job's slot by its id  |
 *
 * The id index lives in another slot than the jobs, so it is written before
 * them and cleaned after them; entries that a failed or killed call left
 * behind are swept by `prune` (a page per call, after a grace: see
 * `#sweepIndex`), so the index does not outgrow the jobs.
 *
 * A job hash holds `payload` (JSON text) and `d` (what never changes after
 * enqueue, packed:
 * `priority|maxAttempts|maxStalls|timeout|enqueuedAt|runAt|queue|name|seq`,
 * with the enqueue's seq and runAt), which is all that enqueue writes; then,
 * once set, `state`, `seq` and `runAt` (absent: waiting, or delayed when d's
 * runAt is after enqueuedAt; d's seq; d's runAt), `attempt`, `stalls`,
 * `startedAt`, `finishedAt`, the last lease (`owner`, `token`, `expiresAt`:
 * meaningful only while `state` is `active`), `progress`, `result`, `error`,
 * `errors` and `raw`.
 *
 * `<seq>` is the slot's counter at the time the job entered the set, zero
 * padded to 15 digits, so members with equal scores sort in entry order.
 * Priorities are integers in [-1000, 1000] (the core's `Queue` checks this).
 *
 * ## Delivery
 *
 * At-least-once. Each state change is one Lua script (EVALSHA), atomic on the
 * server; a batch is one call. A job runs again only when its lease expired.
 * On failover, writes a master acknowledged but had not yet replicated are
 * lost: a job enqueued just before the failover can vanish, and a completed
 * job can run again. Use `WAIT`/AOF with `appendfsync always` on the server
 * if that matters more than speed.
 *
 * ## Time
 *
 * Scripts never read the server's clock: every time comes from the `now` the
 * core passes (so fake clocks work against a real server). Workers on
 * different machines therefore compare their own clocks through the stored
 * lease expiries: the skew between two workers must stay below `leaseMs -
 * heartbeatMs` (a lease is renewed only every heartbeat), or a worker with a
 * fast clock may reclaim a job whose lease is still live elsewhere. NTP keeps
 * skew in milliseconds; `serverTime()` (TIME) lets workers measure theirs
 * and warn.
 *
 * ## Round trips
 *
 * With the default shared tag every Storage method is one round trip. With
 * `queueTags: true` a call spanning several queues makes one call per queue
 * (in parallel, except reserve, which goes in priority order and stops once
 * `limit` is filled), and calls that start from a bare id (getJob, remove,
 * retryFailed, and settle/extendLeases/setProgress for jobs this instance did
 * not reserve) first look the queue up in the id index.
 *
 * @module
 */

import { Cluster, Redis } from "ioredis";
import type { RedisOptions } from "ioredis";
import { StorageError, StorageWarning } from "../core/errors.ts";
import {
  checkInt,
  checkKeys,
  checkWellFormed,
  describe,
  optionNames,
  validateName,
} from "../core/_validate.ts";
import type {
  Counts,
  EnqueueResult,
  ListOptions,
  NewJob,
  ReserveRequest,
  ReserveResult,
  Retention,
  RetentionPolicy,
  Settlement,
  SettleOptions,
  Storage,
  TaskSettings,
} from "../core/storage.ts";
import type { JobError, JobRecord, JobState, JsonValue } from "../core/task.ts";
import { JOB_STATES } from "../core/task.ts";
import * as scripts from "./_redis_scripts.ts";

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
}

const REDIS_OPTIONS = optionNames<RedisStorageOptions>()([
  "url",
  "client",
  "prefix",
  "queueTags",
  "redisOptions",
  "onWarning",
]);

type Client = Redis | Cluster;

/** Commands an ACL user was refused; `sure` false: one of them (which could not be told). */
interface Denied {
  commands: readonly string[];
  sure: boolean;
}

/** A blocking connection and its BLPOP, shared by every wait on the same marker keys. */
interface Blocker {
  conn: Client;
  keys: string[];
  /** A BLPOP is in flight (possibly for waits that have ended). */
  inflight: boolean;
  /** That BLPOP popped a marker while nobody waited: the next wait returns at once. */
  unclaimed: boolean;
  waiters: Set<Waiter>;
}

/** One `waitForWork` call waiting on a {@linkcode Blocker}. */
interface Waiter {
  /** When this wait ends anyway (Date.now() time). */
  deadline: number;
  /** Ends the wait: resolves it, or rejects it with `error`. */
  end(error?: StorageError): void;
}

/**
 * The commands sent with argument arrays (ioredis flattens them), so that no
 * batch is spread into a function call: see `#send`.
 */
interface ArrayCommands {
  evalsha(
    sha: string,
    keys: number,
    key: string,
    args: readonly (string | number)[],
  ): Promise<unknown>;
  eval(
    lua: string,
    keys: number,
    key: string,
    args: readonly (string | number)[],
  ): Promise<unknown>;
  hmget(key: string, fields: readonly string[]): Promise<(string | null)[]>;
  hdel(key: string, fields: readonly string[]): Promise<number>;
  hset(key: string, pairs: readonly string[]): Promise<number>;
}
type Reply = string | number | null | Reply[];

const RECLAIM_MAX = 1_000;
const PROMOTE_MAX = 1_000;
const PRUNE_BUDGET = 200;
/** Most entries of the queueTags lease cache (a worker holds at most 2 000 jobs). */
const LEASED_MAX = 100_000;
/** Id-index entries one prune call checks (an HSCAN COUNT hint). */
const INDEX_SWEEP_PAGE = 1_000;
/** How long an id-index entry may point at a missing job before the sweep deletes it. */
const INDEX_GRACE_MS = 5 * 60_000;
/** Most id-index entries the sweep watches at once (the rest wait for a later pass). */
const SUSPECTS_MAX = 10_000;
const NF = scripts.FIELDS.length;
// Positions in scripts.FIELDS.
const F_D = 0;
const F_PAYLOAD = 1;
const F_ATTEMPT = 2;
const F_STALLS = 3;
const F_RUN_AT = 4;
const F_STATE = 5;
const F_STARTED = 6;
const F_FINISHED = 7;
const F_OWNER = 8;
const F_TOKEN = 9;
const F_EXPIRES = 10;
const F_PROGRESS = 11;
const F_RESULT = 12;
const F_ERROR = 13;
const F_ERRORS = 14;
const F_RAW = 15;
// Where each RESERVE_FIELDS value goes in a FIELDS row.
const RESERVE_INDEX = scripts.RESERVE_FIELDS.map((f) => scripts.FIELDS.indexOf(f));

interface LoadedScript {
  lua: string;
  sha: Promise<string>;
  /** The SHA-1 once known. */
  hash?: string;
}

function loadScript(lua: string): LoadedScript {
  const script: LoadedScript = { lua, sha: sha1(lua) };
  // A failed digest surfaces where `sha` is awaited (#callLater), not here.
  script.sha.then((hash) => script.hash = hash, () => {});
  return script;
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Scripts are hashed once per process; every instance shares them.
const SCRIPTS = {
  enqueue: loadScript(scripts.ENQUEUE),
  reserve: loadScript(scripts.RESERVE),
  settle: loadScript(scripts.SETTLE),
  extend: loadScript(scripts.EXTEND),
  progress: loadScript(scripts.PROGRESS),
  counts: loadScript(scripts.COUNTS),
  list: loadScript(scripts.LIST),
  retryFailed: loadScript(scripts.RETRY_FAILED),
  remove: loadScript(scripts.REMOVE),
  resume: loadScript(scripts.RESUME),
  prune: loadScript(scripts.PRUNE),
  bury: loadScript(scripts.BURY),
  claimIds: loadScript(scripts.CLAIM_IDS),
  exist: loadScript(scripts.EXIST),
  forgetStale: loadScript(scripts.FORGET_STALE),
};

/**
 * Replaces the password of every `redis://user:password@host` URL in `text`
 * with `***`, and any occurrence of `secret` (the configured password).
 *
 * @example
 * ```ts
 * import { redactRedisUrl } from "@taskmill/taskmill/redis";
 *
 * console.log(redactRedisUrl("redis://app:s3cret@db:6379/0")); // "redis://app:***@db:6379/0"
 * ```
 */
export function redactRedisUrl(text: string, secret?: string): string {
  let out = text.replace(/(rediss?:\/\/[^:@/\s]*:)[^@\s]*@/gi, "$1***@");
  if (secret) out = out.split(secret).join("***");
  return out;
}

function passwordOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password === "" ? undefined : password;
  } catch {
    return undefined;
  }
}

/**
 * Storage on Redis through ioredis. See the module doc for the key layout,
 * delivery guarantees and the clock assumption.
 *
 * @example Connect by URL
 * ```ts
 * import { Queue } from "@taskmill/taskmill";
 * import { RedisStorage } from "@taskmill/taskmill/redis";
 *
 * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379", prefix: "myapp" });
 * const queue = new Queue({ storage });
 * console.log(await queue.counts("default"));
 * await storage.close();
 * ```
 *
 * @example Bring your own client (or Cluster)
 * ```ts
 * import { Cluster } from "ioredis";
 * import { RedisStorage } from "@taskmill/taskmill/redis";
 *
 * const cluster = new Cluster([{ host: "127.0.0.1", port: 7000 }]);
 * const storage = new RedisStorage({ client: cluster, queueTags: true });
 * await storage.close(); // the cluster stays open: it is yours
 * await cluster.quit();
 * ```
 */
export class RedisStorage implements Storage {
  #client: Client;
  #own: boolean;
  #url: string | undefined;
  #secret: string | undefined;
  #prefix: string;
  #queueTags: boolean;
  #redisOptions: RedisConnectionOptions | undefined;
  #connecting: Promise<void> | undefined;
  #lastError: Error | undefined;
  // Dedicated blocking connections for waitForWork, one per set of marker
  // keys (so one per hash tag for a worker's queues).
  #blocking = new Map<string, Blocker>();
  // Work this instance made (enqueue, retry, resume) wakes its own waits at
  // once, not a round trip later through Redis: on a FakeClock that round
  // trip is real time the clock does not wait for (see #madeWork).
  #made = 0;
  #madeAll = 0;
  #madeIn = new Map<string, number>();
  #localWaits = new Set<{ queues: readonly string[]; wake: () => void }>();
  // queueTags mode: queues of the jobs this instance holds leases on (a
  // cache in front of the id index: see #remember).
  #leased = new Map<string, string>();
  // queueTags mode: the id-index sweep (see #sweepIndex).
  #indexCursor = "0";
  #suspects = new Map<string, { queue: string; since: number; pass: number }>();
  #indexPass = 0;
  #closed = false;
  #onWarning: (warning: StorageWarning) => void;
  #warnings: StorageWarning[] = [];
  // The setup check of the current connection (see #inspect).
  #inspection: Promise<void> | undefined;

  /** Creates the storage; the connection opens on first use. */
  constructor(options: RedisStorageOptions) {
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
    this.#prefix = prefix;
    this.#queueTags = options.queueTags ?? false;
    this.#redisOptions = options.redisOptions;
    if (options.onWarning !== undefined && typeof options.onWarning !== "function") {
      throw new TypeError("Cannot create RedisStorage: onWarning must be a function");
    }
    this.#onWarning = options.onWarning ??
      ((warning) => console.warn(`taskmill: ${warning.message}`));
    this.#secret = passwordOf(url);
    if (client !== undefined) {
      if (typeof client !== "object" || client === null || typeof client.evalsha !== "function") {
        throw new TypeError(
          "Cannot create RedisStorage: client must be an ioredis Redis or Cluster",
        );
      }
      this.#client = client as Client;
      this.#own = false;
    } else {
      if (typeof url !== "string" || !/^rediss?:\/\//i.test(url)) {
        throw new TypeError(
          `Cannot create RedisStorage: url must start with redis:// or rediss://, got ${
            JSON.stringify(redactRedisUrl(String(url), this.#secret))
          }`,
        );
      }
      this.#url = url;
      this.#own = true;
      this.#client = this.#open(url);
    }
  }

  #open(url: string): Redis {
    const client = new Redis(url, ownOptions(this.#redisOptions));
    // ioredis reports connection trouble as events; keep the last one for
    // messages, and never let an unhandled 'error' event crash the process.
    client.on("error", (error: Error) => {
      this.#lastError = error;
    });
    // Every (re)connect may reach another server (a failover): check it.
    client.on("ready", () => {
      this.#inspection = this.#inspect();
    });
    return client;
  }

  /**
   * Checks the server's setup and reports what puts jobs at risk (see
   * `onWarning`). Never rejects. `INFO memory` rather than `CONFIG GET`,
   * which is often refused to application users.
   */
  async #inspect(): Promise<void> {
    const where = this.#url === undefined
      ? "the Redis server of the given client"
      : `Redis at ${redactRedisUrl(this.#url, this.#secret)}`;
    let info: string;
    try {
      info = await this.#client.info("memory");
    } catch (error) {
      if (this.#closed) return;
      if (!/NOPERM|no permissions/i.test(String(error))) {
        // Not connected: ours checks again on its next connect, a given
        // client on its next use.
        if (!this.#own) this.#inspection = undefined;
        return;
      }
      this.#warn(
        "eviction-policy-unknown",
        `Cannot check the maxmemory-policy of ${where}: the Redis user "${this.#user()}" may ` +
          `not run INFO (grant it with ACL SETUSER ${this.#user()} +info). Make sure it is ` +
          `noeviction, or Redis deletes jobs when it is full.`,
      );
      return;
    }
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    if (policy === "noeviction") return;
    this.#warn(
      policy === undefined ? "eviction-policy-unknown" : "eviction-policy",
      `${where} has maxmemory-policy ${policy ?? "(not reported)"}: once it reaches ` +
        `maxmemory it deletes keys to make room, and jobs vanish without a trace, acknowledged ` +
        `or not. Set it to noeviction (CONFIG SET maxmemory-policy noeviction, and in ` +
        `redis.conf) so that a full Redis refuses new jobs instead of losing old ones.`,
    );
  }

  #warn(code: string, message: string): void {
    if (this.#warnings.some((w) => w.code === code && w.message === message)) return;
    const warning = new StorageWarning(code, message);
    this.#warnings.push(warning);
    try {
      this.#onWarning(warning);
    } catch { /* a broken listener must not break the storage */ }
  }

  /**
   * What the setup checks found so far (see `onWarning`), oldest first.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379", onWarning: () => {} });
   * await storage.checkSetup();
   * for (const warning of storage.warnings) console.error(warning.message);
   * await storage.close();
   * ```
   */
  get warnings(): readonly StorageWarning[] {
    return [...this.#warnings];
  }

  /**
   * Connects if needed, waits for the setup check of the connection, and
   * returns every warning found so far (empty when all is well).
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const warnings = await storage.checkSetup();
   * await storage.close();
   * ```
   */
  async checkSetup(): Promise<StorageWarning[]> {
    await this.#ready();
    this.#inspection ??= this.#inspect();
    await this.#inspection;
    return [...this.#warnings];
  }

  /**
   * The server's clock (TIME), epoch ms: the Worker measures its own
   * clock's skew against it.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * console.log(Date.now() - await storage.serverTime());
   * await storage.close();
   * ```
   */
  async serverTime(): Promise<number> {
    let time: (string | number)[];
    try {
      await this.#ready();
      time = await this.#client.time();
    } catch (error) {
      throw this.#error("read the server's clock", error);
    }
    return Number(time[0]) * 1_000 + Math.floor(Number(time[1]) / 1_000);
  }

  // ---- plumbing -----------------------------------------------------------

  #tag(queue: string): string {
    return this.#queueTags ? `{${this.#prefix}:${queue}}` : `{${this.#prefix}}`;
  }

  #indexKey(): string {
    return `{${this.#prefix}}:ids`;
  }

  #error(what: string, cause: unknown, denied?: Denied): StorageError {
    const raw = cause instanceof Error ? cause.message : String(cause);
    const message = redactRedisUrl(raw, this.#secret);
    let safeCause: unknown = cause;
    if (message !== raw || !(cause instanceof Error)) {
      safeCause = new Error(message);
      (safeCause as Error).name = cause instanceof Error ? cause.name : "Error";
    }
    // ACL refusals get the command and the fix up front: Redis's own text
    // for a script names neither.
    const direct = /no permissions to run the '([^']+)' command/.exec(raw);
    const refused = denied ?? (direct ? { commands: [direct[1]], sure: true } : undefined);
    if (refused !== undefined && refused.commands.length > 0) {
      const user = this.#user();
      const { commands, sure } = refused;
      const names = commands.map((c) => c.toUpperCase()).join(", ");
      const grants = commands.map((c) => `+${c.toLowerCase()}`).join(" ");
      const them = commands.length > 1 ? "them" : "it";
      return new StorageError(
        `Cannot ${what}: the Redis user "${user}" may not run ${sure ? "" : "one of "}${names}; ` +
          `grant ${them} with ACL SETUSER ${user} ${grants} (${message})`,
        { cause: safeCause },
      );
    }
    return new StorageError(`Cannot ${what}: ${message}`, { cause: safeCause });
  }

  /** The ACL user this storage connects as, for messages (never the password). */
  #user(): string {
    if (this.#url !== undefined) {
      try {
        const user = decodeURIComponent(new URL(this.#url).username);
        if (user !== "") return user;
      } catch { /* not a URL: the default user */ }
    }
    const options = (this.#client as {
      options?: { username?: string; redisOptions?: { username?: string } };
    }).options;
    return options?.username ?? options?.redisOptions?.username ?? "default";
  }

  /**
   * After a script failed because the ACL user may not run one of its
   * commands: which ones (Redis 7's `redis.acl_check_cmd`, which checks
   * without running), or every command the script uses when that cannot be
   * told (older Redis).
   */
  async #deniedCommands(script: LoadedScript, key: string): Promise<Denied> {
    const candidates = commandsOf(script.lua);
    try {
      const denied = await (this.#client as unknown as ArrayCommands).eval(
        scripts.DENIED_COMMANDS,
        1,
        key,
        candidates,
      );
      if (Array.isArray(denied) && denied.length > 0) return { commands: denied, sure: true };
    } catch { /* no redis.acl_check_cmd (Redis < 7): name them all */ }
    return { commands: candidates, sure: false };
  }

  /** Connects our own client on first use, with a bounded wait. */
  #ready(): Promise<void> {
    if (this.#closed) return Promise.reject(new StorageError("RedisStorage is closed"));
    if (!this.#own) return Promise.resolve();
    const client = this.#client as Redis;
    if (client.status === "ready") return Promise.resolve();
    if (this.#connecting === undefined) {
      if (client.status !== "wait" && client.status !== "end") {
        return Promise.resolve(); // reconnecting: commands fail fast (maxRetriesPerRequest)
      }
      this.#lastError = undefined;
      this.#connecting = client.connect().then(() => {
        this.#connecting = undefined;
      }, (error: unknown) => {
        this.#connecting = undefined;
        // A failed first connect (wrong password, no server) must fail this
        // call and not keep retrying in the background: drop the client, and
        // the next call starts over with a fresh one.
        client.disconnect();
        if (!this.#closed) this.#client = this.#open(this.#url as string);
        throw this.#error(
          `connect to ${redactRedisUrl(this.#url as string, this.#secret)}`,
          this.#lastError ?? error,
        );
      });
    }
    return this.#connecting;
  }

  #call(what: string, script: LoadedScript, key: string, args: (string | number)[]) {
    // Connected and the script hashed (the usual case): the command goes out
    // now, so calls made in a row reach the wire in that order at once.
    if (
      script.hash !== undefined && !this.#closed &&
      (!this.#own || (this.#client as Redis).status === "ready")
    ) {
      return this.#send(what, script, script.hash, key, args);
    }
    return this.#callLater(what, script, key, args);
  }

  async #callLater(what: string, script: LoadedScript, key: string, args: (string | number)[]) {
    let sha: string;
    try {
      await this.#ready();
      sha = await script.sha;
    } catch (error) {
      throw error instanceof StorageError ? error : this.#error(what, error);
    }
    return await this.#send(what, script, sha, key, args);
  }

  async #send(
    what: string,
    script: LoadedScript,
    sha: string,
    key: string,
    args: (string | number)[],
  ): Promise<Reply> {
    // The arguments go as one array, never spread into the call: a batch of
    // 100 000 jobs is 200 000 arguments, past what a call's stack holds on
    // V8. ioredis flattens array arguments itself (without a spread).
    const client = this.#client as unknown as ArrayCommands;
    // A client given to us is checked on first use (ours on every connect).
    this.#inspection ??= this.#inspect();
    try {
      try {
        return await client.evalsha(sha, 1, key, args) as Reply;
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
        return await client.eval(script.lua, 1, key, args) as Reply;
      }
    } catch (error) {
      if (error instanceof Error && /can't run this command/.test(error.message)) {
        throw this.#error(what, error, await this.#deniedCommands(script, key));
      }
      throw this.#error(what, error);
    }
  }

  /** Runs a script in the slot of `queue`. */
  #run(what: string, script: LoadedScript, queue: string, args: (string | number)[]) {
    const tag = this.#tag(queue);
    return this.#call(what, script, `${tag}:seq`, [`${tag}:`, ...args]);
  }

  /** Runs a script in the shared slot (default mode only). */
  #runShared(what: string, script: LoadedScript, args: (string | number)[]) {
    const tag = `{${this.#prefix}}`;
    return this.#call(what, script, `${tag}:seq`, [`${tag}:`, ...args]);
  }

  /** queueTags mode: the queues owning `ids` (null when unknown). */
  async #queuesOf(what: string, ids: readonly string[]): Promise<(string | null)[]> {
    const out: (string | null)[] = ids.map((id) => this.#leased.get(id) ?? null);
    const missing = ids.filter((_, i) => out[i] === null);
    if (missing.length === 0) return out;
    let found: (string | null)[];
    try {
      await this.#ready();
      found = await (this.#client as unknown as ArrayCommands).hmget(this.#indexKey(), missing);
    } catch (error) {
      throw this.#error(what, error);
    }
    let j = 0;
    for (let i = 0; i < out.length; i++) if (out[i] === null) out[i] = found[j++];
    return out;
  }

  /**
   * Caches the queue of a job this instance reserved. Entries go when the
   * job is settled or its lease is found lost (extendLeases, setProgress);
   * the cap bounds the map even if a caller never comes back for a job,
   * which only costs an id-index lookup for that job.
   */
  #remember(id: string, queue: string): void {
    if (this.#leased.size >= LEASED_MAX) {
      this.#leased.delete(this.#leased.keys().next().value as string);
    }
    this.#leased.set(id, queue);
  }

  async #forgetIds(what: string, ids: readonly string[]): Promise<void> {
    if (!this.#queueTags || ids.length === 0) return;
    try {
      await (this.#client as unknown as ArrayCommands).hdel(this.#indexKey(), ids);
    } catch (error) {
      throw this.#error(what, error);
    }
  }

  // ---- Storage ------------------------------------------------------------

  /**
   * Stores new jobs, idempotent by id (the first of equal ids in one batch
   * wins); one atomic script call (per queue with `queueTags`, after one
   * id-index call). Sending the batch in chunks, so Redis stores one while
   * this process encodes the next, measured no faster and would let other
   * clients see half a batch.
   *
   * Any number of jobs works, and the whole call stays all-or-nothing (per
   * queue with `queueTags`). Redis serves no other client while the script
   * runs (seconds for a few hundred thousand jobs), and one command's text
   * must fit Redis's `client-query-buffer-limit` (1 GB by default): split a
   * batch yourself when either matters more than atomicity.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const now = Date.now();
   * const [{ created }] = await storage.enqueue([{
   *   id: "a", name: "send", queue: "default", payload: {}, priority: 0,
   *   maxAttempts: 3, maxStalls: 1, timeout: 0, runAt: now,
   * }], now);
   * await storage.close();
   * ```
   */
  async enqueue(jobs: readonly NewJob[], now: number): Promise<EnqueueResult[]> {
    if (jobs.length === 0) return [];
    // Queue names go into key names and the packed field d: refuse what
    // Queue would refuse before anything is sent (checked once per run of
    // equal names).
    let checked: string | undefined;
    for (let i = 0; i < jobs.length; i++) {
      // An id with a lone surrogate becomes U+FFFD in UTF-8: two such ids
      // would be one key, and the second enqueue would return the first job.
      checkWellFormed(jobs[i].id, `Cannot enqueue jobs: jobs[${i}].id`);
      if (jobs[i].queue === checked) continue;
      validateName(jobs[i].queue, `Cannot enqueue jobs: jobs[${i}].queue`, "queue");
      checked = jobs[i].queue;
    }
    const payloads = jobs.map((job) => JSON.stringify(job.payload) ?? "null");
    const results: EnqueueResult[] = new Array(jobs.length);
    // Which jobs go to which slot: everything together, or per queue.
    const groups = new Map<string, number[]>();
    if (this.#queueTags) {
      const args: string[] = [];
      for (const job of jobs) args.push(job.id, job.queue);
      const owners = await this.#call(
        "enqueue jobs",
        SCRIPTS.claimIds,
        this.#indexKey(),
        ["", ...args],
      ) as (string | null)[];
      // An id the index gives to another queue normally exists there; if it
      // does not (a stale entry left by an interrupted call), take it over.
      const stale: string[] = [];
      await Promise.all(jobs.map(async (job, i) => {
        const owner = owners[i];
        if (owner === null || owner === job.queue) return;
        if (await this.getJob(job.id) === null) {
          stale.push(job.id, job.queue);
          owners[i] = job.queue;
        }
      }));
      if (stale.length > 0) {
        try {
          await (this.#client as unknown as ArrayCommands).hset(this.#indexKey(), stale);
        } catch (error) {
          throw this.#error("enqueue jobs", error);
        }
      }
      jobs.forEach((job, i) => {
        const queue = owners[i] ?? job.queue;
        let group = groups.get(queue);
        if (group === undefined) groups.set(queue, group = []);
        group.push(i);
      });
    } else {
      groups.set("", jobs.map((_, i) => i));
    }
    // Whether an id repeats within this call (the script then checks each id).
    const dups = new Set(jobs.map((job) => job.id)).size < jobs.length ? "1" : "";
    const calls: Promise<void>[] = [];
    for (const [queue, indexes] of groups) {
      // Runs of jobs that share queue, priority, runAt and the packed field
      // d (a whole enqueueMany is one run) send those once.
      const args: (string | number)[] = [now, dups];
      let run: NewJob | undefined;
      let countAt = 0;
      for (const i of indexes) {
        const job = jobs[i];
        if (
          run === undefined || job.queue !== run.queue || job.priority !== run.priority ||
          job.runAt !== run.runAt || job.name !== run.name ||
          job.maxAttempts !== run.maxAttempts || job.maxStalls !== run.maxStalls ||
          job.timeout !== run.timeout
        ) {
          run = job;
          args.push(job.queue, job.priority, job.runAt, packData(job, now), 0);
          countAt = args.length - 1;
        }
        args.push(job.id, payloads[i]);
        args[countAt] = (args[countAt] as number) + 1;
      }
      const call = this.#run("enqueue jobs", SCRIPTS.enqueue, this.#queueTags ? queue : "", args);
      calls.push(call.then((reply) => {
        // The reply lists only the jobs that were not stored: position, fields.
        const rows = reply as Reply[];
        for (let r = 0; r < rows.length; r += 2) {
          const i = indexes[Number(rows[r]) - 1];
          results[i] = {
            job: toRecord(jobs[i].id, rows[r + 1] as (string | null)[]),
            created: false,
          };
        }
      }));
    }
    // While Redis works: the results of stored jobs (a reply changes the
    // entries of jobs that were not stored, after this loop).
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i];
      results[i] = {
        job: {
          id: job.id,
          name: job.name,
          queue: job.queue,
          payload: JSON.parse(payloads[i]),
          priority: job.priority,
          attempt: 0,
          maxAttempts: job.maxAttempts,
          stalls: 0,
          maxStalls: job.maxStalls,
          timeout: job.timeout,
          enqueuedAt: now,
          runAt: job.runAt,
          state: job.runAt <= now ? "waiting" : "delayed",
          errors: [],
        },
        created: true,
      };
    }
    await Promise.all(calls);
    this.#madeWork(jobs.map((job) => job.queue));
    return results;
  }

  /**
   * Reclaims expired leases, promotes due delayed jobs and reserves up to
   * `limit` jobs, in one script call (one per queue, in order, with
   * `queueTags`).
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const { jobs, nextAt } = await storage.reserve({
   *   queues: ["default"], limit: 10, owner: "worker-1", leaseMs: 30_000, now: Date.now(),
   * });
   * await storage.close();
   * ```
   */
  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const { queues, limit } = request;
    const jobs: JobRecord[] = [];
    let nextAt: number | null = null;
    let quarantined = false;
    const batches = this.#queueTags ? queues.map((q) => [q]) : [queues];
    for (const batch of batches) {
      if (batch.length === 0) continue;
      const tagQueue = batch[0];
      const reply = await this.#run(
        "reserve jobs",
        SCRIPTS.reserve,
        tagQueue,
        reserveArgs(request, limit - jobs.length, `${this.#tag(tagQueue)}:paused`, batch),
      ) as Reply[];
      if (await this.#takeReserved(reply, request, tagQueue, jobs) > 0) quarantined = true;
      if (reply[0] !== null) {
        const at = Number(reply[0]);
        if (nextAt === null || at < nextAt) nextAt = at;
      }
      if (jobs.length >= limit) break;
    }
    // Records moved to failed took places in the batch: a short batch then
    // does not mean the queues are empty (see ReserveResult.more).
    if (quarantined && jobs.length < limit) return { jobs, nextAt, more: true };
    return { jobs, nextAt };
  }

  /**
   * Parses a RESERVE reply's jobs into `jobs` (records that do not parse are
   * moved to failed) and returns how many were moved.
   */
  async #takeReserved(
    reply: Reply[],
    request: ReserveRequest,
    tagQueue: string,
    jobs: JobRecord[],
  ): Promise<number> {
    const { owner, now } = request;
    const expiresAt = now + request.leaseMs;
    let corrupt:
      | { id: string; queue: string; fields: (string | null)[]; reason: string }[]
      | undefined;
    for (let i = 1; i < reply.length; i += 4) {
      const id = reply[i] as string;
      const queue = reply[i + 1] as string;
      const token = reply[i + 2] as string;
      const row = reply[i + 3] as (string | null)[];
      try {
        jobs.push(parseReserved(id, queue, token, owner, now, expiresAt, row));
        if (this.#queueTags) this.#remember(id, queue);
      } catch (error) {
        // Rebuild the FIELDS row: what the script read, plus what it set.
        const fields: (string | null)[] = new Array(NF).fill(null);
        for (let j = 0; j < row.length; j++) fields[RESERVE_INDEX[j]] = row[j];
        fields[F_STATE] = "active";
        fields[F_STARTED] = String(now);
        fields[F_OWNER] = owner;
        fields[F_TOKEN] = token;
        fields[F_EXPIRES] = String(expiresAt);
        (corrupt ??= []).push({ id, queue, fields, reason: (error as Error).message });
      }
    }
    if (corrupt === undefined) return 0;
    await this.#bury(tagQueue, corrupt, now);
    return corrupt.length;
  }

  /** Moves records that cannot be parsed to failed, keeping their raw text. */
  async #bury(
    tagQueue: string,
    records: { id: string; queue: string; fields: (string | null)[]; reason: string }[],
    now: number,
  ): Promise<void> {
    const args: (string | number)[] = [now];
    for (const { id, queue, fields, reason } of records) {
      const raw: Record<string, string> = {};
      scripts.FIELDS.forEach((name, i) => {
        if (fields[i] !== null && name !== "raw") raw[name] = fields[i] as string;
      });
      const rawText = JSON.stringify(raw);
      const attempt = Number(fields[F_ATTEMPT]);
      const error: JobError = {
        message: `Cannot parse the stored job ${id}: ${reason}`,
        name: "CorruptRecordError",
        attempt: Number.isInteger(attempt) ? attempt : 0,
        at: now,
      };
      // A readable replacement: valid fields kept, the rest defaulted.
      const isNum = (v: string | null): v is string =>
        v !== null && v !== "" && Number.isFinite(Number(v));
      const keep = (v: string | null, fallback: string) => isNum(v) ? v : fallback;
      const isJson = (v: string) => {
        try {
          JSON.parse(v);
          return true;
        } catch {
          return false;
        }
      };
      // d: priority|maxAttempts|maxStalls|timeout|enqueuedAt|runAt|queue|name|seq
      const d = (fields[F_D] ?? "").split("|");
      const name = d.length > 8 ? d.slice(7, -1).join("|") : "";
      const payload = fields[F_PAYLOAD];
      const errorText = JSON.stringify(error);
      const pairs = [
        "d",
        [
          keep(d[0] ?? null, "0"),
          keep(d[1] ?? null, "1"),
          keep(d[2] ?? null, "0"),
          keep(d[3] ?? null, "0"),
          keep(d[4] ?? null, String(now)),
          keep(d[5] ?? null, String(now)),
          queue,
          name === "" ? "unknown" : name,
          d.length > 8 ? keep(d[d.length - 1], "0") : "0",
        ].join("|"),
        "payload",
        payload !== null && isJson(payload) ? payload : "null",
        "attempt",
        String(error.attempt),
        "stalls",
        keep(fields[F_STALLS], "0"),
        "runAt",
        keep(fields[F_RUN_AT], String(now)),
        "startedAt",
        String(now),
        "error",
        errorText,
        "errors",
        errorText,
        "raw",
        rawText,
      ];
      args.push(id, queue, fields[F_TOKEN] ?? "", pairs.length / 2, ...pairs);
    }
    await this.#run("move corrupt jobs to failed", SCRIPTS.bury, tagQueue, args);
    for (const { id } of records) this.#leased.delete(id);
  }

  /**
   * Applies finished attempts (checked against their lease tokens) and prunes
   * by `retention`, in one script call.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const [applied] = await storage.settle(
   *   [{ kind: "complete", id: "a", token: "default:1", result: { ok: true } }],
   *   { now: Date.now() },
   * );
   * await storage.close();
   * ```
   */
  async settle(settlements: readonly Settlement[], options: SettleOptions): Promise<boolean[]> {
    if (settlements.length === 0) return [];
    const results: boolean[] = new Array(settlements.length).fill(false);
    const groups = await this.#group("settle jobs", settlements.map((s) => s.id));
    const removed: string[] = [];
    await Promise.all([...groups].map(async ([queue, indexes]) => {
      // The pruned ids come back only when the id index needs them.
      const args: (string | number)[] = [this.#queueTags ? "1" : ""];
      pushSettleArgs(args, settlements, indexes, options);
      const [applied, pruned] = await this.#run(
        "settle jobs",
        SCRIPTS.settle,
        queue,
        args,
      ) as [number[], string[] | number];
      indexes.forEach((i, n) => results[i] = applied[n] === 1);
      if (Array.isArray(pruned)) { for (const id of pruned) removed.push(id); }
    }));
    for (const s of settlements) this.#leased.delete(s.id);
    await this.#forgetIds("settle jobs", removed);
    // A retry (delayed or due) is work; without queueTags its queue is not known here.
    if (settlements.some((s) => s.kind !== "complete" && s.kind !== "fail")) this.#madeWork(null);
    return results;
  }

  /** Groups ids by the queue whose slot holds them (one group without queueTags). */
  async #group(what: string, ids: readonly string[]): Promise<Map<string, number[]>> {
    const groups = new Map<string, number[]>();
    if (!this.#queueTags) {
      groups.set("", ids.map((_, i) => i));
      return groups;
    }
    const queues = await this.#queuesOf(what, ids);
    queues.forEach((queue, i) => {
      if (queue === null) return; // unknown id: refused (false)
      let group = groups.get(queue);
      if (group === undefined) groups.set(queue, group = []);
      group.push(i);
    });
    return groups;
  }

  /**
   * Heartbeat: extends many leases in one script call.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const held = await storage.extendLeases([{ id: "a", token: "default:1" }], 30_000, Date.now());
   * await storage.close();
   * ```
   */
  async extendLeases(
    leases: readonly { id: string; token: string }[],
    leaseMs: number,
    now: number,
  ): Promise<boolean[]> {
    if (leases.length === 0) return [];
    const results: boolean[] = new Array(leases.length).fill(false);
    const groups = await this.#group("extend leases", leases.map((l) => l.id));
    await Promise.all([...groups].map(async ([queue, indexes]) => {
      const args: (string | number)[] = [now + leaseMs];
      for (const i of indexes) args.push(leases[i].id, leases[i].token);
      const reply = await this.#run("extend leases", SCRIPTS.extend, queue, args) as number[];
      indexes.forEach((i, n) => {
        results[i] = reply[n] === 1;
        if (!results[i]) this.#leased.delete(leases[i].id); // lost: the worker lets it go
      });
    }));
    return results;
  }

  /**
   * Records progress on an active job.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.setProgress("a", "default:1", 50);
   * await storage.close();
   * ```
   */
  async setProgress(id: string, token: string, progress: JsonValue): Promise<boolean> {
    const queue = await this.#queueOf("record progress", id);
    if (queue === null) return false;
    const reply = await this.#run("record progress", SCRIPTS.progress, queue, [
      id,
      token,
      JSON.stringify(progress),
    ]);
    if (reply !== 1) this.#leased.delete(id);
    return reply === 1;
  }

  async #queueOf(what: string, id: string): Promise<string | null> {
    if (!this.#queueTags) return "";
    return (await this.#queuesOf(what, [id]))[0];
  }

  /**
   * Blocks (BLPOP on a dedicated connection) until a job arrives on one of
   * `queues`, `maxWaitMs` passes, or `signal` aborts.
   *
   * Each queue has a short marker list that every state change making work
   * available pushes to (trimmed to 16 entries in the same script). A marker
   * pushed after this call began is either still in the list when BLPOP
   * arrives (it returns at once) or wakes the blocked BLPOP, so no wake-up is
   * missed; an old marker only causes a spurious return.
   *
   * Aborting (or `maxWaitMs` passing in this process first) ends the call at
   * once but never cuts the connection: its BLPOP runs on to its own
   * timeout, and the next wait on the same queues joins it instead of
   * opening a new connection (a worker waiting for its next delayed job ends
   * most waits this way). A marker that such a BLPOP pops while nobody
   * waits makes the next wait return at once, so it is not lost. With
   * `queueTags`, each queue's marker lives in its own slot, so one BLPOP per
   * queue runs on its own connection.
   *
   * Rejects with a {@linkcode StorageError} when Redis refuses the BLPOP
   * (an ACL user without it, a lost connection).
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.waitForWork(["default"], 1_000, new AbortController().signal);
   * await storage.close();
   * ```
   */
  async waitForWork(
    queues: readonly string[],
    maxWaitMs: number,
    signal: AbortSignal,
  ): Promise<void> {
    if (signal.aborted || maxWaitMs <= 0 || queues.length === 0) return;
    const since = this.#made;
    await this.#ready();
    if (signal.aborted) return; // aborted meanwhile
    // Work this instance made while the connection got ready counts too.
    if (this.#madeSince(queues, since)) return;
    const groups = new Map<string, string[]>();
    for (const queue of queues) {
      const tag = this.#tag(queue);
      let keys = groups.get(tag);
      if (keys === undefined) groups.set(tag, keys = []);
      keys.push(`${tag}:q:${queue}:mark`);
    }
    const done = new AbortController();
    const stop = () => done.abort();
    signal.addEventListener("abort", stop, { once: true });
    const local = { queues, wake: stop };
    this.#localWaits.add(local);
    try {
      await Promise.race(
        [...groups.values()].map((keys) => this.#waitOn(keys, maxWaitMs, done.signal)),
      );
    } finally {
      signal.removeEventListener("abort", stop);
      this.#localWaits.delete(local);
      done.abort(); // one group woke: the others' waits end (their BLPOPs run on)
    }
  }

  /** One wait on the blocker of `keys` (all in one slot). */
  #waitOn(keys: string[], maxWaitMs: number, signal: AbortSignal): Promise<void> {
    const blocker = this.#blocker(keys);
    if (blocker.unclaimed) {
      blocker.unclaimed = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        deadline: Date.now() + maxWaitMs,
        end: (error?: StorageError) => {
          if (!blocker.waiters.delete(waiter)) return;
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          if (error === undefined) resolve();
          else reject(error);
        },
      };
      const onAbort = () => waiter.end();
      // This wait's own bound: the shared BLPOP may have been sent with a
      // longer timeout by an earlier wait.
      const timer = setTimeout(onAbort, maxWaitMs);
      signal.addEventListener("abort", onAbort, { once: true });
      blocker.waiters.add(waiter);
      this.#block(blocker);
    });
  }

  /** Sends the blocker's BLPOP if none is in flight and someone waits. */
  #block(blocker: Blocker): void {
    if (blocker.inflight || blocker.waiters.size === 0 || this.#closed) return;
    let until = 0;
    for (const waiter of blocker.waiters) until = Math.max(until, waiter.deadline);
    const timeout = Math.max(1, until - Date.now());
    blocker.inflight = true;
    if (blocker.conn.status === "end") blocker.conn = this.#duplicate();
    blocker.conn.blpop(blocker.keys, timeout / 1000).then((popped) => {
      blocker.inflight = false;
      if (popped !== null) {
        if (blocker.waiters.size === 0) blocker.unclaimed = true;
        for (const waiter of [...blocker.waiters]) waiter.end();
      } else {
        // Timed out: end the waits that are due (their timers are about to
        // fire); a wait that joined later gets a BLPOP of its own.
        const now = Date.now();
        for (const waiter of [...blocker.waiters]) if (waiter.deadline <= now + 5) waiter.end();
      }
      this.#block(blocker);
    }, (error: unknown) => {
      blocker.inflight = false;
      const failure = this.#closed ? undefined : this.#error("wait for work", error);
      for (const waiter of [...blocker.waiters]) waiter.end(failure);
    });
  }

  #blocker(keys: string[]): Blocker {
    const id = keys.join(" ");
    let blocker = this.#blocking.get(id);
    if (blocker === undefined) {
      blocker = {
        conn: this.#duplicate(),
        keys,
        inflight: false,
        unclaimed: false,
        waiters: new Set(),
      };
      this.#blocking.set(id, blocker);
    }
    return blocker;
  }

  /** A new connection like the main one, for blocking calls. */
  #duplicate(): Client {
    const conn = this.#client instanceof Cluster
      ? this.#client.duplicate()
      : (this.#client as Redis).duplicate(ownOptions(this.#own ? this.#redisOptions : undefined));
    conn.on("error", (error: Error) => {
      this.#lastError = error;
    });
    return conn;
  }

  /**
   * The job, or null.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * console.log(await storage.getJob("welcome:42"));
   * await storage.close();
   * ```
   */
  async getJob(id: string): Promise<JobRecord | null> {
    const queue = await this.#queueOf("get job", id);
    if (queue === null) return null;
    let fields: (string | null)[];
    try {
      await this.#ready();
      fields = await this.#client.hmget(`${this.#tag(queue)}:job:${id}`, ...scripts.FIELDS);
    } catch (error) {
      throw this.#error("get job", error);
    }
    if (fields.every((v) => v === null)) return null;
    return toRecord(id, fields);
  }

  /**
   * Counts the jobs of a queue in each state, in one script call.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * console.log(await storage.counts("default"));
   * await storage.close();
   * ```
   */
  async counts(queue: string): Promise<Counts> {
    const reply = await this.#run("count jobs", SCRIPTS.counts, queue, [queue]) as number[];
    return {
      waiting: reply[0],
      delayed: reply[1],
      active: reply[2],
      completed: reply[3],
      failed: reply[4],
    };
  }

  /**
   * Lists jobs of a queue in one state, with paging.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const failed = await storage.list("default", "failed", { limit: 20 });
   * await storage.close();
   * ```
   */
  async list(queue: string, state: JobState, options: ListOptions = {}): Promise<JobRecord[]> {
    if (!JOB_STATES.includes(state)) {
      throw new RangeError(`Cannot list jobs: unknown state ${JSON.stringify(state)}`);
    }
    const offset = options.offset ?? 0;
    const limit = options.limit ?? 100;
    if (limit <= 0) return [];
    const reply = await this.#run("list jobs", SCRIPTS.list, queue, [
      queue,
      state,
      offset,
      limit,
    ]) as (string | null)[];
    const out: JobRecord[] = [];
    for (let i = 0; i < reply.length; i += NF + 1) {
      out.push(toRecord(reply[i] as string, reply.slice(i + 1, i + 1 + NF)));
    }
    return out;
  }

  /**
   * Moves a failed job back to waiting with a fresh attempt budget.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.retryFailed("welcome:42", Date.now());
   * await storage.close();
   * ```
   */
  async retryFailed(id: string, now: number): Promise<boolean> {
    const queue = await this.#queueOf("retry job", id);
    if (queue === null) return false;
    const retried = await this.#run("retry job", SCRIPTS.retryFailed, queue, [id, now]) === 1;
    if (retried) this.#madeWork([queue]);
    return retried;
  }

  /**
   * Deletes a job that is not active.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.remove("welcome:42");
   * await storage.close();
   * ```
   */
  async remove(id: string): Promise<boolean> {
    const queue = await this.#queueOf("remove job", id);
    if (queue === null) return false;
    const removed = await this.#run("remove job", SCRIPTS.remove, queue, [id, ""]) === 1;
    if (removed) await this.#forgetIds("remove job", [id]);
    return removed;
  }

  /**
   * Deletes a job only if it is failed: the check and the delete are one
   * script call.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.removeFailed("welcome:42");
   * await storage.close();
   * ```
   */
  async removeFailed(id: string): Promise<boolean> {
    const queue = await this.#queueOf("remove failed job", id);
    if (queue === null) return false;
    const args = [id, "failed"];
    const removed = await this.#run("remove failed job", SCRIPTS.remove, queue, args) === 1;
    if (removed) await this.#forgetIds("remove failed job", [id]);
    return removed;
  }

  /**
   * Stops reservations from a queue.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.pause("default");
   * await storage.close();
   * ```
   */
  async pause(queue: string): Promise<void> {
    try {
      await this.#ready();
      await this.#client.sadd(`${this.#tag(queue)}:paused`, queue);
    } catch (error) {
      throw this.#error("pause queue", error);
    }
  }

  /**
   * Lets reservations from a queue happen again and wakes its workers.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.resume("default");
   * await storage.close();
   * ```
   */
  async resume(queue: string): Promise<void> {
    await this.#run("resume queue", SCRIPTS.resume, queue, [`${this.#tag(queue)}:paused`, queue]);
    this.#madeWork([queue]);
  }

  /** Wakes this instance's waits on `queues` (null: every queue). */
  #madeWork(queues: readonly string[] | null): void {
    const made = ++this.#made;
    if (queues === null) this.#madeIn.clear();
    else for (const queue of queues) this.#madeIn.set(queue, made);
    this.#madeAll = queues === null ? made : this.#madeAll;
    for (const wait of this.#localWaits) {
      if (queues === null || wait.queues.some((queue) => queues.includes(queue))) wait.wake();
    }
  }

  /** Whether this instance made work on `queues` after its counter read `since`. */
  #madeSince(queues: readonly string[], since: number): boolean {
    if (this.#madeAll > since) return true;
    return queues.some((queue) => (this.#madeIn.get(queue) ?? 0) > since);
  }

  /**
   * Whether a queue is paused.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * console.log(await storage.isPaused("default"));
   * await storage.close();
   * ```
   */
  async isPaused(queue: string): Promise<boolean> {
    try {
      await this.#ready();
      return await this.#client.sismember(`${this.#tag(queue)}:paused`, queue) === 1;
    } catch (error) {
      throw this.#error("read queue state", error);
    }
  }

  /**
   * Removes finished jobs of a queue beyond `retention`, in bounded script
   * calls (each deletes at most a few hundred jobs, so Redis never stalls).
   *
   * @example
   * ```ts
   * import { DEFAULT_RETENTION } from "@taskmill/taskmill";
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const removed = await storage.prune("default", DEFAULT_RETENTION, Date.now());
   * await storage.close();
   * ```
   */
  async prune(queue: string, retention: Retention, now: number): Promise<number> {
    if (this.#queueTags) await this.#sweepIndex(now);
    let total = 0;
    for (;;) {
      const removed = await this.#run("prune jobs", SCRIPTS.prune, queue, [
        queue,
        now,
        ...retentionArgs(retention),
        PRUNE_BUDGET,
      ]) as string[];
      await this.#forgetIds("prune jobs", removed);
      total += removed.length;
      if (removed.length === 0) return total;
    }
  }

  /**
   * queueTags mode: one step of the id-index sweep, run by every prune. An
   * index entry is written before its job (the two live in different
   * slots), so a batch that failed or was killed in between leaves entries
   * for jobs that never came to be, as does a crash between deleting jobs
   * and their entries. Each step reads one page of the index (HSCAN) and
   * checks those jobs exist; an entry whose job is missing on two looks at
   * least INDEX_GRACE_MS apart (by the callers' `now`) is deleted, unless it
   * changed meanwhile. The grace spares the entries of an enqueue in flight.
   */
  async #sweepIndex(now: number): Promise<void> {
    let page: string[];
    try {
      await this.#ready();
      const [next, fields] = await this.#client.hscan(
        this.#indexKey(),
        this.#indexCursor,
        "COUNT",
        INDEX_SWEEP_PAGE,
      );
      this.#indexCursor = next;
      page = fields;
    } catch (error) {
      throw this.#error("sweep the id index", error);
    }
    const byQueue = new Map<string, string[]>();
    for (let i = 0; i < page.length; i += 2) {
      // Only names Queue allows: another name could hold a brace (another slot).
      if (!/^[A-Za-z0-9_.-]{1,100}$/.test(page[i + 1])) continue;
      let ids = byQueue.get(page[i + 1]);
      if (ids === undefined) byQueue.set(page[i + 1], ids = []);
      ids.push(page[i]);
    }
    const stale: string[] = [];
    await Promise.all([...byQueue].map(async ([queue, ids]) => {
      const exists = await this.#run("sweep the id index", SCRIPTS.exist, queue, ids) as number[];
      ids.forEach((id, n) => {
        if (exists[n] === 1) {
          this.#suspects.delete(id);
          return;
        }
        const suspect = this.#suspects.get(id);
        if (suspect === undefined || suspect.queue !== queue) {
          if (this.#suspects.size < SUSPECTS_MAX) {
            this.#suspects.set(id, { queue, since: now, pass: this.#indexPass });
          }
        } else if (now - suspect.since >= INDEX_GRACE_MS) {
          stale.push(id, queue);
          this.#suspects.delete(id);
        } else {
          suspect.pass = this.#indexPass;
        }
      });
    }));
    if (stale.length > 0) {
      await this.#call("sweep the id index", SCRIPTS.forgetStale, this.#indexKey(), ["", ...stale]);
    }
    if (this.#indexCursor === "0") {
      // A full pass is done: suspects it did not see again lost their entry
      // some other way.
      for (const [id, suspect] of this.#suspects) {
        if (suspect.pass !== this.#indexPass) this.#suspects.delete(id);
      }
      this.#indexPass++;
    }
  }

  /**
   * Closes the connections this storage opened (never a client you passed
   * in; the blocking connections it duplicated from yours are closed).
   * Returns within about 1 s whatever the server does: a server that does
   * not answer QUIT by then (frozen, unreachable) is disconnected.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const blocker of this.#blocking.values()) {
      for (const waiter of [...blocker.waiters]) waiter.end();
      blocker.conn.disconnect();
    }
    this.#blocking.clear();
    this.#leased.clear();
    this.#suspects.clear();
    if (this.#own) {
      const client = this.#client as Redis;
      if (client.status === "ready") {
        // QUIT lets queued replies arrive first; a server that does not answer
        // it (frozen, partitioned) is cut off after CLOSE_TIMEOUT_MS.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const cutOff = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        });
        await Promise.race([client.quit().catch(() => {}), cutOff]);
        clearTimeout(timer);
      }
      client.disconnect();
    }
  }
}

/** Longest wait, in ms of real time, of `close()` for QUIT before the connection is cut. */
const CLOSE_TIMEOUT_MS = 1_000;

/** The Redis commands a script's Lua calls (directly, or through its batching helpers). */
function commandsOf(lua: string): string[] {
  const found = new Set<string>();
  for (const match of lua.matchAll(/(?:redis\.p?call|defer|callMany)\('([A-Z]+)'/g)) {
    found.add(match[1]);
  }
  return [...found];
}

/**
 * Connection settings for connections this storage opens: fail a command
 * promptly when the server is unreachable (the worker backs off and calls
 * again) instead of queueing it for ever.
 */
function ownOptions(extra?: RedisConnectionOptions): RedisOptions {
  return {
    ...extra,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (times: number) => Math.min(times * 100, 2_000),
  };
}

function limitOf(policy: RetentionPolicy, key: "count" | "age"): number {
  const value = policy[key];
  return Number.isFinite(value) && value >= 0 ? value : -1;
}

/** Retention as script arguments: completed count and age, failed count and age. */
function retentionArgs(retention: Retention): number[] {
  return [
    limitOf(retention.completed, "count"),
    limitOf(retention.completed, "age"),
    limitOf(retention.failed, "count"),
    limitOf(retention.failed, "age"),
  ];
}

/** RESERVE's arguments after the key base. */
function reserveArgs(
  request: ReserveRequest,
  limit: number,
  pausedKey: string,
  queues: readonly string[],
): (string | number)[] {
  const args: (string | number)[] = [
    request.now,
    limit,
    request.owner,
    request.now + request.leaseMs,
    RECLAIM_MAX,
    PROMOTE_MAX,
    pausedKey,
    queues.length,
  ];
  for (const q of queues) args.push(q);
  args.push(encodeDefaults(request.taskDefaults));
  return args;
}

/** Appends SETTLE's arguments after the key base for `settlements[indexes]`. */
function pushSettleArgs(
  args: (string | number)[],
  settlements: readonly Settlement[],
  indexes: readonly number[],
  options: SettleOptions,
): void {
  const { now, retention } = options;
  if (retention) {
    args.push(now, ...retentionArgs(retention), PRUNE_BUDGET, indexes.length);
  } else {
    args.push(now, "", "", "", "", PRUNE_BUDGET, indexes.length);
  }
  // Per kind only what it needs: kind, id, token, then a result, an error,
  // a runAt (see SETTLE in _redis_scripts.ts).
  for (const i of indexes) {
    const s = settlements[i];
    switch (s.kind) {
      case "complete":
        if (s.result === undefined) args.push("c", s.id, s.token);
        else args.push("C", s.id, s.token, JSON.stringify(s.result));
        break;
      case "retry":
        args.push("r", s.id, s.token, JSON.stringify(s.error), s.runAt);
        break;
      case "fail":
        args.push("f", s.id, s.token, JSON.stringify(s.error));
        break;
      case "release":
        args.push("l", s.id, s.token, s.runAt ?? "");
        break;
      default:
        throw new TypeError(
          `Cannot settle job ${(s as Settlement).id}: unknown kind ${
            JSON.stringify((s as { kind: unknown }).kind)
          }`,
        );
    }
  }
}

/**
 * The packed field `d` without its trailing seq (the script adds it):
 * `priority|maxAttempts|maxStalls|timeout|enqueuedAt|runAt|queue|name|`.
 */
function packData(job: NewJob, now: number): string {
  // An unset setting (null: the task's) is an empty part, filled in by RESERVE.
  return `${job.priority}|${job.maxAttempts ?? ""}|${job.maxStalls ?? ""}|${job.timeout ?? ""}|` +
    `${now}|${job.runAt}|${job.queue}|${job.name}|`;
}

/** The encoded `taskDefaults` of each map seen (a worker passes the same map every time). */
const encodedDefaults = new WeakMap<ReadonlyMap<string, TaskSettings>, string>();

/**
 * `taskDefaults` as RESERVE's last argument: "\nname maxAttempts maxStalls
 * timeout" per task, which the script searches only for a reserved job with
 * an unset setting (see RESERVE). Checked and encoded once per map.
 */
function encodeDefaults(defaults: ReadonlyMap<string, TaskSettings> | undefined): string {
  if (defaults === undefined) return "";
  let text = encodedDefaults.get(defaults);
  if (text !== undefined) return text;
  const where = "Cannot reserve jobs: taskDefaults";
  if (!(defaults instanceof Map)) {
    throw new TypeError(`${where} must be a Map, got ${describe(defaults)}`);
  }
  text = "";
  for (const [name, settings] of defaults) {
    // Task names hold no space, newline or "|" (so the search cannot match across entries).
    validateName(name, `${where}: task name`, "task");
    if (typeof settings !== "object" || settings === null) {
      throw new TypeError(`${where} of "${name}" must be an object, got ${describe(settings)}`);
    }
    checkInt(settings.maxAttempts, 1, 1_000_000, `${where} of "${name}": maxAttempts`);
    checkInt(settings.maxStalls, 0, 1_000_000, `${where} of "${name}": maxStalls`);
    checkInt(settings.timeout, 0, 2_147_483_647, `${where} of "${name}": timeout`);
    text += `\n${name} ${settings.maxAttempts} ${settings.maxStalls} ${settings.timeout}`;
  }
  encodedDefaults.set(defaults, text);
  return text;
}

// ---- records ----------------------------------------------------------------

function num(value: string | null, name: string): number {
  if (value === null || value === "") throw new Error(`${name} is missing`);
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${name} is not a number`);
  return n;
}

function json(value: string, name: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new Error(`${name} is not valid JSON`);
  }
}

function jobError(value: unknown, name: string): JobError {
  const e = value as JobError;
  if (
    typeof e !== "object" || e === null || typeof e.message !== "string" ||
    typeof e.name !== "string"
  ) {
    throw new Error(`${name} is not an error record`);
  }
  return e;
}

/** A number in `d` between two separators. */
function numAt(d: string, from: number, to: number, name: string): number {
  if (to <= from) throw new Error(`${name} is missing`);
  const n = Number(d.slice(from, to));
  if (!Number.isFinite(n)) throw new Error(`${name} is not a number`);
  return n;
}

/** A field that is absent until first set (absent = 0). */
function count(value: string | null, name: string): number {
  return value === null ? 0 : num(value, name);
}

/**
 * The parts every record has: the packed field `d`, the payload, counters and
 * error history. A `state` or `runAt` that is absent comes from `d` (see
 * scripts.FIELDS). Throws when they do not parse.
 */
function baseRecord(
  id: string,
  state: string | null,
  d: string | null,
  payload: string | null,
  attempt: string | null,
  stalls: string | null,
  runAt: string | null,
  errors: string | null,
): JobRecord {
  if (d === null || d === "") throw new Error("the job data (field d) is missing");
  // priority|maxAttempts|maxStalls|timeout|enqueuedAt|runAt|queue|name|seq
  const at: number[] = [];
  for (let p = d.indexOf("|"); p >= 0; p = d.indexOf("|", p + 1)) at.push(p);
  // Part k (0-based) ends at at[k]; the parts are checked in order.
  const part = (k: number, name: string): number => {
    if (at.length <= k) throw new Error("the job data (field d) has too few parts");
    return numAt(d, k === 0 ? 0 : at[k - 1] + 1, at[k], name);
  };
  const priority = part(0, "priority");
  // Empty: unset, the task's (enqueued by name; RESERVE fills them in).
  const unsetOr = (k: number, name: string) => at[k] === at[k - 1] + 1 ? null : part(k, name);
  if (at.length < 4) throw new Error("the job data (field d) has too few parts");
  const maxAttempts = unsetOr(1, "maxAttempts");
  const maxStalls = unsetOr(2, "maxStalls");
  const timeout = unsetOr(3, "timeout");
  const enqueuedAt = part(4, "enqueuedAt");
  const firstRunAt = part(5, "runAt");
  if (at.length < 8) throw new Error("the job data (field d) has too few parts");
  const queue = d.slice(at[5] + 1, at[6]);
  if (queue === "") throw new Error("queue is missing");
  const name = d.slice(at[6] + 1, at[at.length - 1]);
  if (name === "") throw new Error("name is missing");
  if (payload === null) throw new Error("payload is missing");
  if (state === null) state = firstRunAt > enqueuedAt ? "delayed" : "waiting";
  else if (!JOB_STATES.includes(state as JobState)) throw new Error("state is not a job state");
  return {
    id,
    name,
    queue,
    payload: json(payload, "payload"),
    priority,
    attempt: count(attempt, "attempt"),
    maxAttempts,
    stalls: count(stalls, "stalls"),
    maxStalls,
    timeout,
    enqueuedAt,
    runAt: runAt === null ? firstRunAt : num(runAt, "runAt"),
    state: state as JobState,
    errors: errors === null || errors === ""
      ? []
      : errors.split("\n").map((e) => jobError(json(e, "errors"), "errors")),
  };
}

/** Fills the optional parts of a record. */
function optional(
  record: JobRecord,
  progress: string | null,
  result: string | null,
  error: string | null,
  raw: string | null,
): JobRecord {
  if (progress !== null) record.progress = json(progress, "progress") as JsonValue;
  if (result !== null) record.result = json(result, "result");
  if (error !== null) record.error = jobError(json(error, "error"), "error");
  if (raw !== null) record.raw = raw;
  return record;
}

/**
 * Builds a reserved job from a RESERVE reply: its RESERVE_FIELDS values
 * (`row`), plus what the script set. Throws when they do not parse.
 */
function parseReserved(
  id: string,
  queue: string,
  token: string,
  owner: string,
  now: number,
  expiresAt: number,
  row: (string | null)[],
): JobRecord {
  // RESERVE_FIELDS: d, payload, attempt, runAt, errors, then (only for a job
  // reserved before) stalls, progress, result, error, raw.
  const record = baseRecord(
    id,
    "active",
    row[0],
    row[1],
    row[2],
    row[5] ?? null,
    row[3],
    row[4],
  );
  if (record.queue !== queue) throw new Error("the job data (field d) names another queue");
  record.startedAt = now;
  record.lease = { owner, token, expiresAt };
  if (row.length === scripts.RESERVE_FIRST) return record;
  return optional(record, row[6], row[7], row[8], row[9]);
}

/** Builds a record from HMGET FIELDS values; throws when they do not parse. */
function parseRecord(id: string, f: (string | null)[]): JobRecord {
  const record = baseRecord(
    id,
    f[F_STATE],
    f[F_D],
    f[F_PAYLOAD],
    f[F_ATTEMPT],
    f[F_STALLS],
    f[F_RUN_AT],
    f[F_ERRORS],
  );
  const startedAt = f[F_STARTED];
  const finishedAt = f[F_FINISHED];
  const owner = f[F_OWNER];
  const token = f[F_TOKEN];
  const expiresAt = f[F_EXPIRES];
  if (startedAt !== null) record.startedAt = num(startedAt, "startedAt");
  if (finishedAt !== null) record.finishedAt = num(finishedAt, "finishedAt");
  if (record.state === "active" && owner !== null && token !== null && expiresAt !== null) {
    record.lease = { owner, token, expiresAt: num(expiresAt, "expiresAt") };
  }
  return optional(record, f[F_PROGRESS], f[F_RESULT], f[F_ERROR], f[F_RAW]);
}

/**
 * For reads (getJob, list): a record that does not parse is still shown,
 * best effort, with its raw fields in `raw` (reserve moves such records to
 * failed).
 */
function toRecord(id: string, f: (string | null)[]): JobRecord {
  try {
    return parseRecord(id, f);
  } catch {
    const raw: Record<string, string> = {};
    scripts.FIELDS.forEach((name, i) => {
      if (f[i] !== null) raw[name] = f[i] as string;
    });
    const n = (v: string | null | undefined) => {
      const x = Number(v);
      return v !== null && v !== undefined && v !== "" && Number.isFinite(x) ? x : 0;
    };
    // priority|maxAttempts|maxStalls|timeout|enqueuedAt|runAt|queue|name|seq
    const d = (f[F_D] ?? "").split("|");
    let payload: unknown = null;
    try {
      payload = f[F_PAYLOAD] === null ? null : JSON.parse(f[F_PAYLOAD]);
    } catch { /* kept in raw */ }
    return {
      id,
      name: d.length > 8 ? d.slice(7, -1).join("|") : "",
      queue: d[6] ?? "",
      payload,
      priority: n(d[0]),
      attempt: n(f[F_ATTEMPT]),
      maxAttempts: d[1] === "" ? null : n(d[1]),
      stalls: n(f[F_STALLS]),
      maxStalls: d[2] === "" ? null : n(d[2]),
      timeout: d[3] === "" ? null : n(d[3]),
      enqueuedAt: n(d[4]),
      runAt: n(f[F_RUN_AT] ?? d[5]),
      state: JOB_STATES.includes(f[F_STATE] as JobState)
        ? f[F_STATE] as JobState
        : f[F_STATE] === null && d.length > 8
        ? (n(d[5]) > n(d[4]) ? "delayed" : "waiting")
        : "failed",
      errors: [],
      raw: JSON.stringify(raw),
    };
  }
}
