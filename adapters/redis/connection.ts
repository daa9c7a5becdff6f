/**
 * RedisStorage's connection: the ioredis client (its own from a URL, or the
 * caller's `Redis` or `Cluster`), connecting on first use, running scripts
 * by EVALSHA, the server setup check (maxmemory-policy), duplicated
 * connections for blocking calls, and closing.
 *
 * @module
 */

import { Cluster, Redis } from "ioredis";
import type { RedisOptions } from "ioredis";
import { StorageError, StorageWarning } from "../../core/errors.ts";
import { type Denied, deniedCommands, storageError } from "./errors.ts";
import type { CheckedOptions, RedisConnectionOptions } from "./options.ts";
import { redactRedisUrl } from "./redact.ts";
import type { LoadedScript } from "./scripts.ts";

/**
 * An ioredis client.
 *
 * @example
 * ```ts ignore
 * const client: Client = new Redis("redis://127.0.0.1:6379");
 * ```
 */
export type Client = Redis | Cluster;

/**
 * A script's reply.
 *
 * @example
 * ```ts ignore
 * const rows = await connection.call(...) as Reply[];
 * ```
 */
export type Reply = string | number | null | Reply[];

/**
 * The commands sent with argument arrays (ioredis flattens them), so that no
 * batch is spread into a function call: see `send`.
 *
 * @example
 * ```ts ignore
 * await connection.commands.hdel("{taskmill}:ids", ids);
 * ```
 */
export interface ArrayCommands {
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

/** Longest wait, in ms of real time, of `close()` for QUIT before the connection is cut. */
const CLOSE_TIMEOUT_MS = 1_000;

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

/**
 * One storage's connection to Redis (see the module doc).
 *
 * @example
 * ```ts ignore
 * const connection = new RedisConnection(checkOptions({ url: "redis://127.0.0.1:6379" }));
 * await connection.ready();
 * ```
 */
export class RedisConnection {
  /** The main client (ours is replaced after a failed first connect). */
  client: Client;
  /** Whether `client` is ours (opened from `url`), to close. */
  readonly own: boolean;
  /** The password, redacted from every message. */
  readonly secret: string | undefined;
  /** Set by `close()`: every later call fails. */
  closed = false;
  #url: string | undefined;
  #redisOptions: RedisConnectionOptions | undefined;
  #connecting: Promise<void> | undefined;
  #lastError: Error | undefined;
  #onWarning: (warning: StorageWarning) => void;
  #warnings: StorageWarning[] = [];
  // The setup check of the current connection (see #inspect).
  #inspection: Promise<void> | undefined;

  /** Opens nothing yet: ours connects on first use. */
  constructor(options: CheckedOptions) {
    this.secret = options.secret;
    this.#redisOptions = options.redisOptions;
    this.#onWarning = options.onWarning;
    if (options.client !== undefined) {
      this.client = options.client as Client;
      this.own = false;
    } else {
      this.#url = options.url as string;
      this.own = true;
      this.client = this.#open(this.#url);
    }
  }

