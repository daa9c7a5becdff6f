/**
 * Retention: deleting finished jobs beyond a queue's policy in bounded
 * script calls, and (with `queueTags`) sweeping id-index entries whose jobs
 * are gone.
 *
 * @module
 */

import type { Retention, RetentionPolicy } from "../../core/storage.ts";
import { SCRIPTS } from "./scripts.ts";
import type { Slots } from "./slots.ts";

/**
 * Most finished jobs one script call deletes per set (so Redis never stalls).
 *
 * @example
 * ```ts ignore
 * args.push(...retentionArgs(retention), PRUNE_BUDGET);
 * ```
 */
export const PRUNE_BUDGET = 200;
/** Id-index entries one prune call checks (an HSCAN COUNT hint). */
const INDEX_SWEEP_PAGE = 1_000;
/** How long an id-index entry may point at a missing job before the sweep deletes it. */
const INDEX_GRACE_MS = 5 * 60_000;
/** Most id-index entries the sweep watches at once (the rest wait for a later pass). */
const SUSPECTS_MAX = 10_000;

function limitOf(policy: RetentionPolicy, key: "count" | "age"): number {
  const value = policy[key];
  return Number.isFinite(value) && value >= 0 ? value : -1;
}

/**
 * Retention as script arguments: completed count and age, failed count and
 * age (-1: no limit).
 *
 * @example
 * ```ts ignore
 * args.push(...retentionArgs(DEFAULT_RETENTION));
 * ```
 */
export function retentionArgs(retention: Retention): number[] {
  return [
    limitOf(retention.completed, "count"),
    limitOf(retention.completed, "age"),
    limitOf(retention.failed, "count"),
    limitOf(retention.failed, "age"),
  ];
}

/**
 * Removes finished jobs of `queue` beyond `retention` (see RedisStorage.prune),
 * after one step of the id-index sweep with `queueTags`.
 *
 * @example
 * ```ts ignore
 * const removed = await prune(slots, sweep, "default", DEFAULT_RETENTION, Date.now());
 * ```
 */
export async function prune(
  slots: Slots,
  sweep: IndexSweep,
  queue: string,
  retention: Retention,
  now: number,
): Promise<number> {
  if (slots.queueTags) await sweep.step(now);
  let total = 0;
  for (;;) {
    const removed = await slots.run("prune jobs", SCRIPTS.prune, queue, [
      queue,
      now,
      ...retentionArgs(retention),
      PRUNE_BUDGET,
    ]) as string[];
    await slots.forgetIds("prune jobs", removed);
    total += removed.length;
    if (removed.length === 0) return total;
  }
}

/**
 * queueTags mode: the id-index sweep, one step per prune. An index entry is
 * written before its job (the two live in different slots), so a batch that
 * failed or was killed in between leaves entries for jobs that never came
 * to be, as does a crash between deleting jobs and their entries. Each step
 * reads one page of the index (HSCAN) and checks those jobs exist; an entry
 * whose job is missing on two looks at least INDEX_GRACE_MS apart (by the
 * callers' `now`) is deleted, unless it changed meanwhile. The grace spares
 * the entries of an enqueue in flight.
 *
 * @example
 * ```ts ignore
 * const sweep = new IndexSweep(slots);
 * await sweep.step(Date.now());
 * ```
 */
export class IndexSweep {
  #slots: Slots;
  #cursor = "0";
  #suspects = new Map<string, { queue: string; since: number; pass: number }>();
  #pass = 0;

  /** A sweep of the id index of `slots`. */
  constructor(slots: Slots) {
    this.#slots = slots;
  }

  /**
   * One step: a page of the index.
   *
   * @example
   * ```ts ignore
   * await sweep.step(Date.now());
   * ```
   */
  async step(now: number): Promise<void> {
    let page: string[];
    try {
      await this.#slots.connection.ready();
      const [next, fields] = await this.#slots.connection.client.hscan(
        this.#slots.indexKey,
        this.#cursor,
        "COUNT",
        INDEX_SWEEP_PAGE,
      );
      this.#cursor = next;
      page = fields;
    } catch (error) {
      throw this.#slots.connection.error("sweep the id index", error);
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
      const exists = await this.#slots.run(
        "sweep the id index",
        SCRIPTS.exist,
        queue,
        ids,
      ) as number[];
      ids.forEach((id, n) => {
        if (exists[n] === 1) {
          this.#suspects.delete(id);
          return;
        }
        const suspect = this.#suspects.get(id);
        if (suspect === undefined || suspect.queue !== queue) {
          if (this.#suspects.size < SUSPECTS_MAX) {
            this.#suspects.set(id, { queue, since: now, pass: this.#pass });
          }
        } else if (now - suspect.since >= INDEX_GRACE_MS) {
          stale.push(id, queue);
          this.#suspects.delete(id);
        } else {
          suspect.pass = this.#pass;
        }
      });
    }));
    if (stale.length > 0) {
      await this.#slots.connection.call(
        "sweep the id index",
        SCRIPTS.forgetStale,
        this.#slots.indexKey,
        ["", ...stale],
      );
    }
    if (this.#cursor === "0") {
      // A full pass is done: suspects it did not see again lost their entry
      // some other way.
      for (const [id, suspect] of this.#suspects) {
        if (suspect.pass !== this.#pass) this.#suspects.delete(id);
      }
      this.#pass++;
    }
  }

  /**
   * Forgets the entries it watches (on close).
   *
   * @example
   * ```ts ignore
   * sweep.clear();
   * ```
   */
  clear(): void {
    this.#suspects.clear();
  }
}
