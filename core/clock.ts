/**
 * The Clock port: the only source of time in taskmill's core. The system
 * clock is the default; tests inject a `FakeClock` (from `./testing`).
 *
 * @module
 */

/**
 * Where time comes from.
 *
 * @example A clock that is always one hour ahead
 * ```ts
 * import { type Clock, systemClock } from "@taskmill/taskmill";
 *
 * const ahead: Clock = {
 *   now: () => systemClock.now() + 3_600_000,
 *   sleep: (ms, signal) => systemClock.sleep(ms, signal),
 * };
 * console.log(ahead.now() > Date.now());
 * ```
 */
export interface Clock {
  /** Current time, epoch milliseconds. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds of this clock's time. Rejects with
   * `signal.reason` if `signal` aborts first (and at once if already aborted).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * True for a clock that moves only when told (`FakeClock`). Waits that
   * only the passing of time would end are not made on it unasked: a
   * Worker's `stop()` without a timeout does not wait for running handlers,
   * since nobody may be advancing the clock (a test's `finally`).
   */
  readonly manual?: boolean;
  /**
   * Told of every storage call the Worker and Queue start (except the idle
   * `waitForWork`, which only time or new work ends). A `FakeClock` waits
   * for tracked calls to settle before it fires its next timer, so real I/O
   * (a Redis socket) cannot fall behind fake time. The system clock has none,
   * so the Worker and Queue then wrap nothing.
   *
   * @example
   * ```ts
   * import { type Clock, systemClock } from "@taskmill/taskmill";
   *
   * const inFlight = new Set<Promise<unknown>>();
   * const clock: Clock = {
   *   now: () => systemClock.now(),
   *   sleep: (ms, signal) => systemClock.sleep(ms, signal),
   *   track(call) {
   *     inFlight.add(call);
   *     call.then(() => inFlight.delete(call), () => inFlight.delete(call));
   *   },
   * };
   * clock.track?.(Promise.resolve());
   * ```
   */
  track?(call: Promise<unknown>): void;
}

/**
 * The real clock: `Date.now()` and `setTimeout`. The only place in the core
 * that touches global time.
 *
 * @example
 * ```ts
 * import { systemClock } from "@taskmill/taskmill";
 *
 * const start = systemClock.now();
 * await systemClock.sleep(5);
 * console.log(systemClock.now() - start >= 4);
 * ```
 */
export const systemClock: Clock = Object.freeze({
  now(): number {
    return Date.now();
  },
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
});

/** Sleeps on `clock`, resolving (not rejecting) early when `signal` aborts. */
export function sleepUnlessAborted(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return clock.sleep(ms, signal).catch(() => {});
}