  /**
   * The client, for the commands sent with argument arrays.
   *
   * @example
   * ```ts ignore
   * await connection.commands.hmget(key, fields);
   * ```
   */
  get commands(): ArrayCommands {
    return this.client as unknown as ArrayCommands;
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
      : `Redis at ${redactRedisUrl(this.#url, this.secret)}`;
    let info: string;
    try {
      info = await this.client.info("memory");
    } catch (error) {
      if (this.closed) return;
      if (!/NOPERM|no permissions/i.test(String(error))) {
        // Not connected: ours checks again on its next connect, a given
        // client on its next use.
        if (!this.own) this.#inspection = undefined;
        return;
      }
      const user = this.user();
      this.#warn(
        "eviction-policy-unknown",
        `Cannot check the maxmemory-policy of ${where}: the Redis user "${user}" may ` +
          `not run INFO (grant it with ACL SETUSER ${user} +info). Make sure it is ` +
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
   * What the setup checks found so far, oldest first.
   *
   * @example
   * ```ts ignore
   * for (const warning of connection.warnings) console.error(warning.message);
   * ```
   */
  get warnings(): readonly StorageWarning[] {
    return [...this.#warnings];
  }

  /**
   * Connects if needed, waits for the setup check, returns every warning so far.
   *
   * @example
   * ```ts ignore
   * const warnings = await connection.checkSetup();
   * ```
   */
  async checkSetup(): Promise<StorageWarning[]> {
    await this.ready();
    this.#inspection ??= this.#inspect();
    await this.#inspection;
    return [...this.#warnings];
  }

  /**
   * `Cannot <what>: ...` as a StorageError (see `errors.ts`).
   *
   * @example
   * ```ts ignore
   * throw connection.error("pause queue", error);
   * ```
   */
  error(what: string, cause: unknown, denied?: Denied): StorageError {
    return storageError(what, cause, this.secret, () => this.user(), denied);
  }

  /**
   * The ACL user this storage connects as, for messages (never the password).
   *
   * @example
   * ```ts ignore
   * console.log(connection.user()); // "default"
   * ```
   */
  user(): string {
    if (this.#url !== undefined) {
      try {
        const user = decodeURIComponent(new URL(this.#url).username);
        if (user !== "") return user;
      } catch { /* not a URL: the default user */ }
    }
    const options = (this.client as {
      options?: { username?: string; redisOptions?: { username?: string } };
    }).options;
    return options?.username ?? options?.redisOptions?.username ?? "default";
  }

  /**
   * Connects our own client on first use, with a bounded wait.
   *
   * @example
   * ```ts ignore
   * await connection.ready();
   * ```
   */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError("RedisStorage is closed"));
    if (!this.own) return Promise.resolve();
    const client = this.client as Redis;
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
        if (!this.closed) this.client = this.#open(this.#url as string);
        throw this.error(
          `connect to ${redactRedisUrl(this.#url as string, this.secret)}`,
          this.#lastError ?? error,
        );
      });
    }
    return this.#connecting;
  }

  /**
   * Runs plain commands (`run`) once connected, their errors wrapped as a
   * script call's are (`what` names the storage call).
   *
   * @example
   * ```ts ignore
   * const paused = await connection.command("read queue state", () => client.sismember(key, q));
   * ```
   */
  async command<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      await this.ready();
      return await run();
    } catch (error) {
      throw this.error(what, error);
    }
  }

  /**
   * Runs `script` with KEYS[1] = `key` and `args` as ARGV.
   *
   * @example
   * ```ts ignore
   * const reply = await connection.call("count jobs", SCRIPTS.counts, "{t}:seq", ["{t}:", "q"]);
   * ```
   */
  call(
    what: string,
    script: LoadedScript,
    key: string,
    args: (string | number)[],
  ): Promise<Reply> {
    // Connected and the script hashed (the usual case): the command goes out
    // now, so calls made in a row reach the wire in that order at once.
    if (
      script.hash !== undefined && !this.closed &&
      (!this.own || (this.client as Redis).status === "ready")
    ) {
      return this.#send(what, script, script.hash, key, args);
    }
    return this.#callLater(what, script, key, args);
  }

  async #callLater(what: string, script: LoadedScript, key: string, args: (string | number)[]) {
    let sha: string;
    try {
      await this.ready();
      sha = await script.sha;
    } catch (error) {
      throw error instanceof StorageError ? error : this.error(what, error);
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
    const client = this.commands;
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
        const evalScript = (lua: string, k: string, a: readonly string[]) =>
          client.eval(lua, 1, k, a);
        throw this.error(what, error, await deniedCommands(evalScript, script, key));
      }
      throw this.error(what, error);
    }
  }

  /**
   * A new connection like the main one, for blocking calls.
   *
   * @example
   * ```ts ignore
   * const conn = connection.duplicate();
   * ```
   */
  duplicate(): Client {
    const conn = this.client instanceof Cluster
      ? this.client.duplicate()
      : (this.client as Redis).duplicate(ownOptions(this.own ? this.#redisOptions : undefined));
    conn.on("error", (error: Error) => {
      this.#lastError = error;
    });
    return conn;
  }

  /**
   * Marks the connection closed and closes our own client (never a given
   * one) within about CLOSE_TIMEOUT_MS: a server that does not answer QUIT
   * by then (frozen, unreachable) is disconnected.
   *
   * @example
   * ```ts ignore
   * await connection.close();
   * ```
   */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.own) return;
    const client = this.client as Redis;
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
