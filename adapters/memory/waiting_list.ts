import { Fifo } from "./fifo.ts";
import type { Slot } from "./slot.ts";

/**
 * Waiting jobs of one queue, in reservation order: highest priority first,
 * then first in, first out. One FIFO per distinct priority plus the sorted
 * list of priorities orders exactly like a binary heap keyed on
 * (priority desc, sequence) would, with O(1) push and shift in the common
 * case of few distinct priorities. Removed jobs stay until shifted
 * (lazy deletion) and are skipped.
 *
 * @example
 * ```ts
 * import { WaitingList } from "./waiting_list.ts";
 * import { QueueData } from "./queue_data.ts";
 * import { Slot } from "./slot.ts";
 * import { Spec } from "./spec.ts";
 *
 * function slot(id: string, priority = 0): Slot {
 *   const job = { id, name: "t", queue: "q", payload: null, priority, maxAttempts: 1,
 *     maxStalls: 1, timeout: 0, runAt: 0 };
 *   return new Slot(job, new Spec(job, new QueueData("q"), 0), 0);
 * }
 * const waiting = new WaitingList();
 * waiting.push(slot("low", 0));
 * waiting.push(slot("high", 5));
 * waiting.push(slot("low2", 0));
 * console.log([...waiting.values()].map((s) => s.id)); // ["high", "low", "low2"]
 * console.log(waiting.shift()?.id); // "high"
 * ```
 */
export class WaitingList {
  #buckets = new Map<number, Fifo<Slot>>();
  /** Distinct priorities with a bucket, highest first. */
  #priorities: number[] = [];
  /** The bucket of `#priorities[0]`, so `shift` needs no map lookup. */
  #top: Fifo<Slot> | undefined = undefined;

  push(slot: Slot): void {
    const priority = slot.priority;
    // Most pushes go to the top bucket (jobs of one priority): no lookup then.
    let bucket = this.#priorities[0] === priority ? this.#top : this.#buckets.get(priority);
    if (bucket === undefined) {
      bucket = new Fifo();
      this.#buckets.set(priority, bucket);
      let i = 0;
      while (i < this.#priorities.length && this.#priorities[i] > priority) i++;
      this.#priorities.splice(i, 0, priority);
      if (i === 0) this.#top = bucket;
    }
    bucket.push(slot);
  }

  shift(): Slot | undefined {
    while (this.#top !== undefined) {
      const bucket = this.#top;
      for (let slot = bucket.shift(); slot !== undefined; slot = bucket.shift()) {
        if (!slot.removed) return slot;
      }
      this.#buckets.delete(this.#priorities.shift()!);
      this.#top = this.#priorities.length > 0 ? this.#buckets.get(this.#priorities[0]) : undefined;
    }
    return undefined;
  }

  *values(): Generator<Slot> {
    for (const priority of this.#priorities) {
      for (const slot of this.#buckets.get(priority)!.values()) {
        if (!slot.removed) yield slot;
      }
    }
  }
}
