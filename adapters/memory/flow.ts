import type { GroupInfo, GroupLimits, QueueLimits } from "../../core/storage_limits.ts";
import { Fifo } from "./fifo.ts";
import { GroupLane } from "./group_lane.ts";
import { Heap } from "./heap.ts";
import { RateLog } from "./rate_log.ts";
import type { Slot } from "./slot.ts";
import type { WaitingList } from "./waiting_list.ts";

/** A lane blocked until a time, as its heap entry (stale once the lane moved on). */
interface TimedEntry {
  lane: GroupLane;
  at: number;
  mark: number;
}

/**
 * A queue's flow control (see `core/storage_limits.ts`): its stored
 * limits, its rate log and hold, and its groups' lanes taking turns. Made
 * for a queue only once it has limits, a hold or a grouped job, so other
 * queues reserve as before.
 *
 * The turns: `ready` holds the lanes with waiting jobs in turn order; the
 * jobs without a group are one more lane, kept out of `ready` (their
 * enqueues touch nothing here) with the turn of its last take in
 * `ungroupedTurn`. A lane at its limit leaves the turns, as `full` (until
 * one of its jobs leaves `active`) or `timed` (until `freeAt`), and joins
 * the back when it frees.
 *
 * @example
 * ```ts
 * import { Flow } from "./flow.ts";
 *
 * const flow = new Flow();
 * flow.limits = { concurrency: 2, rate: null, group: null };
 * console.log(flow.allowed(10, 1, 0)); // 1: one of the two places is taken
 * ```
 */
export class Flow {
  limits: QueueLimits | null = null;
  readonly rate: RateLog = new RateLog();
  /** Until when an ungrouped job's release holds the whole queue. */
  holdUntil = -Infinity;
  readonly lanes: Map<string, GroupLane> = new Map();
  /** Waiting jobs that are in a lane (the queue's count minus these: the ungrouped ones). */
  groupedWaiting = 0;
  #ready = new Fifo<GroupLane>();
  #timed = new Heap<TimedEntry>((a, b) => a.at < b.at || (a.at === b.at && a.mark < b.mark));
  #turn = 0;
  #marks = 0;
  ungroupedTurn = 0;

  /**
   * How many jobs the queue's own limits let a reserve take at `now`, at
   * most `want`, with `active` of its jobs active; 0 while held or full.
   */
  allowed(want: number, active: number, now: number): number {
    if (this.holdUntil > now) return 0;
    const limits = this.limits;
    if (limits === null) return want;
    if (limits.concurrency !== null) want = Math.min(want, limits.concurrency - active);
    if (limits.rate !== null) want = Math.min(want, this.rate.free(now, limits.rate));
    return want;
  }

  /**
   * When the queue's own limits free again for waiting jobs, if a time
   * does it (a hold or a rate window); null otherwise.
   */
  freesAt(now: number): number | null {
    if (this.holdUntil > now) return this.holdUntil;
    const rate = this.limits?.rate;
    if (rate != null && this.rate.free(now, rate) <= 0) return this.rate.freesAt(rate);
    return null;
  }

  /** Counts `count` starts of the queue at `now` in its rate log. */
  started(count: number, now: number): void {
    if (count > 0 && this.limits?.rate != null) this.rate.add(now, count);
  }

  /** The lane of `group`, made when first asked for. */
  lane(group: string): GroupLane {
    let lane = this.lanes.get(group);
    if (lane === undefined) {
      lane = new GroupLane(group);
      this.lanes.set(group, lane);
    }
    return lane;
  }

  /** The limits that apply to `lane`: its override, else the queue's `group` ones. */
  limitsOf(lane: GroupLane): GroupLimits | null {
    return lane.override ?? this.limits?.group ?? null;
  }

  /** `slot` became waiting in its group's lane. */
  pushWaiting(slot: Slot, group: string): void {
    const lane = this.lane(group);
    lane.waiting.push(slot);
    lane.count++;
    this.groupedWaiting++;
    if (lane.place === "idle") this.#makeReady(lane);
  }

  /** A waiting job of `group` was removed or replaced (its entry is skipped lazily). */
  dropWaiting(group: string): void {
    const lane = this.lanes.get(group);
    if (lane === undefined) return;
    lane.count--;
    this.groupedWaiting--;
  }

  /**
   * A job of `group` left `active`. Returns whether that may free a place
   * another worker waits for (a concurrency limit of the lane or queue).
   */
  leftActive(group: string | undefined): boolean {
    const queueBound = this.limits?.concurrency != null;
    if (group === undefined) return queueBound;
    const lane = this.lanes.get(group);
    if (lane === undefined) return queueBound;
    lane.active--;
    if (lane.place !== "full") return queueBound || this.limitsOf(lane)?.concurrency != null;
    lane.place = "idle";
    if (lane.count > 0) this.#makeReady(lane);
    return true;
  }

