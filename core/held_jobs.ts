/**
 * The jobs a worker holds a lease on, from reservation until their outcome
 * is stored (or they are handed back or lost).
 *
 * @module
 */

import { HeldJob } from "./held_job.ts";
import type { JobRecord } from "./task.ts";

/**
 * The held jobs, in no order: an array with swap-remove (each `HeldJob`
 * knows its index) rather than a map by id, since every job is added and
 * removed once and the hot path never looks one up by id.
 *
 * @example
 * ```ts ignore
 * const held = new HeldJobs();
 * const h = held.hold(reservedJob); // its lease is now this worker's to renew
 * held.remove(h); // settled, handed back or lost
 * console.log(held.size); // 0
 * ```
 */
export class HeldJobs {
  #list: HeldJob[] = [];
  #seq = 0;

  /** How many jobs are held. */
  get size(): number {
    return this.#list.length;
  }

  /** Holds `job`, just reserved: returns its `HeldJob`. */
  hold(job: JobRecord): HeldJob {
    const held = new HeldJob(job, ++this.#seq);
    // A job can come back while its old `HeldJob` stays here for long only if
    // its lease expired meanwhile (the reclaim counted a stall): the new
    // reservation replaces the old one, as one entry per id did. (A job
    // retried or released can come back only in the microtasks before its
    // old `HeldJob` is forgotten.) Other jobs need no search.
    if (job.stalls > 0) {
      const old = this.#list.find((h) => h.job.id === job.id);
      if (old !== undefined) this.#unhold(old);
    }
    held.index = this.#list.length;
    this.#list.push(held);
    return held;
  }

  /** Lets go of `held` (nothing happens if it is no longer held). */
  remove(held: HeldJob): void {
    if (held.index >= 0) this.#unhold(held);
  }

  /** The held jobs in reservation order (as one entry per id in a `Map` kept them). */
  inOrder(): HeldJob[] {
    return this.#list.slice().sort((a, b) => a.seq - b.seq);
  }

  #unhold(held: HeldJob): void {
    const list = this.#list;
    const last = list.pop()!;
    if (last !== held) {
      list[held.index] = last;
      last.index = held.index;
    }
    held.index = -1;
  }
}
