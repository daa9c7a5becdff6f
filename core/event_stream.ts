/**
 * `Queue.events()`: the storage's events as an async iterator, following
 * the streams' cursors with blocking reads.
 *
 * @module
 */

import type { Storage } from "./storage.ts";
import { type StorageEvent, WORKER_STREAM } from "./storage_events.ts";
import { checkKeys, describe, optionNames, validateName } from "./_validate.ts";

/** Events that fell out of a stream's backlog before the reader got to them. */
export interface MissedEvents {
  /** The stream: a queue's name, or `WORKER_STREAM`. */
  stream: string;
  /** The last id the reader had seen. */
  after: string;
  /** The id of the event it got next. */
  next: string;
  /** How many it missed (`next - after - 1`). */
  count: number;
}

/** Options of {@linkcode Queue.events}. */
export interface EventStreamOptions {
  /**
   * Queues to follow. Default: every queue of `storage.queues()`, listed
   * again whenever a wait for events comes back empty (after about 5 s of
   * quiet), so new queues join; a queue that joins is read from its oldest
   * kept event (it is new, so those are newer than the iterator).
   */
  queues?: readonly string[];
  /** Whether to follow the workers' stream too (`online`, `heartbeat`, `offline`). Default false. */
  workers?: boolean;
  /**
   * Where to start, per stream (a queue name or `WORKER_STREAM`): the id of
   * the last event already seen, or "0" for all still kept. A stream left
   * out starts at its end: only events after the `events()` call (the
   * iterator notes where each end is as it is made, before any `next()`).
   */
  after?: Readonly<Record<string, string>>;
  /** Ends the iteration (it finishes, it does not throw). */
  signal?: AbortSignal;
  /**
   * Called when a stream's ids jump: events were dropped from the
   * storage's backlog before this reader got them (it fell behind by more
   * than `eventBacklog`). Nothing is made up for them; the iterator's
   * `missed` property counts them too.
   */
  onMissed?: (missed: MissedEvents) => void;
}

const STREAM_OPTIONS = optionNames<EventStreamOptions>()([
  "queues",
  "workers",
  "after",
  "signal",
  "onMissed",
]);

/** Events taken from each stream per read. */
const READ_LIMIT = 1_000;
/** Longest wait of one blocking read (the default queue list is refreshed after each empty one). */
const WAIT_MS = 5_000;
const EVENT_ID = /^(0|[1-9][0-9]*)$/;

/**
 * Checks `options` of `Queue.events()` and returns them, throwing a
 * TypeError that names the bad option.
 *
 * @example
 * ```ts
 * import { checkEventStreamOptions } from "./event_stream.ts";
 *
 * try {
 *   checkEventStreamOptions({ queues: ["a b"] });
 * } catch (error) {
 *   console.log((error as Error).message.startsWith("Cannot read events: queues[0]")); // true
 * }
 * ```
 */
