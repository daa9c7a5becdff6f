import type { GroupLimits } from "../../core/storage_limits.ts";
import { RateLog } from "./rate_log.ts";
import { WaitingList } from "./waiting_list.ts";

/**
 * Where a lane is in its queue's turns (see `Flow`): without waiting jobs,
 * waiting for its turn, blocked until one of its jobs leaves `active`
 * (its concurrency), or blocked until a time (its rate window or a hold).
 */
export type LanePlace = "idle" | "ready" | "full" | "timed";

/**
 * One group of a queue: its waiting jobs in the usual order, its active
 * count, its own limits and rate log, and its place in the turns.
 *
 * @example
 * ```ts
 * import { GroupLane } from "./group_lane.ts";
 *
 * const lane = new GroupLane("tenant-42");
 * console.log(lane.place, lane.count, lane.active); // idle 0 0
 * ```
 */
export class GroupLane {
  readonly name: string;
  readonly waiting: WaitingList = new WaitingList();
  /** Its live waiting jobs (removed ones may still sit in `waiting`). */
  count = 0;
  active = 0;
  /** Its override of the queue's `group` limits (`setGroupLimits`), or null. */
  override: GroupLimits | null = null;
  readonly rate: RateLog = new RateLog();
  /** Until when a release's `holdUntil` holds it. */
  holdUntil = -Infinity;
  place: LanePlace = "idle";
  /** Its place in the turns while `ready`. */
  turn = 0;
  /** While `timed`: when it frees, and its entry's mark in the timed heap. */
  freeAt = 0;
  timedMark = 0;

  constructor(name: string) {
    this.name = name;
  }

  /** Whether nothing about it needs keeping (no jobs, override, hold or counted start). */
  unused(now: number, limits: GroupLimits | null): boolean {
    if (this.count > 0 || this.active > 0 || this.override !== null || this.holdUntil > now) {
      return false;
    }
    if (limits?.rate != null) this.rate.free(now, limits.rate);
    return this.rate.empty;
  }
}
