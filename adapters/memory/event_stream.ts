import type { StorageEvent } from "../../core/storage_events.ts";
import { buildEvent, type KindCode } from "./stored_event.ts";

/** What a stream tells of its appends: whether anyone waits, and how to wake them. */
export interface StreamHost {
  /** Blocking reads pending (0: nobody to wake, the common case). */
  readonly waiting: number;
  /** Wakes the reads waiting on `stream`. */
  wake(stream: string): void;
}

/** Slots of a new stream's typed arrays (most streams stay small). */
const INITIAL_SLOTS = 16;

/**
 * One stream of MemoryStorage's events (a queue's, or the workers'): a ring
 * of its last `backlog` events whose ids count 1, 2, ... without gaps. An
 * event's fields (see `StoredEvent`) go into parallel arrays at the slot
 * its id gives, overwriting the one `backlog` older: no object per event,
 * so a write allocates nothing (the arrays grow by doubling up to the
 * backlog) and the garbage collector has no event objects to promote. The
 * public event is built only when read (`after`).
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
  #kinds = new Uint8Array(INITIAL_SLOTS);
  #ats = new Float64Array(INITIAL_SLOTS);
  #ns = new Float64Array(INITIAL_SLOTS);
  #jobIds: string[] = [];
  #data: unknown[] = [];
  /** Events kept (up to the backlog). */
  #size = 0;
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
    this.#lastId++;
    const slot = this.#slot;
    if (slot === this.#kinds.length) this.#grow();
    this.#kinds[slot] = kind;
    this.#ats[slot] = at;
    this.#ns[slot] = n;
    if (this.#size < this.#backlog) {
      this.#size++;
      this.#jobIds.push(jobId);
      this.#data.push(data);
    } else {
      this.#jobIds[slot] = jobId;
      this.#data[slot] = data;
    }
    this.#slot = slot + 1 === this.#backlog ? 0 : slot + 1;
    if (this.#host.waiting !== 0) this.#host.wake(this.name);
  }

  /** Doubles the typed arrays (only while the ring is not yet full, so slots keep their places). */
  #grow(): void {
    const length = Math.min(this.#backlog, this.#kinds.length * 2);
    const kinds = new Uint8Array(length);
    kinds.set(this.#kinds);
    this.#kinds = kinds;
    const ats = new Float64Array(length);
    ats.set(this.#ats);
    this.#ats = ats;
    const ns = new Float64Array(length);
    ns.set(this.#ns);
    this.#ns = ns;
  }

  /** Up to `limit` kept events with ids above `after`, oldest first, as public events (copies). */
  after(after: number, limit: number): StorageEvent[] {
    const firstId = this.#lastId - this.#size + 1;
    const from = Math.max(after + 1, firstId);
    const to = Math.min(this.#lastId, from + limit - 1);
    const found: StorageEvent[] = [];
    for (let id = from; id <= to; id++) {
      const slot = (id - 1) % this.#backlog;
      found.push(
        buildEvent(
          this.#kinds[slot] as KindCode,
          this.#ats[slot],
          this.#jobIds[slot],
          this.#ns[slot],
          this.#data[slot],
          this.name,
          String(id),
        ),
      );
    }
    return found;
  }
}
