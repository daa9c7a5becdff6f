/**
 * Flow control in the Storage port: the types of a queue's stored limits
 * (rate and concurrency across every worker), of its groups' limits, and of
 * the per-group counts `Storage.groups` lists. The reserve step enforces
 * them atomically, so they hold across processes and machines.
 *
 * The rules every adapter follows (the contract suite
 * `tests/storage_limits_contract.ts` proves them):
 *
 * - **Concurrency**: a reserve takes a queue's job only while fewer than
 *   `concurrency` of its jobs are active (leases granted and not yet
 *   settled, released or reclaimed: a prefetched job counts). A group's
 *   counts only its own jobs.
 * - **Rate**, a sliding log: a reserve takes a job only while fewer than
 *   `max` jobs of the queue (or the group) were reserved in the window
 *   `(now - per, now]`. So no window of `per` ms ever holds more than `max`
 *   starts, wherever it begins: what an API that counts requests over the
 *   last second expects, and stricter than a fixed window (which lets
 *   `2 * max` through across a window's edge) or a token bucket (which lets
 *   a burst of `max` be followed at once by more). It keeps up to `max`
 *   start times per limited queue or group, hence {@linkcode MAX_RATE}.
 *   Released and retried attempts stay counted: they started.
 * - **Groups**: a job's `group` puts it in a lane of its queue; the jobs
 *   without a group are one more lane. Lanes take turns, one job per turn
 *   (round-robin, whatever their sizes), and within a lane the usual order
 *   holds (priority, then first in, first out). A lane at its limit gives
 *   up its turn until the limit frees, then joins the back of the turns.
 *   Priorities do not cross lanes. Each group's limits are its override
 *   (`setGroupLimits`) if it has one, else the queue's `group` limits.
 * - **Holds**: a release with `holdUntil` (a handler's `RateLimitedError`)
 *   holds the job's group, or its queue when it has none, until then: no
 *   reserve takes its jobs before.
 * - `nextAt` counts the moment a rate window or a hold frees a queue or a
 *   group with waiting jobs. A concurrency limit frees when a job settles:
 *   such a settle (and `setLimits`, `setGroupLimits`) wakes waiting workers.
 * - Limits are checked before anything is stored; a bad value refuses the
 *   whole call.
 *
 * @example
 * ```ts
 * import type { QueueLimits } from "./storage_limits.ts";
 *
 * const limits: QueueLimits = {
 *   concurrency: 5, // at most 5 active at once, across every worker
 *   rate: { max: 10, per: 1_000 }, // at most 10 started in any second
 *   group: { concurrency: 1, rate: null }, // one job per tenant at a time
 * };
 * ```
 *
 * @module
 */

/** The most starts a rate may allow per window (each one is kept while it counts). */
export const MAX_RATE = 100_000;

/** The largest concurrency a limit may set. */
export const MAX_CONCURRENCY = 1_000_000;

/** The longest rate window, ms (a week). */
export const MAX_RATE_WINDOW = 7 * 24 * 60 * 60 * 1000;

/**
 * At most `max` jobs started in any `per` ms (a sliding log: see the module doc).
 *
 * @example
 * ```ts
 * import type { RateLimit } from "./storage_limits.ts";
 *
 * const tenPerSecond: RateLimit = { max: 10, per: 1_000 };
 * ```
 */
export interface RateLimit {
  /** Starts allowed per window: an integer from 1 to {@linkcode MAX_RATE}. */
  max: number;
  /** The window, ms: an integer from 1 to {@linkcode MAX_RATE_WINDOW}. */
  per: number;
}

/**
 * The limits of one group (or of every group of a queue).
 *
 * @example
 * ```ts
 * import type { GroupLimits } from "./storage_limits.ts";
 *
 * const perTenant: GroupLimits = { concurrency: 2, rate: { max: 5, per: 1_000 } };
 * ```
 */
export interface GroupLimits {
  /** Active jobs of the group at once, or null for no bound. */
  concurrency: number | null;
  /** Starts of the group per window, or null for no bound. */
  rate: RateLimit | null;
}

/**
 * A queue's stored limits: every worker of every process honours them.
 *
 * @example
 * ```ts
 * import type { QueueLimits } from "./storage_limits.ts";
 *
 * const limits: QueueLimits = { concurrency: null, rate: { max: 100, per: 60_000 }, group: null };
 * ```
 */
export interface QueueLimits {
  /** Active jobs of the queue at once, or null for no bound. */
  concurrency: number | null;
  /** Starts of the queue per window, or null for no bound. */
  rate: RateLimit | null;
  /** Every group's limits (unless it has an override), or null for none. */
  group: GroupLimits | null;
}

/**
 * One group of a queue, as `Storage.groups` lists it (by name): the groups
 * with waiting or active jobs, and those with an override.
 *
 * @example
 * ```ts
 * import type { GroupInfo } from "./storage_limits.ts";
 *
 * const info: GroupInfo = { name: "tenant-42", waiting: 3, active: 1, limits: null, heldUntil: null };
 * ```
 */
export interface GroupInfo {
  /** The group's name. */
  name: string;
  /** Its waiting jobs (delayed ones are not counted until due). */
  waiting: number;
  /** Its active jobs. */
  active: number;
  /** Its override (`setGroupLimits`), or null when the queue's `group` limits apply. */
  limits: GroupLimits | null;
  /** Until when a `RateLimitedError` holds it (epoch ms), or null when it is not held at `now`. */
  heldUntil: number | null;
}
