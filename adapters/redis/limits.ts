/**
 * Flow control's stored settings: a queue's limits, its groups' overrides,
 * and the per-group counts (see `lua/flow.ts` for the keys; the reserve
 * step enforces them, in `lua/reserve.ts`).
 *
 * @module
 */

import type { GroupInfo, GroupLimits, QueueLimits, RateLimit } from "../../core/storage_limits.ts";
import type { Reply } from "./connection.ts";
import { SCRIPTS } from "./scripts.ts";
import type { Slots } from "./slots.ts";

/**
 * Replaces a queue's limits, null clearing them (see RedisStorage.setLimits).
 *
 * @example
 * ```ts ignore
 * await setLimits(slots, "api", { concurrency: 5, rate: null, group: null }, Date.now());
 * ```
 */
export async function setLimits(
  slots: Slots,
  queue: string,
  limits: QueueLimits | null,
  now: number,
): Promise<void> {
  const args: (string | number)[] = [queue, now, limits === null ? "" : "1"];
  args.push(limits?.concurrency ?? "", ...rateArgs(limits?.rate ?? null));
  const group = limits?.group ?? null;
  args.push(group?.concurrency ?? "", ...rateArgs(group?.rate ?? null), group ? "1" : "");
  await slots.run("set limits", SCRIPTS.setLimits, queue, args);
}

/**
 * A queue's limits, or null (see RedisStorage.getLimits).
 *
 * @example
 * ```ts ignore
 * const limits = await getLimits(slots, "api");
 * ```
 */
export async function getLimits(slots: Slots, queue: string): Promise<QueueLimits | null> {
  const f = await slots.run("get limits", SCRIPTS.getLimits, queue, [queue]) as Reply[];
  if (f[0] === null) return null;
  const group = f[7] === null ? null : {
    concurrency: numberOrNull(f[4]),
    rate: rateOf(f[5], f[6]),
  };
  return { concurrency: numberOrNull(f[1]), rate: rateOf(f[2], f[3]), group };
}

/**
 * Replaces one group's override, null removing it (see RedisStorage.setGroupLimits).
 *
 * @example
 * ```ts ignore
 * await setGroupLimits(slots, "api", "tenant-42", { concurrency: 1, rate: null }, Date.now());
 * ```
 */
export async function setGroupLimits(
  slots: Slots,
  queue: string,
  group: string,
  limits: GroupLimits | null,
  now: number,
): Promise<void> {
  const args: (string | number)[] = [queue, group, now, limits === null ? "" : "1"];
  args.push(limits?.concurrency ?? "", ...rateArgs(limits?.rate ?? null));
  await slots.run("set group limits", SCRIPTS.setGroupLimits, queue, args);
}

/**
 * The groups of a queue by name, paged (see RedisStorage.groups).
 *
 * @example
 * ```ts ignore
 * const groups = await listGroups(slots, "api", Date.now(), 0, 100);
 * ```
 */
export async function listGroups(
  slots: Slots,
  queue: string,
  now: number,
  offset: number,
  limit: number,
): Promise<GroupInfo[]> {
  const reply = await slots.run("list groups", SCRIPTS.groups, queue, [
    queue,
    offset,
    limit,
  ]) as Reply[];
  const groups: GroupInfo[] = [];
  for (let i = 0; i < reply.length; i += 8) {
    const held = numberOrNull(reply[i + 3]);
    groups.push({
      name: reply[i] as string,
      waiting: Number(reply[i + 1]),
      active: Math.max(0, numberOrNull(reply[i + 2]) ?? 0),
      limits: reply[i + 4] === null ? null : {
        concurrency: numberOrNull(reply[i + 5]),
        rate: rateOf(reply[i + 6], reply[i + 7]),
      },
      heldUntil: held !== null && held > now ? held : null,
    });
  }
  return groups;
}

function rateArgs(rate: RateLimit | null): (string | number)[] {
  return rate === null ? ["", ""] : [rate.max, rate.per];
}

function numberOrNull(value: Reply | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function rateOf(max: Reply, per: Reply): RateLimit | null {
  return max === null ? null : { max: Number(max), per: Number(per) };
}
