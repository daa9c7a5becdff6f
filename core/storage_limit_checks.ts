/**
 * The shared input checks (see `storage_checks.ts`) of the port's flow
 * control: `setLimits`, `setGroupLimits`, `groups`, and a job's `group`.
 * Each names the option that is wrong: `Cannot set limits of queue "api":
 * rate.max must be between 1 and 100000, got 0`.
 *
 * @example
 * ```ts
 * import { checkSetLimits } from "./storage_limit_checks.ts";
 *
 * checkSetLimits("api", { concurrency: 5, rate: null, group: null }, 0);
 * ```
 *
 * @module
 */

import type { ListOptions } from "./storage.ts";
import {
  type GroupLimits,
  MAX_CONCURRENCY,
  MAX_RATE,
  MAX_RATE_WINDOW,
  type QueueLimits,
  type RateLimit,
} from "./storage_limits.ts";
import { checkInt, checkKeys, describe, validateName } from "./_validate.ts";

const QUEUE_LIMIT_KEYS = ["concurrency", "rate", "group"] as const;
const GROUP_LIMIT_KEYS = ["concurrency", "rate"] as const;
const RATE_KEYS = ["max", "per"] as const;

/**
 * Checks a group name: a queue name's rule (A-Z a-z 0-9 _ . -, 1 to 100 characters).
 *
 * @example
 * ```ts
 * import { checkGroupName } from "./storage_limit_checks.ts";
 *
 * checkGroupName("tenant-42", "Cannot enqueue job: group"); // fine
 * ```
 */
export function checkGroupName(group: unknown, what: string): void {
  validateName(group, what, "queue");
}

/**
 * Checks `Storage.setLimits`'s arguments: a queue, limits (or null) with
 * every field present, and a time.
 *
 * @example
 * ```ts
 * import { checkSetLimits } from "./storage_limit_checks.ts";
 *
 * checkSetLimits("api", null, 0); // clearing is fine
 * ```
 */
export function checkSetLimits(queue: string, limits: QueueLimits | null, now: number): void {
  const where = `Cannot set limits of queue ${describe(queue)}`;
  validateName(queue, `${where}: queue`, "queue");
  checkLimitTime(now, where);
  if (limits === null) return;
  checkShape(limits, QUEUE_LIMIT_KEYS, where, "limits");
  checkConcurrency(limits.concurrency, where, "concurrency");
  checkRate(limits.rate, where, "rate");
  if (limits.group !== null) checkGroupLimitsShape(limits.group, where, "group.");
}

/**
 * Checks `Storage.setGroupLimits`'s arguments.
 *
 * @example
 * ```ts
 * import { checkSetGroupLimits } from "./storage_limit_checks.ts";
 *
 * checkSetGroupLimits("api", "tenant-42", { concurrency: 1, rate: null }, 0);
 * ```
 */
export function checkSetGroupLimits(
  queue: string,
  group: string,
  limits: GroupLimits | null,
  now: number,
): void {
  const where = `Cannot set limits of group ${describe(group)} of queue ${describe(queue)}`;
  validateName(queue, `${where}: queue`, "queue");
  checkGroupName(group, `${where}: group`);
  checkLimitTime(now, where);
  if (limits !== null) checkGroupLimitsShape(limits, where, "");
}

/**
 * Checks `Storage.groups`'s arguments; returns the paging with its defaults
 * (offset 0, limit 100).
 *
 * @example
 * ```ts
 * import { checkGroups } from "./storage_limit_checks.ts";
 *
 * console.log(checkGroups("api", 0, {})); // { offset: 0, limit: 100 }
 * ```
 */
export function checkGroups(
  queue: string,
  now: number,
  options: ListOptions = {},
): { offset: number; limit: number } {
  const where = `Cannot list groups of queue ${describe(queue)}`;
  validateName(queue, `${where}: queue`, "queue");
  checkLimitTime(now, where);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  }
  const offset = options.offset ?? 0;
  const limit = options.limit ?? 100;
  checkInt(offset, 0, Number.MAX_SAFE_INTEGER, `${where}: offset`);
  checkInt(limit, 0, Number.MAX_SAFE_INTEGER, `${where}: limit`);
  return { offset, limit };
}

function checkLimitTime(now: unknown, where: string): void {
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw new TypeError(`${where}: now must be a finite number (epoch ms), got ${describe(now)}`);
  }
}

function checkGroupLimitsShape(limits: GroupLimits, where: string, prefix: string): void {
  checkShape(limits, GROUP_LIMIT_KEYS, where, prefix === "" ? "limits" : prefix.slice(0, -1));
  checkConcurrency(limits.concurrency, where, `${prefix}concurrency`);
  checkRate(limits.rate, where, `${prefix}rate`);
}

/** An object with exactly `keys`, each present (null or a value). */
function checkShape(
  value: unknown,
  keys: readonly string[],
  where: string,
  name: string,
): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${where}: ${name} must be an object or null, got ${describe(value)}`);
  }
  checkKeys(value as object, keys, where, name);
  for (const key of keys) {
    if ((value as Record<string, unknown>)[key] === undefined) {
      throw new TypeError(`${where}: ${name}.${key} must be given (null for none)`);
    }
  }
}

function checkConcurrency(value: number | null, where: string, name: string): void {
  if (value === null) return;
  checkInt(value, 1, MAX_CONCURRENCY, `${where}: ${name}`);
}

function checkRate(rate: RateLimit | null, where: string, name: string): void {
  if (rate === null) return;
  checkShape(rate, RATE_KEYS, where, name);
  checkInt(rate.max, 1, MAX_RATE, `${where}: ${name}.max`);
  checkInt(rate.per, 1, MAX_RATE_WINDOW, `${where}: ${name}.per`);
}
