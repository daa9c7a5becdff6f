/**
 * Waiting for work: idle workers BLPOP the marker lists of their queues on
 * dedicated connections, one per set of marker keys (so one per hash tag
 * for a worker's queues), shared by every wait on the same keys.
 *
 * Each queue has a short marker list that every state change making work
 * available pushes to (trimmed to 16 entries in the same script: see
 * `lua/marks.ts`). A marker pushed after a wait began is either still in the
 * list when BLPOP arrives (it returns at once) or wakes the blocked BLPOP,
 * so no wake-up is missed; an old marker only causes a spurious return.
 *
 * @module
 */

import type { StorageError } from "../../core/errors.ts";
import type { Client } from "./connection.ts";
import type { Slots } from "./slots.ts";

/** A blocking connection and its BLPOP, shared by every wait on the same marker keys. */
interface Blocker {
  conn: Client;
  keys: string[];
  /** A BLPOP is in flight (possibly for waits that have ended). */
  inflight: boolean;
  /** That BLPOP popped a marker while nobody waited: the next wait returns at once. */
  unclaimed: boolean;
  waiters: Set<Waiter>;
}

/** One `wait` call waiting on a {@linkcode Blocker}. */
interface Waiter {
  /** When this wait ends anyway (Date.now() time). */
  deadline: number;
  /** Ends the wait: resolves it, or rejects it with `error`. */
  end(error?: StorageError): void;
}

/**
 * The blocking connections of one storage (see the module doc).
 *
 * @example
 * ```ts ignore
 * const waits = new WorkWaits(slots);
 * await waits.wait(["default"], 1_000, signal);
 * ```
 */
export class WorkWaits {
  #slots: Slots;
  #blockers = new Map<string, Blocker>();
  // Work this storage made itself (enqueue, retry, resume) wakes its own
  // waits at once, not a round trip later through the markers: on a
  // FakeClock that round trip is real time the clock does not wait for.
  // Counters: work made (per queue, and on any queue), and per queue the
  // count at the last reserve or wait that has accounted for it.
  #made = 0;
  #madeAll = 0;
  #madeIn = new Map<string, number>();
  #seen = new Map<string, number>();
  #localWaits = new Set<{ queues: readonly string[]; wake: () => void }>();

  /** Waits on the queues' slots of `slots`. */
  constructor(slots: Slots) {
    this.#slots = slots;
  }

