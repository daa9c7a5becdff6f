import type { Clock } from "../../core/clock.ts";
import type { EventPage, EventRead, StorageEvent } from "../../core/storage_events.ts";
import { WORKER_STREAM } from "../../core/storage_events.ts";
import { EventStream, type StreamHost } from "./event_stream.ts";

/** A pending blocking read: the streams it reads, and how to end it. */
interface Reader {
  streams: readonly string[];
  wake: () => void;
}

/**
 * MemoryStorage's events: one {@linkcode EventStream} per queue plus the
 * workers' stream, and the blocking reads woken in-process when one of
 * their streams gets an event. A read's `maxWaitMs` runs on the storage's
 * clock (as `waitForWork`'s does), so a `FakeClock` moves it too.
 *
 * @example
 * ```ts
 * import { systemClock } from "../../core/clock.ts";
 * import { EventLog } from "./event_log.ts";
 * import { Kind } from "./stored_event.ts";
 *
 * const log = new EventLog(100, systemClock);
 * log.stream("default").add(Kind.paused, 0, "", 0, undefined);
 * const page = await log.read({ queues: ["default"], after: { default: "0" }, limit: 10, maxWaitMs: 0 });
 * console.log(page.events[0].type, page.cursors); // "paused" { default: "1" }
 * ```
 */
export class EventLog implements StreamHost {
  readonly #streams = new Map<string, EventStream>();
  readonly #readers = new Set<Reader>();
  readonly #backlog: number;
  readonly #clock: Clock;
  #closed = false;
  /** Blocking reads pending (read by every stream on each append: a field, not a getter). */
  waiting = 0;

  /** A log keeping `backlog` (>= 1) events per stream, waiting on `clock`. */
  constructor(backlog: number, clock: Clock) {
    this.#backlog = backlog;
    this.#clock = clock;
  }

  /** The stream named `name` (a queue, or `WORKER_STREAM`), made on first use. */
  stream(name: string): EventStream {
    let stream = this.#streams.get(name);
    if (stream === undefined) {
      stream = new EventStream(name, this.#backlog, this);
      this.#streams.set(name, stream);
    }
    return stream;
  }

  /**
   * `Storage.readEvents` on a checked request: cursors of streams left out
   * of `after` are their ends at the call; then, if nothing is there yet,
   * waits for an event, `maxWaitMs` on the clock, the signal or `close()`.
   */
  async read(request: EventRead): Promise<EventPage> {
    const names = request.workers ? [...request.queues, WORKER_STREAM] : request.queues;
    const cursors: Record<string, string> = {};
    for (const name of names) {
      cursors[name] = request.after[name] ?? String(this.#streams.get(name)?.lastId ?? 0);
    }
    let events = this.#collect(names, cursors, request.limit);
    if (events.length === 0 && request.maxWaitMs > 0) {
      await this.#wait(names, request.maxWaitMs, request.signal);
      events = this.#collect(names, cursors, request.limit);
    }
    return { events, cursors };
  }

  /** Ends every blocking read (they resolve with what there is), now and later. */
  close(): void {
    this.#closed = true;
    for (const reader of [...this.#readers]) reader.wake();
  }

  /** The events after `cursors` (copies), which move to the last one returned. */
  #collect(
    names: readonly string[],
    cursors: Record<string, string>,
    limit: number,
  ): StorageEvent[] {
    const events: StorageEvent[] = [];
    for (const name of names) {
      const stream = this.#streams.get(name);
      if (stream === undefined) continue;
      const found = stream.after(Number(cursors[name]), limit);
      if (found.length === 0) continue;
      for (const event of found) events.push(event);
      cursors[name] = found[found.length - 1].id;
    }
    return events;
  }

  #wait(streams: readonly string[], maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const stopTimer = new AbortController();
      const reader: Reader = {
        streams,
        wake: () => {
          if (!this.#readers.delete(reader)) return;
          this.waiting--;
          signal?.removeEventListener("abort", reader.wake);
          stopTimer.abort();
          resolve();
        },
      };
      this.#readers.add(reader);
      this.waiting++;
      signal?.addEventListener("abort", reader.wake, { once: true });
      if (Number.isFinite(maxWaitMs)) {
        this.#clock.sleep(maxWaitMs, stopTimer.signal).then(reader.wake, () => {});
      }
    });
  }

  /** Wakes the blocking reads of `stream` (called by the stream, only when some read waits). */
  wake(stream: string): void {
    for (const reader of this.#readers) {
      if (reader.streams.includes(stream)) reader.wake();
    }
  }
}
