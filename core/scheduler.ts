/**
 * Timers over a {@linkcode Clock}: the worker's periodic duties (lease
 * renewal, retention sweeps) and its wake-up for the next delayed job. Nothing
 * here reads global time, so all of it runs on a fake clock in tests.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

/**
 * Runs `task` every `intervalMs` of clock time until `signal` aborts. Runs
 * never overlap: the next interval starts when the previous run has ended.
 * Returns a promise that resolves once the loop has stopped. Errors from
 * `task` go to `onError` and the loop goes on.
 *
 * @example
 * ```ts
 * import { every, FakeClock } from "@taskmill/taskmill/testing";
 *
 * const clock = new FakeClock();
 * const stop = new AbortController();
 * let runs = 0;
 * const done = every(clock, 1_000, () => { runs++; }, stop.signal, console.error);
 * await clock.advance(3_000);
 * stop.abort();
 * await done;
 * console.log(runs); // 3
 * ```
 */
export async function every(
  clock: Clock,
  intervalMs: number,
  task: () => unknown,
  signal: AbortSignal,
  onError: (error: unknown) => void,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await clock.sleep(intervalMs, signal);
    } catch {
      return; // aborted
    }
    try {
      await task();
    } catch (error) {
      onError(error);
    }
  }
}

/**
 * Waits until the first of: `wake` settles, clock time reaches `until` (when
 * not null), or `signal` aborts. Never rejects. The internal timer and the
 * `wake` source are cancelled through the AbortSignal passed to `wake`.
 */
export async function waitFirst(
  clock: Clock,
  until: number | null,
  wake: (signal: AbortSignal) => Promise<unknown>,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted) return;
  const done = new AbortController();
  const onAbort = () => done.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  const waits: Promise<unknown>[] = [wake(done.signal)];
  if (until !== null) waits.push(clock.sleep(Math.max(0, until - clock.now()), done.signal));
  try {
    await Promise.race(waits.map((p) => p.catch(() => {})));
  } finally {
    signal.removeEventListener("abort", onAbort);
    done.abort();
  }
}

/**
 * Delay after the n-th consecutive storage failure: doubling from `base` up
 * to `max`, so a worker neither hammers a down server nor waits long once it
 * is back.
 */
export function failureBackoff(failures: number, base = 100, max = 5_000): number {
  return Math.min(max, base * 2 ** Math.max(0, failures - 1));
}
