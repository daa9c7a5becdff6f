/**
 * Reports a Storage's calls to a clock that tracks them (`Clock.track`), so
 * a `FakeClock` waits for real I/O before it moves time on.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import type { Storage } from "./storage.ts";

/**
 * `storage` itself when `clock` has no `track` (the system clock: no cost),
 * else a view of it whose every call but the waits is reported to
 * `clock.track`. The waits (`waitForWork`, and a `readEvents` that may
 * block: `maxWaitMs > 0`) are left out: only time or new work ends them,
 * so a clock waiting for them would wait forever.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@taskmill/taskmill";
 * import { FakeClock } from "@taskmill/taskmill/testing";
 * import { trackedStorage } from "./_tracked_storage.ts";
 *
 * const clock = new FakeClock();
 * const storage = trackedStorage(new MemoryStorage({ clock }), clock);
 * const counting = storage.counts("default");
 * console.log(clock.pendingCalls); // 1
 * await counting;
 * ```
 */
export function trackedStorage(storage: Storage, clock: Clock): Storage {
  const track = clock.track?.bind(clock);
  if (track === undefined) return storage;
  return new Proxy(storage, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      // Blocking reads are waits too: they end by real time or new events.
      if (key === "waitForWork" || key === "constructor") return value.bind(target);
      return (...args: unknown[]) => {
        const result = value.apply(target, args);
        if (key === "readEvents" && (args[0] as { maxWaitMs?: number })?.maxWaitMs !== 0) {
          return result;
        }
        if (result instanceof Promise) track(result);
        return result;
      };
    },
  });
}
