/**
 * Settling: applying finished attempts against their lease tokens (and
 * pruning by retention in the same call), extending leases (the heartbeat)
 * and recording progress.
 *
 * @module
 */

import type { Settlement, SettleOptions } from "../../core/storage.ts";
import type { JsonValue } from "../../core/task.ts";
import { PRUNE_BUDGET, retentionArgs } from "./retention.ts";
import { SCRIPTS } from "./scripts.ts";
import type { Slots } from "./slots.ts";

/**
 * Applies settlements (see RedisStorage.settle); true for each applied.
 * `onFreed` runs when one freed a place under a concurrency limit.
 *
 * @example
 * ```ts ignore
 * const applied = await settle(slots, settlements, { now: Date.now() });
 * ```
 */
export async function settle(
  slots: Slots,
  settlements: readonly Settlement[],
  options: SettleOptions,
  onFreed?: () => void,
): Promise<boolean[]> {
  if (settlements.length === 0) return [];
  const results: boolean[] = new Array(settlements.length).fill(false);
  const groups = await slots.group("settle jobs", settlements.map((s) => s.id));
  const removed: string[] = [];
  let freed = false;
  await Promise.all([...groups].map(async ([queue, indexes]) => {
    // The pruned ids come back only when the id index needs them.
    const args: (string | number)[] = [slots.queueTags ? "1" : ""];
    pushSettleArgs(args, settlements, indexes, options);
    const [applied, pruned, woke] = await slots.run(
      "settle jobs",
      SCRIPTS.settle,
      queue,
      args,
    ) as [number[], string[] | number, number];
    if (woke === 1) freed = true;
    indexes.forEach((i, n) => results[i] = applied[n] === 1);
    if (Array.isArray(pruned)) { for (const id of pruned) removed.push(id); }
  }));
  for (const s of settlements) slots.leased.delete(s.id);
  await slots.forgetIds("settle jobs", removed);
  if (freed) onFreed?.();
  return results;
}

/**
 * Extends many leases (see RedisStorage.extendLeases); true for each held.
 *
 * @example
 * ```ts ignore
 * const held = await extendLeases(slots, [{ id: "a", token }], 30_000, Date.now());
 * ```
 */
export async function extendLeases(
  slots: Slots,
  leases: readonly { id: string; token: string }[],
  leaseMs: number,
  now: number,
): Promise<boolean[]> {
  if (leases.length === 0) return [];
  const results: boolean[] = new Array(leases.length).fill(false);
  const groups = await slots.group("extend leases", leases.map((l) => l.id));
  await Promise.all([...groups].map(async ([queue, indexes]) => {
    const args: (string | number)[] = [now + leaseMs];
    for (const i of indexes) args.push(leases[i].id, leases[i].token);
    const reply = await slots.run("extend leases", SCRIPTS.extend, queue, args) as number[];
    indexes.forEach((i, n) => {
      results[i] = reply[n] === 1;
      if (!results[i]) slots.leased.delete(leases[i].id); // lost: the worker lets it go
    });
  }));
  return results;
}

/**
 * Records progress on an active job (see RedisStorage.setProgress).
 *
 * @example
 * ```ts ignore
 * await setProgress(slots, "a", token, 50);
 * ```
 */
export async function setProgress(
  slots: Slots,
  id: string,
  token: string,
  progress: JsonValue,
  now: number,
): Promise<boolean> {
  const queue = await slots.queueOf("record progress", id);
  if (queue === null) return false;
  const reply = await slots.run("record progress", SCRIPTS.progress, queue, [
    id,
    token,
    JSON.stringify(progress),
    now,
  ]);
  if (reply !== 1) slots.leased.delete(id);
  return reply === 1;
}

/** Appends SETTLE's arguments after the key base for `settlements[indexes]`. */
function pushSettleArgs(
  args: (string | number)[],
  settlements: readonly Settlement[],
  indexes: readonly number[],
  options: SettleOptions,
): void {
  const { now, retention } = options;
  if (retention) {
    args.push(now, ...retentionArgs(retention), PRUNE_BUDGET, indexes.length);
  } else {
    args.push(now, "", "", "", "", PRUNE_BUDGET, indexes.length);
  }
  // Per kind only what it needs: kind, id, token, then a result, an error,
  // a runAt (see lua/settle.ts).
  for (const i of indexes) {
    const s = settlements[i];
    switch (s.kind) {
      case "complete":
        if (s.result === undefined) args.push("c", s.id, s.token);
        else args.push("C", s.id, s.token, JSON.stringify(s.result));
        break;
      case "retry":
        args.push("r", s.id, s.token, JSON.stringify(s.error), s.runAt);
        break;
      case "fail":
        args.push("f", s.id, s.token, JSON.stringify(s.error));
        break;
      case "release":
        if (s.holdUntil === undefined) args.push("l", s.id, s.token, s.runAt ?? "");
        else args.push("L", s.id, s.token, s.runAt ?? "", s.holdUntil);
        break;
      default:
        throw new TypeError(
          `Cannot settle job ${(s as Settlement).id}: unknown kind ${
            JSON.stringify((s as { kind: unknown }).kind)
          }`,
        );
    }
  }
}
