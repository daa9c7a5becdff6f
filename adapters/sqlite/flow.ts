/**
 * Flow control in SQL (see `core/storage_limits.ts`): a queue's stored
 * limits, its rate log and hold, and its groups' lanes taking turns, as
 * MemoryStorage's `Flow` keeps them, in the `queues`, `groups` and
 * `rate_starts` tables.
 *
 * The turns: a lane with waiting jobs is `ready` with a `turn` (a number of
 * the store's sequence), and the ready lane with the lowest turn goes next;
 * the jobs without a group are one more lane, whose turn is the queue's
 * `ungrouped_turn` (that of its last take). A lane at its limit leaves the
 * turns, as `full` (until one of its jobs leaves `active`) or `timed`
 * (until `free_at`), and joins the back when it frees. Counts of waiting
 * and active jobs are read from the `jobs` table (its indexes), never kept.
 *
 * @module
 */

import type { GroupInfo, GroupLimits, QueueLimits, RateLimit } from "../../core/storage_limits.ts";
import type { Database, Row } from "./database.ts";
import type { Step } from "./step.ts";

/** What a queue's row says about its flow. */
interface QueueFlow {
  limits: QueueLimits | null;
  holdUntil: number | null;
  ungroupedTurn: number;
}

/**
 * The flow control of every queue of one database (see the module doc).
 *
 * @example
 * ```ts
 * import { openDatabase } from "./database.ts";
 * import { Flow } from "./flow.ts";
 * import { openSchema } from "./schema.ts";
 * import { DEFAULT_BUSY_POLICY } from "./transaction.ts";
 *
 * const db = await openDatabase(":memory:");
 * await openSchema(db, { busy: DEFAULT_BUSY_POLICY });
 * console.log(new Flow(db).getLimits("api")); // null
 * db.close();
 * ```
 */
export class Flow {
  readonly #db: Database;

