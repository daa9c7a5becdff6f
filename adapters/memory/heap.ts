/**
 * A binary min-heap under `less`.
 *
 * @example
 * ```ts
 * import { Heap } from "./heap.ts";
 *
 * const heap = new Heap<number>((a, b) => a < b);
 * for (const n of [5, 1, 3, 4]) heap.push(n);
 * console.log(heap.pop(), heap.delete(3), heap.peek(), heap.size); // 1 true 4 2
 * ```
 */
export class Heap<T> {
  #items: T[] = [];
  #less: (a: T, b: T) => boolean;

  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    this.#place(items.length - 1, item);
  }

  pop(): T | undefined {
    const items = this.#items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) this.#place(0, last);
    return top;
  }

  /**
   * Takes `item` out wherever it is; false if it is not in the heap. Finding
   * it is O(n), which suits rare calls (an admin's "run now"), not hot paths.
   * Call it before changing what `less` reads of `item`.
   */
  delete(item: T): boolean {
    const items = this.#items;
    const index = items.indexOf(item);
    if (index === -1) return false;
    const last = items.pop()!;
    if (index < items.length) this.#place(index, last);
    return true;
  }

  /** Puts `item` into the hole at `i`, moving it up or down to where it belongs. */
  #place(i: number, item: T): void {
    const items = this.#items;
    const start = i;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(item, items[parent])) break;
      items[i] = items[parent];
      i = parent;
    }
    if (i === start) {
      const n = items.length;
      while (true) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && this.#less(items[child + 1], items[child])) child++;
        if (!this.#less(items[child], item)) break;
        items[i] = items[child];
        i = child;
      }
    }
    items[i] = item;
  }

  toArray(): T[] {
    return this.#items.slice();
  }
}