  /**
   * Resolves when a job arrives on one of `queues`, `maxWaitMs` passes, or
   * `signal` aborts (see RedisStorage.waitForWork).
   *
   * @example
   * ```ts ignore
   * await waits.wait(["default"], 1_000, new AbortController().signal);
   * ```
   */
  async wait(
    queues: readonly string[],
    maxWaitMs: number,
    signal: AbortSignal,
  ): Promise<void> {
    if (signal.aborted || maxWaitMs <= 0 || queues.length === 0) return;
    await this.#slots.connection.ready();
    if (signal.aborted) return; // aborted meanwhile
    // Work this storage made since the caller's last reserve: no wait.
    if (this.#unseenWork(queues)) {
      this.reserving(queues);
      return;
    }
    const groups = new Map<string, string[]>();
    for (const queue of queues) {
      const tag = this.#slots.tag(queue);
      let keys = groups.get(tag);
      if (keys === undefined) groups.set(tag, keys = []);
      keys.push(`${tag}:q:${queue}:mark`);
    }
    const done = new AbortController();
    const stop = () => done.abort();
    signal.addEventListener("abort", stop, { once: true });
    const local = { queues, wake: stop };
    this.#localWaits.add(local);
    try {
      await Promise.race(
        [...groups.values()].map((keys) => this.#waitOn(keys, maxWaitMs, done.signal)),
      );
    } finally {
      signal.removeEventListener("abort", stop);
      this.#localWaits.delete(local);
      done.abort(); // one group woke: the others' waits end (their BLPOPs run on)
    }
  }

  /**
   * Wakes this storage's waits on `queues` (null: on every queue) because it
   * just made work there itself.
   *
   * @example
   * ```ts ignore
   * waits.madeWork(["default"]); // after an enqueue on "default"
   * ```
   */
  madeWork(queues: readonly string[] | null): void {
    const made = ++this.#made;
    if (queues === null) {
      this.#madeAll = made;
      this.#madeIn.clear();
    } else {
      for (const queue of queues) this.#madeIn.set(queue, made);
    }
    for (const wait of this.#localWaits) {
      if (queues === null || wait.queues.some((queue) => queues.includes(queue))) wait.wake();
    }
  }

  /**
   * Marks the work made so far on `queues` as seen: a reserve that starts
   * now sees it, so a wait after it need not return for it.
   *
   * @example
   * ```ts ignore
   * waits.reserving(request.queues); // as a reserve is sent
   * ```
   */
  reserving(queues: readonly string[]): void {
    for (const queue of queues) this.#seen.set(queue, this.#made);
  }

  /**
   * {@linkcode WorkWaits.madeWork} on the queues of enqueued `jobs`, without
   * an array per batch (a batch is usually all one queue).
   *
   * @example
   * ```ts ignore
   * waits.madeWorkFor(jobs); // after they were enqueued
   * ```
   */
  madeWorkFor(jobs: readonly { queue: string }[]): void {
    let last: string | undefined;
    for (let i = 0; i < jobs.length; i++) {
      const queue = jobs[i].queue;
      if (queue === last) continue;
      last = queue;
      if (this.#localWaits.size === 0) this.#madeIn.set(queue, ++this.#made);
      else this.madeWork([queue]);
    }
  }

  /** Whether this storage made work on one of `queues` that no reserve has seen. */
  #unseenWork(queues: readonly string[]): boolean {
    for (const queue of queues) {
      const seen = this.#seen.get(queue) ?? 0;
      if (this.#madeAll > seen || (this.#madeIn.get(queue) ?? 0) > seen) return true;
    }
    return false;
  }

  /** One wait on the blocker of `keys` (all in one slot). */
  #waitOn(keys: string[], maxWaitMs: number, signal: AbortSignal): Promise<void> {
    const blocker = this.#blocker(keys);
    if (blocker.unclaimed) {
      blocker.unclaimed = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        deadline: Date.now() + maxWaitMs,
        end: (error?: StorageError) => {
          if (!blocker.waiters.delete(waiter)) return;
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          if (error === undefined) resolve();
          else reject(error);
        },
      };
      const onAbort = () => waiter.end();
      // This wait's own bound: the shared BLPOP may have been sent with a
      // longer timeout by an earlier wait.
      const timer = setTimeout(onAbort, maxWaitMs);
      signal.addEventListener("abort", onAbort, { once: true });
      blocker.waiters.add(waiter);
      this.#block(blocker);
    });
  }

  /** Sends the blocker's BLPOP if none is in flight and someone waits. */
  #block(blocker: Blocker): void {
    if (blocker.inflight || blocker.waiters.size === 0 || this.#slots.connection.closed) return;
    let until = 0;
    for (const waiter of blocker.waiters) until = Math.max(until, waiter.deadline);
    const timeout = Math.max(1, until - Date.now());
    blocker.inflight = true;
    if (blocker.conn.status === "end") blocker.conn = this.#slots.connection.duplicate();
    blocker.conn.blpop(blocker.keys, timeout / 1000).then((popped) => {
      blocker.inflight = false;
      if (popped !== null) {
        if (blocker.waiters.size === 0) blocker.unclaimed = true;
        for (const waiter of [...blocker.waiters]) waiter.end();
      } else {
        // Timed out: end the waits that are due (their timers are about to
        // fire); a wait that joined later gets a BLPOP of its own.
        const now = Date.now();
        for (const waiter of [...blocker.waiters]) if (waiter.deadline <= now + 5) waiter.end();
      }
      this.#block(blocker);
    }, (error: unknown) => {
      blocker.inflight = false;
      const failure = this.#slots.connection.closed
        ? undefined
        : this.#slots.connection.error("wait for work", error);
      for (const waiter of [...blocker.waiters]) waiter.end(failure);
    });
  }

  #blocker(keys: string[]): Blocker {
    const id = keys.join(" ");
    let blocker = this.#blockers.get(id);
    if (blocker === undefined) {
      blocker = {
        conn: this.#slots.connection.duplicate(),
        keys,
        inflight: false,
        unclaimed: false,
        waiters: new Set(),
      };
      this.#blockers.set(id, blocker);
    }
    return blocker;
  }

  /**
   * Ends every wait and cuts the blocking connections (on close).
   *
   * @example
   * ```ts ignore
   * waits.close();
   * ```
   */
  close(): void {
    for (const blocker of this.#blockers.values()) {
      for (const waiter of [...blocker.waiters]) waiter.end();
      blocker.conn.disconnect();
    }
    this.#blockers.clear();
  }
}
