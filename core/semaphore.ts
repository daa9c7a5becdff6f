/**
 * An async counting semaphore: FIFO, AbortSignal-aware, never over its limit.
 *
 * @module
 */

import { checkInt } from "./_validate.ts";

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Limits how many holders run at once. Waiters are served first come, first
 * served; an aborted waiter leaves the line without taking a permit.
 *
 * @example At most two at a time
 * ```ts
 * import { Semaphore } from "@taskmill/taskmill";
 *
 * const semaphore = new Semaphore(2);
 * const results = await Promise.all([1, 2, 3].map((n) => semaphore.run(async () => n * 2)));
 * console.log(results); // [2, 4, 6]
 * ```
 */
export class Semaphore {
  #limit: number;
  #held = 0;
  #waiters: Waiter[] = [];
  #head = 0;

  /** Creates a semaphore with `limit` permits (an integer >= 1). */
  constructor(limit: number) {
    checkInt(limit, 1, Number.MAX_SAFE_INTEGER, "Semaphore limit");
    this.#limit = limit;
  }

  /** Permits in all. */
  get limit(): number {
    return this.#limit;
  }

  /** Permits currently held. */
  get held(): number {
    return this.#held;
  }

  /** Permits free now. */
  get available(): number {
    return this.#limit - this.#held;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.#waiters.length - this.#head;
  }

  /** Takes a permit if one is free now, without waiting. */
  tryAcquire(): boolean {
    if (this.#held < this.#limit && this.waiting === 0) {
      this.#held++;
      return true;
    }
    return false;
  }

  /**
   * Resolves once a permit is held. Rejects with `signal.reason` if `signal`
   * aborts first; the permit is then never taken.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.#waiters.indexOf(waiter, this.#head);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /** Returns a permit, handing it straight to the longest waiter if any. */
  release(): void {
    if (this.#held === 0) throw new Error("Semaphore.release() called more times than acquire()");
    const waiter = this.#waiters[this.#head];
    if (waiter === undefined) {
      this.#held--;
      return;
    }
    // The permit passes to the waiter directly, so #held does not change.
    this.#waiters[this.#head++] = undefined as unknown as Waiter;
    if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
      this.#waiters = this.#waiters.slice(this.#head);
      this.#head = 0;
    }
    if (waiter.onAbort) waiter.signal!.removeEventListener("abort", waiter.onAbort);
    waiter.resolve();
  }

  /** Runs `fn` holding a permit, releasing it however `fn` ends. */
  async run<T>(fn: () => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
