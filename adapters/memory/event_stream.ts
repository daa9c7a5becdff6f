import type { StorageEvent } from "../../core/storage_events.ts";

/**
 * One stream of MemoryStorage's events (a queue's, or the workers'): a
 * bounded log whose ids count 1, 2, ... without gaps. It keeps exactly its
 * last `backlog` events; older ones are dropped (the array is compacted
 * once the dropped prefix is as long as the backlog, so appends stay O(1)
 * amortized). Events are stored as given, with no copy and without their
 * id, which their place tells: readers get copies with it (`after`), so a
 * write costs no string.
 *
 * @example
 * ```ts
 * import { EventStream } from "./event_stream.ts";
 *
 * const stream = new EventStream("default", 2, () => {});
 * for (const jobId of ["a", "b", "c"]) {
 *   stream.append({ id: "", at: 0, queue: "default", jobId, type: "removed" });
 * }
 * const kept = stream.after(0, 10, (event) => ({ ...event }));
console.log(stream.lastId, kept.map((event) => event.id)); // 3 ["2", "3"]
 * ```
 */
export class EventStream {
  readonly name: string;
  #items: StorageEvent[] = [];
  /** Index in `#items` of the oldest event kept. */
  #head = 0;
  #lastId = 0;
  readonly #backlog: number;
  readonly #onAppend: (stream: string) => void;

  /** An empty stream keeping `backlog` (>= 1) events; `onAppend` wakes its readers. */
  constructor(name: string, backlog: number, onAppend: (stream: string) => void) {
    this.name = name;
    this.#backlog = backlog;
    this.#onAppend = onAppend;
  }

  /** The id of the newest event (0: none yet). */
  get lastId(): number {
    return this.#lastId;
  }

  /** Keeps `event` as the next one (its `id` is left as given), dropping the oldest beyond the backlog. */
  append(event: StorageEvent): void {
    ++this.#lastId;
    const items = this.#items;
    items.push(event);
    if (items.length - this.#head > this.#backlog) {
      items[this.#head++] = undefined as unknown as StorageEvent; // let it be collected
      if (this.#head >= this.#backlog) {
        this.#items = items.slice(this.#head);
        this.#head = 0;
      }
    }
    this.#onAppend(this.name);
  }

  /**
   * Up to `limit` kept events with ids above `after`, oldest first, each a
   * copy made by `copy` and given its id.
   */
  after(after: number, limit: number, copy: (event: StorageEvent) => StorageEvent): StorageEvent[] {
    const items = this.#items;
    const firstId = this.#lastId - (items.length - this.#head) + 1;
    const skip = Math.max(0, after + 1 - firstId);
    const start = this.#head + skip;
    const end = Math.min(items.length, start + limit);
    const found: StorageEvent[] = [];
    for (let i = start; i < end; i++) {
      const event = copy(items[i]);
      event.id = String(firstId + skip + (i - start));
      found.push(event);
    }
    return found;
  }
}
