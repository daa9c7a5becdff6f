/**
 * How many jobs a worker reserves ahead of its free slots.
 *
 * @module
 */

/** `prefetch: "auto"` holds about this many ms of work beyond the running handlers. */
export const AUTO_PREFETCH_MS = 20;
/** `prefetch: "auto"` holds at most this many jobs ahead (or `concurrency`, if larger). */
export const AUTO_PREFETCH_MAX = 100;

/**
 * How many jobs to hold beyond the running ones. Auto (`fixed` null):
 * enough to keep every slot busy for about `AUTO_PREFETCH_MS` at the recent
 * mean handler duration, so no round trip stands between short jobs while
 * a slow job never waits long in the worker's buffer for a slot. And never
 * more than can start within half a lease (`leaseMs`) at that duration: a
 * job held longer than that before it starts is one whose lease a blocked
 * event loop may let expire (then another worker takes it too).
 *
 * @example
 * ```ts
 * import { prefetchFor } from "./prefetch.ts";
 * console.log(prefetchFor(null, 10, null)); // 10: no duration known yet
 * console.log(prefetchFor(null, 10, 1)); // 100: 1 ms handlers
 * console.log(prefetchFor(5, 10, 1)); // 5: fixed
 * console.log(prefetchFor(null, 1, 1_500, 1_000)); // 0: 1.5 s jobs, 1 s lease
 * ```
 */
export function prefetchFor(
  fixed: number | null,
  concurrency: number,
  mean: number | null,
  leaseMs = Infinity,
): number {
  if (fixed !== null) return fixed;
  if (mean === null) return concurrency;
  const most = Math.max(concurrency, AUTO_PREFETCH_MAX);
  if (mean <= 0) return most;
  const wanted = Math.max(
    concurrency,
    Math.min(most, Math.ceil(AUTO_PREFETCH_MS * concurrency / mean)),
  );
  // Jobs that start within half a lease: each slot starts one per `mean` ms.
  return Math.min(wanted, Math.floor(concurrency * (leaseMs / 2) / mean));
}
