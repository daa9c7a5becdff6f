/**
 * A binary min-heap under `less`.
 *
 * @example
 * ```ts
 * import { Heap } from "./heap.ts";
 *
 * const heap = new Heap<number>((a, b) => a < b);
 * for (const n of [5, 1, 3]) heap.push(n);
 * console.log(heap.pop(), heap.peek(), heap.size); // 1 3 2
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
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(item, items[parent])) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.#items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      while (true) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && this.#less(items[child + 1], items[child])) child++;
        if (!this.#less(items[child], last)) break;
        items[i] = items[child];
        i = child;
      }
      items[i] = last;
    }
    return top;
  }

  toArray(): T[] {
    return this.#items.slice();
  }
}