export function checkEventStreamOptions(options: EventStreamOptions): EventStreamOptions {
  const where = "Cannot read events";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  }
  checkKeys(options, STREAM_OPTIONS, where);
  const { queues, workers, after, signal, onMissed } = options;
  if (queues !== undefined) {
    if (!Array.isArray(queues)) {
      throw new TypeError(
        `${where}: queues must be an array of queue names, got ${describe(queues)}`,
      );
    }
    queues.forEach((queue, i) => validateName(queue, `${where}: queues[${i}]`, "queue"));
  }
  if (workers !== undefined && typeof workers !== "boolean") {
    throw new TypeError(`${where}: workers must be a boolean, got ${describe(workers)}`);
  }
  if (after !== undefined) {
    if (typeof after !== "object" || after === null || Array.isArray(after)) {
      throw new TypeError(
        `${where}: after must be an object of event ids by stream, got ${describe(after)}`,
      );
    }
    for (const [stream, id] of Object.entries(after)) {
      if (typeof id !== "string" || !EVENT_ID.test(id)) {
        throw new TypeError(
          `${where}: after[${JSON.stringify(stream)}] must be an event id ("0", "1", ...), got ${
            describe(id)
          }`,
        );
      }
    }
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${where}: signal must be an AbortSignal, got ${describe(signal)}`);
  }
  if (onMissed !== undefined && typeof onMissed !== "function") {
    throw new TypeError(`${where}: onMissed must be a function, got ${describe(onMissed)}`);
  }
  return options;
}

/**
 * The iterator of `Queue.events()`: yields each event once, in order per
 * stream (delivery is at least once across restarts: resume from the last
 * id you handled with `after`). One blocking read at a time. It ends when
 * `signal` aborts or `return()` is called (a `break` out of `for await`).
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@taskmill/taskmill";
 * import { EventStream } from "./event_stream.ts";
 *
 * const storage = new MemoryStorage();
 * await storage.pause("default", 0);
 * const events = new EventStream(storage, { queues: ["default"], after: { default: "0" } });
 * const { value } = await events.next();
 * console.log(value?.type); // "paused"
 * await events.return();
 * ```
 */
export class EventStream implements AsyncIterableIterator<StorageEvent> {
  readonly #storage: Storage;
  readonly #fixedQueues: readonly string[] | undefined;
  readonly #workers: boolean;
  readonly #cursors: Record<string, string>;
  readonly #onMissed: ((missed: MissedEvents) => void) | undefined;
  readonly #stop = new AbortController();
  #queues: readonly string[] | undefined;
  /** Whether the queue list should be read again (at first, and after an empty wait). */
  #relist = true;
  #buffer: StorageEvent[] = [];
  #turn: Promise<unknown> = Promise.resolve();
  #done = false;
  #missed = 0;
  /** Notes the ends of the streams left out of `after` (see the constructor). */
  readonly #ready: Promise<void>;

  /** An iterator over `storage`'s events (options as checked by `checkEventStreamOptions`). */
  constructor(storage: Storage, options: EventStreamOptions = {}) {
    this.#storage = storage;
    this.#fixedQueues = options.queues?.slice();
    this.#queues = this.#fixedQueues;
    this.#workers = options.workers ?? false;
    this.#cursors = { ...options.after };
    this.#onMissed = options.onMissed;
    if (options.signal !== undefined) {
      if (options.signal.aborted) this.#stop.abort();
      else options.signal.addEventListener("abort", () => this.#stop.abort(), { once: true });
    }
    this.#ready = this.#pin();
    this.#ready.catch(() => {}); // reported by the first next()
  }

  /** Gives each stream left out of `after` a cursor at its end now, so "from the end" means from this call. */
  async #pin(): Promise<void> {
    if (this.#queues === undefined) {
      this.#queues = (await this.#storage.queues()).map((queue) => queue.name);
      this.#relist = false;
    }
    const queues = this.#queues.filter((queue) => this.#cursors[queue] === undefined);
    const workers = this.#workers && this.#cursors[WORKER_STREAM] === undefined;
    if (queues.length === 0 && !workers) return;
    const page = await this.#storage.readEvents({
      queues,
      workers,
      after: {},
      limit: 1,
      maxWaitMs: 0,
    });
    for (const [stream, cursor] of Object.entries(page.cursors)) this.#cursors[stream] ??= cursor;
  }

  /** Events dropped from the backlog before this reader got them (see `onMissed`). */
  get missed(): number {
    return this.#missed;
  }

  /** The last id seen per stream: pass it as `after` to go on from here later. */
  get cursors(): Record<string, string> {
    return { ...this.#cursors };
  }

  /** The next event; `done` once the signal aborted or `return()` was called. */
  next(): Promise<IteratorResult<StorageEvent>> {
    // Calls take turns, so two pending next() never read at once.
    const result = this.#turn.then(() => this.#next());
    this.#turn = result.catch(() => {});
    return result;
  }

  /** Ends the iteration at once, ending a pending read. */
  return(): Promise<IteratorResult<StorageEvent>> {
    this.#done = true;
    this.#buffer = [];
    this.#stop.abort();
    return Promise.resolve({ done: true, value: undefined });
  }

  /** Itself: an `EventStream` is iterated once. */
  [Symbol.asyncIterator](): AsyncIterableIterator<StorageEvent> {
    return this;
  }

  async #next(): Promise<IteratorResult<StorageEvent>> {
    await this.#ready;
    for (;;) {
      if (this.#done || this.#stop.signal.aborted) return this.#finish();
      const event = this.#buffer.shift();
      if (event !== undefined) return { done: false, value: event };
      await this.#read();
    }
  }

  #finish(): IteratorResult<StorageEvent> {
    this.#done = true;
    this.#buffer = [];
    return { done: true, value: undefined };
  }

  async #read(): Promise<void> {
    if (this.#fixedQueues === undefined && this.#relist) {
      const known = (await this.#storage.queues()).map((queue) => queue.name);
      // Queues that join after the first list are new: read them from their oldest kept event.
      if (this.#queues !== undefined) {
        for (const queue of known) {
          if (!this.#queues.includes(queue)) this.#cursors[queue] ??= "0";
        }
      }
      this.#queues = known;
      this.#relist = false;
    }
    const before = { ...this.#cursors };
    const page = await this.#storage.readEvents({
      queues: this.#queues!,
      workers: this.#workers,
      after: before,
      limit: READ_LIMIT,
      maxWaitMs: WAIT_MS,
      signal: this.#stop.signal,
    });
    if (this.#done || this.#stop.signal.aborted) return;
    for (const event of page.events) {
      const stream = "queue" in event ? event.queue : WORKER_STREAM;
      const last = before[stream];
      if (last !== undefined && Number(event.id) > Number(last) + 1) {
        const missed = {
          stream,
          after: last,
          next: event.id,
          count: Number(event.id) - Number(last) - 1,
        };
        this.#missed += missed.count;
        this.#onMissed?.(missed);
      }
      before[stream] = event.id;
    }
    Object.assign(this.#cursors, page.cursors);
    this.#buffer = page.events;
    if (page.events.length === 0) this.#relist = true;
  }
}
