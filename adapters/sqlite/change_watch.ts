/**
 * Waiting for changes to the database: the blocking half of `waitForWork`
 * and `readEvents`.
 *
 * Within one process, every commit of this storage wakes the waits it
 * concerns at once (the queues it made work on, the event streams it
 * wrote to). Other processes on the same file are noticed by polling
 * `PRAGMA data_version`, a counter SQLite bumps whenever another connection
 * commits: one cheap read of shared memory every `pollMs` (default 100 ms),
 * and only while a wait is pending, so an idle worker costs next to nothing.
 * Work committed by another process thus wakes a wait within `pollMs` (plus
 * the time the event loop takes to run the timer). Such a wake does not
 * know which queues changed, so it wakes every pending wait (the port
 * allows spurious wake-ups; the woken worker reserves and finds out).
 *
 * The baseline of the counter is read when polling starts (with the first
 * pending wait), so a commit made after a wait began is always seen, by the
 * next poll at the latest. A caller that read the database before waiting
 * (`readEvents`) passes the version of that read: a commit in between, of
 * this process or another, ends the wait at once.
 *
 * @module
 */

import type { Clock } from "../../core/clock.ts";
import type { Database } from "./database.ts";

/** A point in the database's history, as {@linkcode ChangeWatch.version} reads it. */
export interface Version {
  /** Commits of this storage so far. */
  local: number;
  /** `PRAGMA data_version`: moves when another connection commits. */
  data: number;
}

/** One pending wait: what wakes it, and how to end it. */
interface Waiter {
  /** Queues (for work) or streams (for events) it waits on. */
  keys: readonly string[];
  kind: "work" | "events";
  wake: () => void;
}

/**
 * The pending waits of one storage (see the module doc).
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 * import { ChangeWatch } from "./change_watch.ts";
 *
 * const db = await openDatabase(":memory:");
 * const watch = new ChangeWatch(db, 100);
 * const woken = watch.wait("work", ["default"], 5_000, new AbortController().signal);
 * watch.notify({ work: ["default"], events: [] }); // a commit made work on "default"
 * await woken;
 * watch.close();
 * db.close();
 * ```
 */
export class ChangeWatch {
  #db: Database;
  #pollMs: number;
  #clock: Clock | undefined;
  #waiters = new Set<Waiter>();
  #version = NaN;
  /** Commits of this process notified so far. */
  #local = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /**
   * Watches `db`, polling its `data_version` every `pollMs` while a wait
   * is pending (never for `Infinity`: a private `:memory:` database has no
   * other connection); `maxWaitMs` bounds run on `clock` (default: real timers).
   */
  constructor(db: Database, pollMs: number, clock?: Clock) {
    this.#db = db;
    this.#pollMs = pollMs;
    this.#clock = clock;
  }

  /**
   * Resolves when a commit touches one of `keys` (queues for `"work"`,
   * streams for `"events"`), when another process commits, after
   * `maxWaitMs`, when `signal` aborts, or on `close()`. Never rejects.
   * `since`: the {@linkcode ChangeWatch.version} of what the caller read
   * before; if anything was committed since (by this process or another),
   * the wait resolves at once, so no commit between that read and this wait
   * is missed.
   */
  wait(
    kind: "work" | "events",
    keys: readonly string[],
    maxWaitMs: number,
    signal: AbortSignal | undefined,
    since?: Version,
  ): Promise<void> {
    if (this.#closed || signal?.aborted) return Promise.resolve();
    if (since !== undefined && (since.local !== this.#local || since.data !== this.#read())) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const stopTimer = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        keys: keys.slice(),
        kind,
        wake: () => {
          if (!this.#waiters.delete(waiter)) return;
          signal?.removeEventListener("abort", waiter.wake);
          stopTimer.abort();
          if (timer !== undefined) clearTimeout(timer);
          if (this.#waiters.size === 0) this.#stopPolling();
          resolve();
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener("abort", waiter.wake, { once: true });
      if (Number.isFinite(maxWaitMs)) {
        if (this.#clock === undefined) timer = setTimeout(waiter.wake, Math.max(0, maxWaitMs));
        else this.#clock.sleep(maxWaitMs, stopTimer.signal).then(waiter.wake, () => {});
      }
      this.#startPolling();
    });
  }

  /**
   * Where the database is now: this process's commits counted, and the
   * data version (read inside a transaction: that of its snapshot).
   */
  version(): Version {
    return { local: this.#local, data: this.#read() };
  }

  /** A commit of this process made work on `work` queues and wrote events to `events` streams. */
  notify(changes: { work: Iterable<string>; events: Iterable<string> }): void {
    this.#local++;
    if (this.#waiters.size === 0) return;
    const work = new Set(changes.work);
    const events = new Set(changes.events);
    if (work.size === 0 && events.size === 0) return;
    for (const waiter of this.#waiters) {
      const touched = waiter.kind === "work" ? work : events;
      if (waiter.keys.some((key) => touched.has(key))) waiter.wake();
    }
  }

  /** Ends every pending wait, and makes later ones resolve at once. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.wake();
    this.#stopPolling();
  }

  #startPolling(): void {
    if (this.#timer !== undefined || this.#closed || !Number.isFinite(this.#pollMs)) return;
    this.#version = this.#read();
    this.#timer = setTimeout(() => this.#poll(), this.#pollMs);
  }

  #stopPolling(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #poll(): void {
    this.#timer = undefined;
    if (this.#closed || this.#waiters.size === 0) return;
    const version = this.#read();
    if (version !== this.#version) {
      for (const waiter of [...this.#waiters]) waiter.wake();
      return; // the next wait starts polling again from a fresh baseline
    }
    this.#timer = setTimeout(() => this.#poll(), this.#pollMs);
  }

  /** The data version; NaN when it cannot be read (then every poll wakes: spurious, never lost). */
  #read(): number {
    try {
      return Number(this.#db.prepare("PRAGMA data_version").get()!.data_version);
    } catch {
      return NaN;
    }
  }
}
