/**
 * When a schedule fires: its timing (a cron expression in a zone, or a
 * fixed interval aligned to a start) read from the user's options, and the
 * tick arithmetic the firing worker needs (the next tick, the latest due
 * one, the last few due ones).
 *
 * @module
 */

import { Cron, cronTimingKey } from "./cron.ts";
import { describe } from "./_validate.ts";

/**
 * When a schedule runs: `{ cron, tz? }` (five fields, or six with seconds
 * first, or an `@` name; `tz` an IANA zone, default "UTC"), or
 * `{ every, startAt? }` (every `every` ms, the first run at `startAt`,
 * default one interval after the schedule is created).
 */
export type ScheduleTiming =
  | { cron: string; tz?: string }
  | { every: number; startAt?: number | Date };

/** The latest time a Date can hold: the next tick of a schedule that never runs again. */
const NEVER = 8.64e15;

/** Ticks a timing gives: the first strictly after a time. */
export interface Ticks {
  /** The first tick strictly after `after`, or null if there is none. */
  next(after: number): number | null;
}

/** A timing read from the options, as the storage keeps it. */
export interface ReadTiming {
  cron: string | null;
  tz: string | null;
  every: number | null;
  startAt: number | null;
  /** Canonical text: equal for equal timings (see `NewSchedule.timing`). */
  timing: string;
  ticks: Ticks;
}

/**
 * Reads and checks `timing` (throws with `where` and the reason), with
 * `now` for the default start of `every`.
 *
 * @example
 * ```ts
 * import { readTiming } from "./schedule_timing.ts";
 *
 * const timing = readTiming({ every: 60_000 }, 0, "Cannot schedule \"tick\"");
 * console.log(timing.timing, timing.ticks.next(0)); // "every 60000" 60000
 * ```
 */
export function readTiming(timing: ScheduleTiming, now: number, where: string): ReadTiming {
  if (typeof timing !== "object" || timing === null) {
    throw new TypeError(`${where}: the timing must be { cron, tz? } or { every, startAt? }`);
  }
  const keys = Object.keys(timing);
  const allowed = "cron" in timing ? ["cron", "tz"] : ["every", "startAt"];
  const stray = keys.find((key) => !allowed.includes(key));
  if (stray !== undefined || keys.length === 0) {
    throw new TypeError(
      `${where}: the timing must be { cron, tz? } or { every, startAt? }, got ${
        stray === undefined ? "{}" : `a key ${JSON.stringify(stray)}`
      }`,
    );
  }
  if ("cron" in timing) {
    if (typeof timing.cron !== "string") {
      throw new TypeError(`${where}: cron must be a string, got ${describe(timing.cron)}`);
    }
    const tz = timing.tz ?? "UTC";
    if (typeof tz !== "string") {
      throw new TypeError(`${where}: tz must be a string, got ${describe(tz)}`);
    }
    let cron: Cron;
    try {
      cron = Cron.parse(timing.cron, tz);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new RangeError(`${where}: ${message}`);
    }
    return {
      cron: cron.expression,
      tz: cron.tz,
      every: null,
      startAt: null,
      timing: cronTimingKey(cron),
      ticks: cron,
    };
  }
  const every = timing.every;
  if (typeof every !== "number" || !Number.isInteger(every) || every < 1) {
    throw new RangeError(
      `${where}: every must be an integer number of ms >= 1, got ${describe(every)}`,
    );
  }
  let startAt = now + every;
  let timingText = `every ${every}`;
  if (timing.startAt !== undefined) {
    const at = timing.startAt instanceof Date ? timing.startAt.getTime() : timing.startAt;
    if (typeof at !== "number" || !Number.isFinite(at) || at < 0 || at > NEVER) {
      throw new RangeError(
        `${where}: startAt must be a time (epoch ms or Date), got ${describe(at)}`,
      );
    }
    startAt = Math.ceil(at);
    timingText = `every ${every} from ${startAt}`;
  }
  return {
    cron: null,
    tz: null,
    every,
    startAt,
    timing: timingText,
    ticks: intervalTicks(every, startAt),
  };
}

/**
 * The ticks of a stored schedule's timing.
 *
 * @example
 * ```ts
 * import { ticksOf } from "./schedule_timing.ts";
 *
 * console.log(ticksOf({ cron: null, tz: null, every: 10, startAt: 5 }).next(5)); // 15
 * ```
 */
export function ticksOf(
  stored: { cron: string | null; tz: string | null; every: number | null; startAt: number | null },
): Ticks {
  if (stored.cron !== null) return Cron.parse(stored.cron, stored.tz ?? "UTC");
  return intervalTicks(stored.every!, stored.startAt!);
}

/** `startAt + k * every` for k >= 0. */
function intervalTicks(every: number, startAt: number): Ticks {
  return {
    next(after: number): number {
      if (after < startAt) return startAt;
      return startAt + (Math.floor((after - startAt) / every) + 1) * every;
    },
  };
}

/** The first tick strictly after `after`, or "never" (a time no clock reaches). */
export function nextTick(ticks: Ticks, after: number): number {
  return ticks.next(after) ?? NEVER;
}

/**
 * The ticks in `[from, to]`, the last `max` of them (all of them when
 * fewer), oldest first. Looks back from `to` in growing windows, so a long
 * outage of a frequent schedule costs the ticks of a short window, not of
 * the whole outage.
 *
 * @example
 * ```ts
 * import { lastTicks, readTiming } from "./schedule_timing.ts";
 *
 * const { ticks } = readTiming({ every: 10, startAt: 0 }, 0, "x");
 * console.log(lastTicks(ticks, 0, 1_000, 3)); // [980, 990, 1000]
 * ```
 */
export function lastTicks(ticks: Ticks, from: number, to: number, max: number): number[] {
  for (let window = 1_000;; window *= 8) {
    const start = Math.max(from, to - window);
    const found: number[] = [];
    for (let t = ticks.next(start - 1); t !== null && t <= to; t = ticks.next(t)) {
      found.push(t);
      if (found.length > max) found.shift();
    }
    if (found.length >= max || start === from) return found;
  }
}