  /**
   * Takes up to `allowed` jobs in turns: from the ungrouped `waiting` and
   * from the lanes, each at most as its own limits let it. `take` activates
   * a job. Returns how many were taken.
   */
  takeTurns(
    allowed: number,
    waiting: WaitingList,
    ungrouped: number,
    now: number,
    take: (slot: Slot) => void,
  ): number {
    this.#releaseDue(now);
    let taken = 0;
    while (taken < allowed) {
      const lane = this.#peekReady();
      if (ungrouped > 0 && (lane === undefined || this.ungroupedTurn < lane.turn)) {
        const slot = waiting.shift()!; // `ungrouped` live ones are there
        ungrouped--;
        this.ungroupedTurn = ++this.#turn;
        take(slot);
        taken++;
        continue;
      }
      if (lane === undefined) break;
      this.#ready.shift();
      lane.place = "idle";
      if (lane.count === 0) continue; // its waiting jobs were removed meanwhile
      const limits = this.limitsOf(lane);
      const blocked = this.#blockedUntil(lane, limits, now);
      if (blocked !== 0) {
        this.#block(lane, blocked);
        continue;
      }
      const slot = lane.waiting.shift()!;
      lane.count--;
      this.groupedWaiting--;
      lane.active++;
      if (limits?.rate != null) lane.rate.add(now, 1);
      take(slot);
      taken++;
      if (lane.count > 0) this.#makeReady(lane);
    }
    return taken;
  }

  /** The earliest time a timed lane frees, or null. */
  nextFree(): number | null {
    for (let top = this.#timed.peek(); top !== undefined; top = this.#timed.peek()) {
      if (top.lane.place === "timed" && top.lane.timedMark === top.mark) return top.at;
      this.#timed.pop();
    }
    return null;
  }

  /** Holds `group` until `until` (never shortening a hold). */
  holdGroup(group: string, until: number): void {
    const lane = this.lane(group);
    if (until > lane.holdUntil) lane.holdUntil = until;
  }

  /** Holds the whole queue until `until` (never shortening a hold). */
  holdQueue(until: number): void {
    if (until > this.holdUntil) this.holdUntil = until;
  }

  /** Limits changed: every blocked lane with waiting jobs takes its turn again (and is checked then). */
  limitsChanged(): void {
    for (const lane of this.lanes.values()) {
      if (lane.place !== "full" && lane.place !== "timed") continue;
      lane.place = "idle";
      if (lane.count > 0) this.#makeReady(lane);
    }
  }

  /** The groups as `Storage.groups` lists them, by name. */
  groups(now: number, offset: number, limit: number): GroupInfo[] {
    const listed = [...this.lanes.values()]
      .filter((lane) => lane.count > 0 || lane.active > 0 || lane.override !== null)
      .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
      .slice(offset, offset + limit);
    return listed.map((lane) => ({
      name: lane.name,
      waiting: lane.count,
      active: lane.active,
      limits: lane.override === null ? null : copyGroupLimits(lane.override),
      heldUntil: lane.holdUntil > now ? lane.holdUntil : null,
    }));
  }

  /** Drops the lanes nothing needs any more (no jobs, override, hold or counted start). */
  sweep(now: number): void {
    for (const [name, lane] of this.lanes) {
      if (lane.place === "idle" && lane.unused(now, this.limitsOf(lane))) this.lanes.delete(name);
    }
  }

  /** Waiting jobs of every lane, in group-name order (for `list`). */
  *waitingByGroup(): Generator<Slot> {
    const names = [...this.lanes.keys()].sort();
    for (const name of names) yield* this.lanes.get(name)!.waiting.values();
  }

  /** 0 when `lane` may give a job now; else Infinity (full) or when it frees. */
  #blockedUntil(lane: GroupLane, limits: GroupLimits | null, now: number): number {
    if (lane.holdUntil > now) return lane.holdUntil;
    if (limits === null) return 0;
    if (limits.concurrency !== null && lane.active >= limits.concurrency) return Infinity;
    if (limits.rate !== null && lane.rate.free(now, limits.rate) <= 0) {
      return lane.rate.freesAt(limits.rate);
    }
    return 0;
  }

  #block(lane: GroupLane, until: number): void {
    if (until === Infinity) {
      lane.place = "full";
      return;
    }
    lane.place = "timed";
    lane.freeAt = until;
    lane.timedMark = ++this.#marks;
    this.#timed.push({ lane, at: until, mark: lane.timedMark });
  }

  /** Timed lanes whose time came join the turns, earliest first. */
  #releaseDue(now: number): void {
    for (let at = this.nextFree(); at !== null && at <= now; at = this.nextFree()) {
      const { lane } = this.#timed.pop()!;
      lane.place = "idle";
      if (lane.count > 0) this.#makeReady(lane);
    }
  }

  #makeReady(lane: GroupLane): void {
    lane.place = "ready";
    lane.turn = ++this.#turn;
    this.#ready.push(lane);
  }

  /** The lane whose turn is next. */
  #peekReady(): GroupLane | undefined {
    return this.#ready.peek();
  }
}

/** A copy of `limits` (callers may change what they read). */
export function copyGroupLimits(limits: GroupLimits): GroupLimits {
  return {
    concurrency: limits.concurrency,
    rate: limits.rate === null ? null : { ...limits.rate },
  };
}
