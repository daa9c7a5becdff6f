/**
 * Test helpers: a {@linkcode FakeClock} that moves only when told, and the
 * scheduler primitive {@linkcode every}, so tests of your own handlers run
 * hours of retries and delays in milliseconds, the same way every time.
 *
 * @example
 * ```ts
 * import { FakeClock } from "@taskmill/taskmill/testing";
 *
 * const clock = new FakeClock();
 * const start = clock.now();
 * const slept = clock.sleep(60_000);
 * await clock.advance(60_000);
 * await slept;
 * console.log(clock.now() - start); // 60000
 * ```
 *
 * @module
 */

export { FakeClock } from "./core/fake_clock.ts";
export { every } from "./core/scheduler.ts";
