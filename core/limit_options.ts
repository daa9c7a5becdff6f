/**
 * What `Queue.setLimits` and `Queue.setGroupLimits` take, and how it becomes
 * the port's `QueueLimits` and `GroupLimits`: a field left out means "no
 * bound", so a call says the whole of a queue's limits.
 *
 * @module
 */

import type { GroupLimits, QueueLimits, RateLimit } from "./storage_limits.ts";
import { checkKeys, describe, optionNames } from "./_validate.ts";

/**
 * The limits of every group of a queue, or of one group: a field left out
 * (or null) is no bound.
 *
 * @example
 * ```ts
 * import type { GroupLimitOptions } from "@taskmill/taskmill";
 *
 * const perTenant: GroupLimitOptions = { concurrency: 2 };
 * ```
 */
export interface GroupLimitOptions {
  /** Active jobs of a group at once, across every worker. */
  concurrency?: number | null;
  /** At most `max` jobs of a group started in any `per` ms (a sliding window). */
  rate?: RateLimit | null;
}

/**
 * A queue's limits, kept in storage and honoured by every worker: a field
 * left out (or null) is no bound.
 *
 * @example
 * ```ts
 * import type { LimitOptions } from "@taskmill/taskmill";
 *
 * const limits: LimitOptions = { rate: { max: 10, per: 1_000 }, group: { concurrency: 1 } };
 * ```
 */
export interface LimitOptions extends GroupLimitOptions {
  /** Limits of each group of the queue (a group's own override wins: `setGroupLimits`). */
  group?: GroupLimitOptions | null;
}

const LIMIT_OPTIONS = optionNames<LimitOptions>()(["concurrency", "rate", "group"]);
const GROUP_LIMIT_OPTIONS = optionNames<GroupLimitOptions>()(["concurrency", "rate"]);

/**
 * The port's `QueueLimits` of `options` (null stays null); the storage
 * checks the values.
 *
 * @example
 * ```ts
 * import { toQueueLimits } from "./limit_options.ts";
 *
 * console.log(toQueueLimits({ concurrency: 5 }, "Cannot set limits"));
 * // { concurrency: 5, rate: null, group: null }
 * ```
 */
export function toQueueLimits(options: LimitOptions | null, where: string): QueueLimits | null {
  if (options === null) return null;
  checkObject(options, where, "limits");
  checkKeys(options, LIMIT_OPTIONS, where, "limits");
  const group = options.group ?? null;
  return {
    concurrency: options.concurrency ?? null,
    rate: options.rate ?? null,
    group: group === null ? null : toGroupLimits(group, where, "limits.group")!,
  };
}

/**
 * The port's `GroupLimits` of `options` (null stays null).
 *
 * @example
 * ```ts
 * import { toGroupLimits } from "./limit_options.ts";
 *
 * console.log(toGroupLimits({ rate: { max: 1, per: 1_000 } }, "Cannot set group limits"));
 * // { concurrency: null, rate: { max: 1, per: 1000 } }
 * ```
 */
export function toGroupLimits(
  options: GroupLimitOptions | null,
  where: string,
  path = "limits",
): GroupLimits | null {
  if (options === null) return null;
  checkObject(options, where, path);
  checkKeys(options, GROUP_LIMIT_OPTIONS, where, path);
  return { concurrency: options.concurrency ?? null, rate: options.rate ?? null };
}

function checkObject(value: unknown, where: string, path: string): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${where}: ${path} must be an object or null, got ${describe(value)}`);
  }
}
