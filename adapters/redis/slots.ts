/**
 * Where a queue's keys live: the hash tag of its slot (one shared tag, or
 * one per queue with `queueTags`), running a script in that slot, and, with
 * `queueTags`, finding a job's queue from its id (the id index, with a cache
 * of the jobs this instance holds leases on).
 *
 * @module
 */

import type { RedisConnection, Reply } from "./connection.ts";
import type { LoadedScript } from "./scripts.ts";

/** Most entries of the queueTags lease cache (a worker holds at most 2 000 jobs). */
const LEASED_MAX = 100_000;

/**
 * The slots of one storage (see the module doc).
 *
 * @example
 * ```ts ignore
 * const slots = new Slots(connection, "taskmill", false);
 * await slots.run("count jobs", SCRIPTS.counts, "default", ["default"]);
 * ```
 */
export class Slots {
  readonly connection: RedisConnection;
  readonly prefix: string;
  readonly queueTags: boolean;
  /** The id index: id → queue (queueTags mode only). */
  readonly indexKey: string;
  // queueTags mode: queues of the jobs this instance holds leases on (a
  // cache in front of the id index: see remember).
  readonly leased: Map<string, string> = new Map();
  /** Events kept per stream (0: none written). */
  readonly eventBacklog: number;
  /** What follows the key base in a script's ARGV[1]: the backlog (see lua/snippet.ts). */
  readonly #baseSuffix: string;

  /** Routes by `prefix`, one tag per queue when `queueTags`. */
  constructor(
    connection: RedisConnection,
    prefix: string,
    queueTags: boolean,
    eventBacklog = 0,
  ) {
    this.connection = connection;
    this.prefix = prefix;
    this.queueTags = queueTags;
    this.indexKey = `{${prefix}}:ids`;
    this.eventBacklog = eventBacklog;
    this.#baseSuffix = eventBacklog > 0 ? `\n${eventBacklog}` : "";
  }

  /**
   * The hash tag of `queue`'s keys.
   *
   * @example
   * ```ts ignore
   * const pausedKey = `${slots.tag("default")}:paused`;
   * ```
   */
  tag(queue: string): string {
    return this.queueTags ? `{${this.prefix}:${queue}}` : `{${this.prefix}}`;
  }

  /**
   * Runs a script in the slot of `queue` (its key base first in ARGV).
   *
   * @example
   * ```ts ignore
   * await slots.run("resume queue", SCRIPTS.resume, "default", [pausedKey, "default"]);
   * ```
   */
  run(
    what: string,
    script: LoadedScript,
    queue: string,
    args: (string | number)[],
  ): Promise<Reply> {
    const tag = this.tag(queue);
    return this.connection.call(what, script, `${tag}:seq`, [
      `${tag}:${this.#baseSuffix}`,
      ...args,
    ]);
  }

  /**
   * Runs a script in the slot of the prefix's own tag `{prefix}` (the id
   * index's, and the worker registry's).
   *
   * @example
   * ```ts ignore
   * await slots.runShared("list workers", SCRIPTS.listWorkers, [Date.now()]);
   * ```
   */
  runShared(what: string, script: LoadedScript, args: (string | number)[]): Promise<Reply> {
    const tag = `{${this.prefix}}`;
    return this.connection.call(what, script, `${tag}:seq`, [
      `${tag}:${this.#baseSuffix}`,
      ...args,
    ]);
  }

  /**
   * queueTags mode: the queues owning `ids` (null when unknown).
   *
   * @example
   * ```ts ignore
   * const [queue] = await slots.queuesOf("get job", ["a"]);
   * ```
   */
  async queuesOf(what: string, ids: readonly string[]): Promise<(string | null)[]> {
    const out: (string | null)[] = ids.map((id) => this.leased.get(id) ?? null);
    const missing = ids.filter((_, i) => out[i] === null);
    if (missing.length === 0) return out;
    const found = await this.connection.command(
      what,
      () => this.connection.commands.hmget(this.indexKey, missing),
    );
    let j = 0;
    for (let i = 0; i < out.length; i++) if (out[i] === null) out[i] = found[j++];
    return out;
  }

  /**
   * The queue whose slot holds job `id` ("" without queueTags; null: unknown).
   *
   * @example
   * ```ts ignore
   * const queue = await slots.queueOf("remove job", "a");
   * ```
   */
  async queueOf(what: string, id: string): Promise<string | null> {
    if (!this.queueTags) return "";
    return (await this.queuesOf(what, [id]))[0];
  }

  /**
   * Groups ids by the queue whose slot holds them (one group without queueTags).
   *
   * @example
   * ```ts ignore
   * for (const [queue, indexes] of await slots.group("settle jobs", ids)) {}
   * ```
   */
  async group(what: string, ids: readonly string[]): Promise<Map<string, number[]>> {
    const groups = new Map<string, number[]>();
    if (!this.queueTags) {
      groups.set("", ids.map((_, i) => i));
      return groups;
    }
    const queues = await this.queuesOf(what, ids);
    queues.forEach((queue, i) => {
      if (queue === null) return; // unknown id: refused (false)
      let group = groups.get(queue);
      if (group === undefined) groups.set(queue, group = []);
      group.push(i);
    });
    return groups;
  }

  /**
   * Caches the queue of a job this instance reserved. Entries go when the
   * job is settled or its lease is found lost (extendLeases, setProgress);
   * the cap bounds the map even if a caller never comes back for a job,
   * which only costs an id-index lookup for that job.
   *
   * @example
   * ```ts ignore
   * slots.remember("a", "default");
   * ```
   */
  remember(id: string, queue: string): void {
    if (this.leased.size >= LEASED_MAX) {
      this.leased.delete(this.leased.keys().next().value as string);
    }
    this.leased.set(id, queue);
  }

  /**
   * queueTags mode: deletes the id-index entries of deleted jobs.
   *
   * @example
   * ```ts ignore
   * await slots.forgetIds("remove job", ["a"]);
   * ```
   */
  async forgetIds(what: string, ids: readonly string[]): Promise<void> {
    if (!this.queueTags || ids.length === 0) return;
    await this.connection.command(what, () => this.connection.commands.hdel(this.indexKey, ids));
  }
}
