/**
 * Array-backed first-in first-out queue: O(1) push and shift, compacted as
 * the head advances.
 *
 * @example
 * ```ts
 * import { Fifo } from "./fifo.ts";
 *
 * const fifo = new Fifo<string>();
 * fifo.push("a");
 * fifo.push("b");
 * console.log(fifo.shift(), [...fifo.values()]); // "a" ["b"]
 * ```
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** The first item, left in place. */
  peek(): T | undefined {
    return this.#head === this.#items.length ? undefined : this.#items[this.#head];
  }

  *values(): Generator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T;
  }
}
