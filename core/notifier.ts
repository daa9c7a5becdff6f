/**
 * A wake-up call for waiters inside the worker.
 *
 * @module
 */

/**
 * Resolves every current waiter on `notify()`; cheap to wait on repeatedly.
 *
 * @example
 * ```ts
 * import { Notifier } from "./notifier.ts";
 * const freed = new Notifier();
 * const woken = freed.next();
 * freed.notify();
 * await woken;
 * ```
 */
export class Notifier {
  #waiters: (() => void)[] = [];
  #next: Promise<void> | null = null;
  #resolveNext: (() => void) | null = null;

  /**
   * The next `notify()`, as one promise shared by every caller until then.
   * No abort listener: the fetch loop waits this way once per job, and the
   * worker's `#wakeLoop` notifies instead of aborting a signal it would listen to.
   */
  next(): Promise<void> {
    return this.#next ??= new Promise<void>((resolve) => (this.#resolveNext = resolve));
  }

  /** The next `notify()`, or `signal`'s abort, whichever comes first. */
  wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#waiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Wakes everyone waiting now. */
  notify(): void {
    if (this.#next !== null) {
      const resolve = this.#resolveNext!;
      this.#next = null;
      this.#resolveNext = null;
      resolve();
    }
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const done of waiters) done();
  }
}