  /** The flow control of `db`. */
  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Whether `queue` reserves through the turns: it has limits, a hold or
   * lanes (MemoryStorage makes a queue's `Flow` for the first of these, and
   * keeps it). Other queues reserve in plain priority order, as fast.
   */
  controls(queue: string): boolean {
    const row = this.#db.prepare(
      "SELECT limits IS NOT NULL OR hold_until IS NOT NULL OR " +
        "EXISTS (SELECT 1 FROM groups WHERE queue = ?1) AS flow FROM queues WHERE name = ?1",
    ).get(queue);
    return row !== undefined && Number(row.flow) === 1;
  }

  /** A job of `group` of `queue` became waiting: an idle lane takes its turn at the back. */
  pushWaiting(step: Step, queue: string, group: string | null | undefined): void {
    if (group === null || group === undefined) return;
    const lane = this.#lane(step, queue, group);
    if (lane.place === "idle") this.#makeReady(step, queue, group);
  }

  /**
   * A job of `group` (or none) of `queue` left `active`: a full lane frees,
   * and a worker waiting for a place under a concurrency limit is woken.
   */
  leftActive(step: Step, queue: string, group?: string | null): void {
    const flow = this.#queueFlow(queue);
    if (flow === undefined) return;
    const queueBound = flow.limits?.concurrency != null;
    let wake = queueBound;
    if (group !== null && group !== undefined) {
      const lane = this.#laneRow(queue, group);
      if (lane !== undefined) {
        if (lane.place === "full") {
          this.#setPlace(queue, group, "idle");
          // The job leaving is still active here: count the others' waiting jobs.
          if (this.#waiting(queue, group, 1) > 0) this.#makeReady(step, queue, group);
          wake = true;
        } else if (this.#limitsOf(flow, lane)?.concurrency != null) wake = true;
      }
    }
    if (wake) step.work.add(queue);
  }

  /**
   * Takes up to `want` jobs of `queue` in turns, as its limits and its
   * lanes' let it; `take` activates a row.
   */
  take(step: Step, queue: string, want: number, now: number, take: (row: Row) => void): void {
    const db = this.#db;
    const flow = this.#queueFlow(queue)!;
    const allowed = this.#allowed(queue, flow, want, now);
    if (allowed <= 0) return;
    this.#releaseDue(step, queue, now);
    const nextUngrouped = db.prepare(
      "SELECT * FROM jobs WHERE queue = ? AND state = 'waiting' AND grp IS NULL " +
        "ORDER BY priority DESC, seq LIMIT 1",
    );
    const nextReady = db.prepare(
      "SELECT * FROM groups WHERE queue = ? AND place = 'ready' ORDER BY turn LIMIT 1",
    );
    const nextOfLane = db.prepare(
      "SELECT * FROM jobs WHERE queue = ? AND state = 'waiting' AND grp = ? " +
        "ORDER BY priority DESC, seq LIMIT 1",
    );
    let ungroupedTurn = flow.ungroupedTurn;
    let taken = 0;
    while (taken < allowed) {
      const lane = nextReady.get(queue);
      // The next ungrouped job, if any (those taken are active, or buried, by now).
      const ungrouped = lane === undefined || ungroupedTurn < Number(lane.turn)
        ? nextUngrouped.get(queue)
        : undefined;
      if (ungrouped !== undefined) {
        ungroupedTurn = step.seq();
        take(ungrouped);
        taken++;
        continue;
      }
      if (lane === undefined) break;
      const group = String(lane.name);
      this.#setPlace(queue, group, "idle");
      // Counted only as far as the loop needs: none, one, or more (a lane may hold thousands).
      const count = this.#waiting(queue, group, 2);
      if (count === 0) continue; // its waiting jobs were removed meanwhile
      const limits = this.#limitsOf(flow, lane);
      const blocked = this.#blockedUntil(queue, group, lane, limits, now);
      if (blocked !== 0) {
        if (blocked === Infinity) this.#setPlace(queue, group, "full");
        else {
          db.prepare(
            "UPDATE groups SET place = 'timed', free_at = ?, turn = ? " +
              "WHERE queue = ? AND name = ?",
          ).run(blocked, step.seq(), queue, group);
        }
        continue;
      }
      take(nextOfLane.get(queue, group)!);
      taken++;
      if (limits?.rate != null) this.#addStarts(step, queue, group, now, 1);
      if (count > 1) this.#makeReady(step, queue, group);
    }
    db.prepare("UPDATE queues SET ungrouped_turn = ? WHERE name = ?").run(ungroupedTurn, queue);
    if (taken > 0 && flow.limits?.rate != null) this.#addStarts(step, queue, "", now, taken);
  }

  /**
   * When a time frees `queue`'s waiting jobs (its hold or rate window, or a
   * timed lane), or null; only while it has waiting jobs.
   */
  nextAt(queue: string, now: number): number | null {
    const db = this.#db;
    const waiting = db.prepare("SELECT 1 FROM jobs WHERE queue = ? AND state = 'waiting' LIMIT 1")
      .get(queue);
    if (waiting === undefined) return null;
    const flow = this.#queueFlow(queue)!;
    let at: number | null = null;
    if (flow.holdUntil !== null && flow.holdUntil > now) at = flow.holdUntil;
    else if (flow.limits?.rate != null && this.#free(queue, "", now, flow.limits.rate) <= 0) {
      at = this.#freesAt(queue, "", flow.limits.rate);
    }
    const timed = db.prepare(
      "SELECT min(free_at) AS at FROM groups WHERE queue = ? AND place = 'timed'",
    ).get(queue)!.at;
    if (timed !== null && (at === null || Number(timed) < at)) at = Number(timed);
    return at;
  }

  /** Holds `group` of `queue` (the queue, without one) until `until`; never shortens a hold. */
  hold(step: Step, queue: string, group: string | null | undefined, until: number): void {
    if (group === null || group === undefined) {
      this.#db.prepare(
        "UPDATE queues SET hold_until = max(coalesce(hold_until, ?1), ?1) WHERE name = ?2",
      ).run(until, queue);
      return;
    }
    this.#lane(step, queue, group);
    this.#db.prepare(
      "UPDATE groups SET hold_until = max(coalesce(hold_until, ?1), ?1) " +
        "WHERE queue = ?2 AND name = ?3",
    ).run(until, queue, group);
  }

  /** Replaces the limits of `queue` (null clears them); blocked lanes take their turn again. */
  setLimits(step: Step, queue: string, limits: QueueLimits | null, now: number): void {
    this.#db.prepare("UPDATE queues SET limits = ? WHERE name = ?").run(
      limits === null ? "null" : JSON.stringify(copyLimits(limits)),
      queue,
    );
    this.#limitsChanged(step, queue);
    this.sweep(queue, now);
    step.work.add(queue);
  }

  /** The limits of `queue`, or null. */
  getLimits(queue: string): QueueLimits | null {
    return this.#queueFlow(queue)?.limits ?? null;
  }

  /** Replaces the override of one group of `queue` (null removes it). */
  setGroupLimits(
    step: Step,
    queue: string,
    group: string,
    limits: GroupLimits | null,
    now: number,
  ): void {
    this.#lane(step, queue, group);
    this.#db.prepare("UPDATE groups SET override = ? WHERE queue = ? AND name = ?").run(
      limits === null ? null : JSON.stringify(copyGroupLimits(limits)),
      queue,
      group,
    );
    this.#limitsChanged(step, queue);
    this.sweep(queue, now);
    step.work.add(queue);
  }

  /** The groups of `queue` by name, paged (those with waiting or active jobs, or an override). */
  groups(queue: string, now: number, offset: number, limit: number): GroupInfo[] {
    const rows = this.#db.prepare(
      "SELECT g.name, g.override, g.hold_until, " +
        "(SELECT count(*) FROM jobs WHERE queue = g.queue AND state = 'waiting' " +
        "AND grp = g.name) AS waiting, " +
        "(SELECT count(*) FROM jobs WHERE queue = g.queue AND state = 'active' " +
        "AND grp = g.name) AS active FROM groups g WHERE g.queue = ? " +
        "AND (g.override IS NOT NULL OR waiting > 0 OR active > 0) " +
        "ORDER BY g.name LIMIT ? OFFSET ?",
    ).all(queue, limit, offset);
    return rows.map((row) => ({
      name: String(row.name),
      waiting: Number(row.waiting),
      active: Number(row.active),
      limits: row.override === null ? null : JSON.parse(String(row.override)),
      heldUntil: row.hold_until !== null && Number(row.hold_until) > now
        ? Number(row.hold_until)
        : null,
    }));
  }

  /** Drops the lanes nothing needs any more (no jobs, override, hold or counted start). */
  sweep(queue: string, now: number): void {
    const flow = this.#queueFlow(queue);
    if (flow === undefined) return;
    const lanes = this.#db.prepare(
      "SELECT * FROM groups g WHERE queue = ? AND place = 'idle' AND override IS NULL " +
        "AND (hold_until IS NULL OR hold_until <= ?) AND NOT EXISTS (SELECT 1 FROM jobs " +
        "WHERE queue = g.queue AND grp = g.name AND state = 'waiting') AND NOT EXISTS " +
        "(SELECT 1 FROM jobs WHERE queue = g.queue AND grp = g.name AND state = 'active')",
    ).all(queue, now);
    for (const lane of lanes) {
      const group = String(lane.name);
      const rate = this.#limitsOf(flow, lane)?.rate;
      if (rate != null) this.#free(queue, group, now, rate);
      const started = this.#db.prepare(
        "SELECT 1 FROM rate_starts WHERE queue = ? AND grp = ? LIMIT 1",
      ).get(queue, group);
      if (started !== undefined) continue;
      this.#db.prepare("DELETE FROM groups WHERE queue = ? AND name = ?").run(queue, group);
    }
  }

  #queueFlow(queue: string): QueueFlow | undefined {
    const row = this.#db.prepare(
      "SELECT limits, hold_until, ungrouped_turn FROM queues WHERE name = ?",
    ).get(queue);
    if (row === undefined) return undefined;
    return {
      limits: row.limits === null ? null : JSON.parse(String(row.limits)),
      holdUntil: row.hold_until === null ? null : Number(row.hold_until),
      ungroupedTurn: Number(row.ungrouped_turn),
    };
  }

  /** How many jobs the queue's own limits let a reserve take at `now`, at most `want`. */
  #allowed(queue: string, flow: QueueFlow, want: number, now: number): number {
    if (flow.holdUntil !== null && flow.holdUntil > now) return 0;
    const limits = flow.limits;
    if (limits === null) return want;
    if (limits.concurrency !== null) {
      const active = Number(
        this.#db.prepare("SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = 'active'")
          .get(queue)!.n,
      );
      want = Math.min(want, limits.concurrency - active);
    }
    if (limits.rate !== null) want = Math.min(want, this.#free(queue, "", now, limits.rate));
    return want;
  }

  /** 0 when the lane may give a job now; else Infinity (full) or when it frees. */
  #blockedUntil(
    queue: string,
    group: string,
    lane: Row,
    limits: GroupLimits | null,
    now: number,
  ): number {
    if (lane.hold_until !== null && Number(lane.hold_until) > now) return Number(lane.hold_until);
    if (limits === null) return 0;
    if (limits.concurrency !== null) {
      const active = Number(
        this.#db.prepare(
          "SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = 'active' AND grp = ?",
        ).get(queue, group)!.n,
      );
      if (active >= limits.concurrency) return Infinity;
    }
    if (limits.rate !== null && this.#free(queue, group, now, limits.rate) <= 0) {
      return this.#freesAt(queue, group, limits.rate);
    }
    return 0;
  }

  /** Timed lanes whose time came join the turns, earliest first. */
  #releaseDue(step: Step, queue: string, now: number): void {
    const due = this.#db.prepare(
      "SELECT name FROM groups WHERE queue = ? AND place = 'timed' AND free_at <= ? " +
        "ORDER BY free_at, turn",
    ).all(queue, now);
    for (const { name } of due) {
      const group = String(name);
      this.#setPlace(queue, group, "idle");
      if (this.#waiting(queue, group, 1) > 0) this.#makeReady(step, queue, group);
    }
  }

  /** Every blocked lane with waiting jobs takes its turn again, in the order lanes were made. */
  #limitsChanged(step: Step, queue: string): void {
    const blocked = this.#db.prepare(
      "SELECT name FROM groups WHERE queue = ? AND place IN ('full', 'timed') ORDER BY born",
    ).all(queue);
    for (const { name } of blocked) {
      const group = String(name);
      this.#setPlace(queue, group, "idle");
      if (this.#waiting(queue, group, 1) > 0) this.#makeReady(step, queue, group);
    }
  }

  /** The lane's limits: its override, else the queue's `group` ones. */
  #limitsOf(flow: QueueFlow, lane: Row): GroupLimits | null {
    if (lane.override !== null) return JSON.parse(String(lane.override));
    return flow.limits?.group ?? null;
  }

  /** The lane of `group`, made when first asked for. */
  #lane(step: Step, queue: string, group: string): Row {
    const lane = this.#laneRow(queue, group);
    if (lane !== undefined) return lane;
    this.#db.prepare("INSERT INTO groups (queue, name, born) VALUES (?, ?, ?)").run(
      queue,
      group,
      step.seq(),
    );
    return this.#laneRow(queue, group)!;
  }

  #laneRow(queue: string, group: string): Row | undefined {
    return this.#db.prepare("SELECT * FROM groups WHERE queue = ? AND name = ?").get(queue, group);
  }

  #setPlace(queue: string, group: string, place: string): void {
    this.#db.prepare("UPDATE groups SET place = ? WHERE queue = ? AND name = ?").run(
      place,
      queue,
      group,
    );
  }

  #makeReady(step: Step, queue: string, group: string): void {
    this.#db.prepare("UPDATE groups SET place = 'ready', turn = ? WHERE queue = ? AND name = ?")
      .run(step.seq(), queue, group);
  }

  /** Waiting jobs of the lane, counted up to `upTo` at most. */
  #waiting(queue: string, group: string, upTo: number): number {
    return Number(
      this.#db.prepare(
        "SELECT count(*) AS n FROM (SELECT 1 FROM jobs " +
          "WHERE queue = ? AND state = 'waiting' AND grp = ? LIMIT ?)",
      ).get(queue, group, upTo)!.n,
    );
  }

  /**
   * Starts still counted in the window `(now - per, now]` of one log
   * (`group` "" is the queue's own), dropping those that left it from the
   * front (the log is in the order of the starts, as MemoryStorage's).
   * Returns how many more the rate allows.
   */
  #free(queue: string, group: string, now: number, rate: RateLimit): number {
    const db = this.#db;
    const oldest = now - rate.per;
    const kept = db.prepare(
      "SELECT min(seq) AS seq FROM rate_starts WHERE queue = ? AND grp = ? AND at > ?",
    ).get(queue, group, oldest)!.seq;
    if (kept === null) {
      db.prepare("DELETE FROM rate_starts WHERE queue = ? AND grp = ?").run(queue, group);
    } else {
      db.prepare("DELETE FROM rate_starts WHERE queue = ? AND grp = ? AND seq < ?").run(
        queue,
        group,
        kept,
      );
    }
    const count = Number(
      db.prepare("SELECT count(*) AS n FROM rate_starts WHERE queue = ? AND grp = ?").get(
        queue,
        group,
      )!.n,
    );
    return rate.max - count;
  }

  /** When the oldest counted start of a log leaves the window. */
  #freesAt(queue: string, group: string, rate: RateLimit): number {
    const row = this.#db.prepare(
      "SELECT at FROM rate_starts WHERE queue = ? AND grp = ? ORDER BY seq LIMIT 1",
    ).get(queue, group)!;
    return Number(row.at) + rate.per;
  }

  #addStarts(step: Step, queue: string, group: string, now: number, count: number): void {
    const insert = this.#db.prepare(
      "INSERT INTO rate_starts (queue, grp, at, seq) VALUES (?, ?, ?, ?)",
    );
    for (let i = 0; i < count; i++) insert.run(queue, group, now, step.seq());
  }
}

/** A copy of `limits` with only the fields a `QueueLimits` has. */
function copyLimits(limits: QueueLimits): QueueLimits {
  return {
    concurrency: limits.concurrency,
    rate: limits.rate === null ? null : { max: limits.rate.max, per: limits.rate.per },
    group: limits.group === null ? null : copyGroupLimits(limits.group),
  };
}

/** A copy of `limits` with only the fields a `GroupLimits` has. */
function copyGroupLimits(limits: GroupLimits): GroupLimits {
  return {
    concurrency: limits.concurrency,
    rate: limits.rate === null ? null : { max: limits.rate.max, per: limits.rate.per },
  };
}
