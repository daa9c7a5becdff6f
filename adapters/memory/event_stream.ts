import type { StorageEvent } from "../../core/storage_events.ts";
import { type KindCode, StoredEvent, toStorageEvent } from "./stored_event.ts";

/** What a stream tells of its appends: whether anyone waits, and how to wake them. */
export interface StreamHost {
  /** Blocking reads pending (0: nobody to wake, the common case). */
  readonly waiting: number;
  /** Wakes the reads waiting on `stream`. */
  wake(stream: string): void;
}

/**
 * One stream of MemoryStorage's events (a queue's, or the workers'): a ring
 * of its last `backlog` events whose ids count 1, 2, ... without gaps. An
 * event is stored as a small {@linkcode StoredEvent} at the slot its id
 * gives, overwriting the one `backlog` older; the public event is built
 * only when read (`after`).
 *
 * @example
 * ```ts
 * import { EventStream } from "./event_stream.ts";
 * import { Kind } from "./stored_event.ts";
 *
 * const stream = new EventStream("default", 2, { waiting: 0, wake() {} });
 * for (const jobId of ["a", "b", "c"]) stream.add(Kind.removed, 0, jobId, 0, undefined);
 * console.log(stream.lastId, stream.after(0, 10).map((event) => event.id)); // 3 ["2", "3"]
 * ```
 */
export class EventStream {
  readonly name: string;
  readonly #ring: StoredEvent[] = [];
  /** The slot the next event takes. */
  #slot = 0;
  #lastId = 0;
  readonly #backlog: number;
  readonly #host: StreamHost;

  /** An empty stream keeping `backlog` (>= 1) events; `host` wakes its readers. */
  constructor(name: string, backlog: number, host: StreamHost) {
    this.name = name;
    this.#backlog = backlog;
    this.#host = host;
  }

  /** The id of the newest event (0: none yet). */
  get lastId(): number {
    return this.#lastId;
  }

  /** Appends an event (see `StoredEvent` for what `n` and `data` are per kind). */
  add(kind: KindCode, at: number, jobId: string, n: number, data: unknown): void {
    const event = new StoredEvent(kind, at, jobId, n, data);
    this.#lastId++;
    const ring = this.#ring;
    if (ring.length < this.#backlog) ring.push(event);
    else ring[this.#slot] = event;
    if (++this.#slot === this.#backlog) this.#slot = 0;
    if (this.#host.waiting !== 0) this.#host.wake(this.name);
  }

  /** Up to `limit` kept events with ids above `after`, oldest first, as public events (copies). */
  after(after: number, limit: number): StorageEvent[] {
    const ring = this.#ring;
    const firstId = this.#lastId - ring.length + 1;
    const from = Math.max(after + 1, firstId);
    const to = Math.min(this.#lastId, from + limit - 1);
    const found: StorageEvent[] = [];
    for (let id = from; id <= to; id++) {
      found.push(toStorageEvent(ring[(id - 1) % this.#backlog], this.name, String(id)));
    }
    return found;
  }
}
