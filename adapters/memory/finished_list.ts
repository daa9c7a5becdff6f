import type { Slot } from "./slot.ts";

/**
 * Finished (completed or failed) jobs of one queue in the order they
 * finished, so retention drops from the front in O(removed). An array with a
 * moving head rather than a `Map` by id: every settle adds one and prunes
 * one, and array pushes cost no hashing. Jobs that leave the state
 * otherwise (`remove`, `retryFailed`) are not searched for: each entry keeps
 * the `seq` its job had when it finished, and an entry whose job was since
 * removed or moved (which gives it a new `seq`) is stale and skipped.
 *
 * @example
 * ```ts
 * import { FinishedList } from "./finished_list.ts";
 * import { QueueData } from "./queue_data.ts";
 * import { Slot } from "./slot.ts";
 * import { Spec } from "./spec.ts";
 *
 * function slot(id: string, priority = 0): Slot {
 *   const job = { id, name: "t", queue: "q", payload: null, priority, maxAttempts: 1,
 *     maxStalls: 1, timeout: 0, runAt: 0 };
 *   return new Slot(job, new Spec(job, new QueueData("q"), 0), 0);
 * }
 * const done = new FinishedList("completed");
 * const [a, b] = [slot("a"), slot("b")];
 * a.state = b.state = "completed";
 * done.push(a, 1);
 * done.push(b, 2);
 * b.removed = true; // deleted: its entry goes stale
 * console.log([...done.newestFirst()].map((s) => s.id)); // ["a"]
 * ```
 */
export class FinishedList {
  readonly state: "completed" | "failed";
  #slots: (Slot | undefined)[] = [];
  #seqs: number[] = [];
  #head = 0;

  constructor(state: "completed" | "failed") {
    this.state = state;
  }

  /** Whether entry `i` still stands for its job. */
  #live(i: number): boolean {
    const slot = this.#slots[i]!;
    return !slot.removed && slot.state === this.state && slot.seq === this.#seqs[i];
  }

  /** Appends `slot`, which just finished with its current `seq`; `live` is how many are live. */
  push(slot: Slot, live: number): void {
    this.#slots.push(slot);
    this.#seqs.push(slot.seq);
    // Stale entries are otherwise dropped only when pruning reaches them:
    // compact once they outnumber live ones, so the list stays O(live).
    const length = this.#slots.length - this.#head;
    if (length > 1024 && length > 2 * live) this.#compact();
  }

  /** The oldest live entry, dropping stale ones before it. */
  peek(): Slot | undefined {
    while (this.#head < this.#slots.length && !this.#live(this.#head)) this.#drop();
    return this.#slots[this.#head];
  }

  /** Drops the front entry (after `peek`). */
  shift(): void {
    this.#drop();
  }

  /** Live entries, newest first. */
  *newestFirst(): Generator<Slot> {
    for (let i = this.#slots.length - 1; i >= this.#head; i--) {
      if (this.#live(i)) yield this.#slots[i]!;
    }
  }

  #drop(): void {
    this.#slots[this.#head++] = undefined;
    if (this.#head === this.#slots.length) {
      this.#slots = [];
      this.#seqs = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#seqs = this.#seqs.slice(this.#head);
      this.#head = 0;
    }
  }

  #compact(): void {
    const slots: Slot[] = [];
    const seqs: number[] = [];
    for (let i = this.#head; i < this.#slots.length; i++) {
      if (!this.#live(i)) continue;
      slots.push(this.#slots[i]!);
      seqs.push(this.#seqs[i]);
    }
    this.#slots = slots;
    this.#seqs = seqs;
    this.#head = 0;
  }
}
