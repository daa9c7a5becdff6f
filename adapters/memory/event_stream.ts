import type { StorageEvent } from "../../core/storage_events.ts";

/**
 * One stream of MemoryStorage's events (a queue's, or the workers'): a
 * bounded log whose ids count 1, 2, ... without gaps. It keeps exactly its
 * last `backlog` events; older ones are dropped (the array is compacted
 * once the dropped prefix is as long as the backlog, so appends stay O(1)
 * amortized). Events are stored as given, with no copy: readers copy them.
 *
 * @example
 * ```ts
 * import { EventStream } from "./event_stream.ts";
 *
 * const stream = new EventStream("default", 2, () => {});
 * for (const jobId of ["a", "b", "c"]) {
 *   stream.append({ id: "", at: 0, queue: "default", jobId, type: "removed" });
 * }
 * console.log(stream.lastId, stream.after(0, 10).map((event) => event.id)); // 3 ["2", "3"]
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

  /** Gives `event` the next id and keeps it, dropping the oldest beyond the backlog. */
  append(event: StorageEvent): void {
    event.id = String(++this.#lastId);
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

  /** Up to `limit` kept events with ids above `after`, oldest first (the stored objects). */
  after(after: number, limit: number): StorageEvent[] {
    const kept = this.#items.length - this.#head;
    const firstId = this.#lastId - kept + 1;
    const start = this.#head + Math.max(0, after + 1 - firstId);
    const end = Math.min(this.#items.length, start + limit);
    return start >= end ? [] : this.#items.slice(start, end);
  }
}
