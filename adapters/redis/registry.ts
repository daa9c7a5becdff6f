/**
 * What RedisStorage records beside jobs: the set of the prefix's queues
 * (`{prefix}:queues`, one SADD the first time this storage writes to a
 * queue, so no KEYS or SCAN is ever needed to list them) and the registry
 * of live workers (`{prefix}:w:info` and `{prefix}:w:exp`, with their
 * events in the workers' stream: see `lua/workers.ts`).
 *
 * @module
 */

import type { QueueSummary, WorkerInfo } from "../../core/storage_events.ts";
import { counts, isPaused } from "./admin.ts";
import { SCRIPTS } from "./scripts.ts";
import type { Slots } from "./slots.ts";

/**
 * The queue set of one storage, with the names it has added already.
 *
 * @example
 * ```ts ignore
 * const queues = new QueueSet(slots);
 * await queues.add("enqueue jobs", jobs);
 * console.log(await queues.list());
 * ```
 */
export class QueueSet {
  #slots: Slots;
  #known = new Set<string>();

  /** The queue set of `slots`' prefix. */
  constructor(slots: Slots) {
    this.#slots = slots;
  }

  get #key(): string {
    return `{${this.#slots.prefix}}:queues`;
  }

  /**
   * Adds the queues of `items` that this storage has not added yet (one
   * SADD; nothing in the usual case). Called before the write that makes
   * the queue exist, so a queue with jobs is always in the set.
   *
   * @example
   * ```ts ignore
   * await queues.add("enqueue jobs", [{ queue: "default" }]);
   * ```
   */
  add(what: string, items: readonly { queue: string }[]): Promise<void> | undefined {
    let fresh: string[] | undefined;
    let last: string | undefined;
    for (let i = 0; i < items.length; i++) {
      const queue = items[i].queue;
      if (queue === last || this.#known.has(queue)) continue;
      last = queue;
      (fresh ??= []).includes(queue) || fresh.push(queue);
    }
    if (fresh === undefined) return undefined;
    const names = fresh;
    return (async () => {
      const connection = this.#slots.connection;
      await connection.command(what, () => connection.client.sadd(this.#key, ...names));
      for (const name of names) this.#known.add(name);
    })();
  }

  /**
   * Every queue of the set, by name, with its counts and paused flag.
   *
   * @example
   * ```ts ignore
   * for (const { name, counts } of await queues.list()) console.log(name, counts.waiting);
   * ```
   */
  async list(): Promise<QueueSummary[]> {
    const connection = this.#slots.connection;
    const names = await connection.command(
      "list queues",
      () => connection.client.smembers(this.#key),
    );
    names.sort();
    return await Promise.all(names.map(async (name) => {
      const [c, paused] = await Promise.all([
        counts(this.#slots, name),
        isPaused(this.#slots, name),
      ]);
      return { name, counts: c, paused };
    }));
  }
}

/**
 * Records a live worker (see the port's `registerWorker`).
 *
 * @example
 * ```ts ignore
 * await registerWorker(slots, info, "online", 15_000, Date.now());
 * ```
 */
export async function registerWorker(
  slots: Slots,
  worker: WorkerInfo,
  kind: "online" | "heartbeat",
  ttlMs: number,
  now: number,
): Promise<void> {
  await slots.runShared("register worker", SCRIPTS.registerWorker, [
    now,
    kind === "online" ? "o" : "h",
    worker.id,
    JSON.stringify(worker),
    now + ttlMs,
  ]);
}

/**
 * Removes a worker's registration (see the port's `unregisterWorker`).
 *
 * @example
 * ```ts ignore
 * await unregisterWorker(slots, "worker-1", Date.now());
 * ```
 */
export async function unregisterWorker(slots: Slots, id: string, now: number): Promise<void> {
  await slots.runShared("unregister worker", SCRIPTS.unregisterWorker, [now, id]);
}

/**
 * The workers alive at `now`, by id (see the port's `workers`).
 *
 * @example
 * ```ts ignore
 * const alive = await listWorkers(slots, Date.now());
 * ```
 */
export async function listWorkers(slots: Slots, now: number): Promise<WorkerInfo[]> {
  const reply = await slots.runShared("list workers", SCRIPTS.listWorkers, [now]) as string[];
  const workers = reply.map((text) => JSON.parse(text) as WorkerInfo);
  return workers.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
