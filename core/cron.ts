/**
 * Cron expressions: parsing and the next run time in an IANA time zone.
 *
 * @module
 */

import {
  type CronField,
  DAY_OF_MONTH,
  DAY_OF_WEEK,
  type FieldSpec,
  HOUR,
  MINUTE,
  MONTH,
  parseField,
  SECOND,
} from "./cron_fields.ts";
import { CronSyntaxError } from "./cron_syntax_error.ts";
import { MAX_OFFSET_SHIFT_MS, wallTime, ZonedTime } from "./zoned_time.ts";

export { CronSyntaxError } from "./cron_syntax_error.ts";

/** How far {@linkcode Cron.next} looks before it answers null. */
export const CRON_SEARCH_YEARS = 10;

const DAY_MS = 86_400_000;
/** Epoch ms Dates can hold, less the search window. */
const MAX_AFTER = 8.64e15 - (CRON_SEARCH_YEARS + 1) * 366 * DAY_MS;

const NICKNAMES: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const FIVE_FIELDS: readonly FieldSpec[] = [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK];
const SIX_FIELDS: readonly FieldSpec[] = [SECOND, ...FIVE_FIELDS];
/** Days in each month of a leap year: what "can this day ever happen" asks. */
const MOST_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * A parsed cron expression in a time zone, and the times it fires.
 *
 * Syntax: five fields (minute hour day-of-month month day-of-week), or six
 * with seconds first (croner's convention). Each field takes `*`, values,
 * lists `1,2,5`, ranges `1-5`, steps `*\/15`, `1-30/5` and `5/10` (5, 15 ...
 * through the field's end); months JAN-DEC and weekdays SUN-SAT in any case,
 * also in ranges (`MON-FRI`); weekday 0 and 7 are both Sunday; `?` means `*`
 * in the two day fields. Nicknames: `@yearly` (`@annually`), `@monthly`,
 * `@weekly`, `@daily` (`@midnight`), `@hourly`. Quartz's `L`, `W` and `#`
 * are refused. When both day fields are restricted (neither is `*`), a day
 * matches if EITHER does (Vixie cron, croner's default).
 *
 * Daylight saving time, as croner (and Vixie cron) handles it:
 * - A fixed-time job (one value in each of second, minute and hour, e.g.
 *   `30 2 * * *`) runs once a day whatever the clock does: a wall time the
 *   clock skips runs at the first instant after the jump, the same day
 *   (02:30 on Berlin's spring-forward day runs at 03:00 CEST, not 03:30); a
 *   wall time that happens twice runs at its first occurrence only.
 * - Any other job (a `*`, step, range or list in second, minute or hour, e.g.
 *   `0 * * * *`, `*\/15 * * * *`, `30 2,14 * * *`) runs at every real
 *   instant whose wall time matches: skipped wall times do not run, repeated
 *   ones run on both passes (`0 * * * *` fires at 02:00 CEST and again at
 *   02:00 CET on Berlin's fall-back night).
 *
 * @example Every weekday at 09:00 in Berlin
 * ```ts
 * import { Cron } from "./cron.ts";
 *
 * const cron = Cron.parse("0 9 * * MON-FRI", "Europe/Berlin");
 * const next = cron.next(Date.parse("2026-07-03T08:00:00Z")); // a Friday
 * console.log(new Date(next!).toISOString()); // 2026-07-06T07:00:00.000Z (Monday)
 * ```
 */
export class Cron {
  /** The expression as given, trimmed. */
  readonly expression: string;
  /** The canonical zone name, as Intl resolves it (`europe/berlin` becomes `Europe/Berlin`). */
  readonly tz: string;
  readonly #zone: ZonedTime;
  readonly #second: CronField;
  readonly #minute: CronField;
  readonly #hour: CronField;
  readonly #dayOfMonth: CronField;
  readonly #month: CronField;
  readonly #dayOfWeek: CronField;
  /** One run a day whatever DST does (see the class doc). */
  readonly #fixedTime: boolean;

  private constructor(expression: string, zone: ZonedTime, fields: readonly CronField[]) {
    this.expression = expression;
    this.tz = zone.zone;
    this.#zone = zone;
    [this.#second, this.#minute, this.#hour, this.#dayOfMonth, this.#month, this.#dayOfWeek] =
      fields;
    this.#fixedTime = [this.#second, this.#minute, this.#hour].every((field) =>
      field.count === 1 && !/[*/]/.test(field.text)
    );
  }

  /**
   * Parses `expression` in zone `tz` (any IANA name; default "UTC"). Throws
   * a {@linkcode CronSyntaxError} on bad input, on an unknown zone, and on
   * an expression that can never match (`0 0 30 2 *`).
   *
   * @example
   * ```ts
   * import { Cron } from "./cron.ts";
   *
   * const cron = Cron.parse("  @daily ", "europe/berlin");
   * console.log(cron.expression, cron.tz); // "@daily" "Europe/Berlin"
   * ```
   */
  static parse(expression: string, tz: string = "UTC"): Cron {
    if (typeof expression !== "string") {
      throw new CronSyntaxError(`cron expression must be a string, got ${typeof expression}`);
    }
    if (typeof tz !== "string") {
      throw new CronSyntaxError(`time zone must be a string, got ${typeof tz}`);
    }
    const trimmed = expression.trim();
    let text = trimmed;
    if (text.startsWith("@")) {
      const expanded = NICKNAMES[text.toLowerCase()];
      if (expanded === undefined) {
        throw new CronSyntaxError(
          `cron expression ${JSON.stringify(trimmed)} is not a known nickname; expected ` +
            Object.keys(NICKNAMES).join(", "),
        );
      }
      text = expanded;
    }
    const parts = text === "" ? [] : text.split(/\s+/);
    if (parts.length !== 5 && parts.length !== 6) {
      throw new CronSyntaxError(
        `cron expression ${JSON.stringify(trimmed)} has ${parts.length} field` +
          `${parts.length === 1 ? "" : "s"}; expected 5 or 6 (seconds first)`,
      );
    }
    const specs = parts.length === 6 ? SIX_FIELDS : FIVE_FIELDS;
    const fields = parts.map((part, index) => parseField(part, specs[index], index + 1));
    if (parts.length === 5) fields.unshift(parseField("0", SECOND, 0));
    neverMatches(trimmed, fields[3], fields[4], fields[5]);
    let zone: ZonedTime;
    try {
      zone = ZonedTime.of(tz);
    } catch (error) {
      throw new CronSyntaxError((error as Error).message);
    }
    return new Cron(trimmed, zone, fields);
  }

  /**
   * The first run time strictly after `after` (epoch ms), to the second, or
   * null if there is none in the next {@linkcode CRON_SEARCH_YEARS} years
   * (an expression that never matches is refused by {@linkcode Cron.parse},
   * so null is rare: the longest wait, Feb 29 across a century, is 8 years).
   *
   * @example
   * ```ts
   * import { Cron } from "./cron.ts";
   *
   * const leapDay = Cron.parse("0 0 29 2 *");
   * console.log(new Date(leapDay.next(Date.UTC(2027, 0, 1))!).toISOString());
   * // 2028-02-29T00:00:00.000Z
   * ```
   */
  next(after: number): number | null {
    if (typeof after !== "number" || !(Math.abs(after) <= MAX_AFTER)) {
      throw new RangeError(`Cron.next: after must be epoch milliseconds, got ${after}`);
    }
    const zone = this.#zone;
    const wall = zone.wallAt(after);
    const limitYear = new Date(wall).getUTCFullYear() + CRON_SEARCH_YEARS;
    let best = this.#nextAfterWall(wall, after, limitYear);
    if (!this.#fixedTime) {
      const repeated = this.#secondPassBefore(wall, after, limitYear);
      if (repeated !== null && (best === null || repeated < best)) best = repeated;
    }
    return best;
  }

  /** The first run at a wall time later than `wall`, at an instant after `after`. */
  #nextAfterWall(wall: number, after: number, limitYear: number): number | null {
    const zone = this.#zone;
    for (let candidate = wall + 1000;; candidate += 1000) {
      const found = this.#nextMatchingWall(candidate, limitYear);
      if (found === null) return null;
      candidate = found;
      const instants = zone.instantsOf(candidate);
      switch (instants.kind) {
        case "single":
          if (instants.at > after) return instants.at;
          break;
        case "repeated":
          if (instants.earlier > after) return instants.earlier;
          if (!this.#fixedTime && instants.later > after) return instants.later;
          break;
        case "skipped": {
          const { transition } = instants;
          const sameDay = Math.floor(zone.wallAt(transition) / DAY_MS) ===
            Math.floor(candidate / DAY_MS);
          if (this.#fixedTime && sameDay && transition > after) return transition;
        }
      }
    }
  }

  /**
   * When `after` falls in the first pass of an hour the clock is about to
   * repeat, wall times at or before its own come round again: the first of
   * those that matches, on its second pass.
   */
  #secondPassBefore(wall: number, after: number, limitYear: number): number | null {
    const zone = this.#zone;
    const offset = zone.offsetAt(after);
    if (zone.offsetAt(after + MAX_OFFSET_SHIFT_MS) >= offset) return null;
    const transition = zone.transitionBetween(after, after + MAX_OFFSET_SHIFT_MS);
    const laterOffset = zone.offsetAt(transition);
    const repeatStart = transition + laterOffset;
    if (repeatStart > wall) return null;
    const found = this.#nextMatchingWall(repeatStart, limitYear);
    return found !== null && found <= wall ? found - laterOffset : null;
  }

  /** The first wall time at or after `wall` that the fields match: a walk field by field. */
  #nextMatchingWall(wall: number, limitYear: number): number | null {
    const date = new Date(wall);
    let year = date.getUTCFullYear();
    let month = date.getUTCMonth() + 1;
    let day = date.getUTCDate();
    let hour = date.getUTCHours();
    let minute = date.getUTCMinutes();
    let second = date.getUTCSeconds();
    while (year <= limitYear) {
      const nextMonth = this.#month.nextFrom[month];
      if (nextMonth < 0) {
        [year, month, day, hour, minute, second] = [year + 1, 1, 1, 0, 0, 0];
        continue;
      }
      if (nextMonth !== month) [month, day, hour, minute, second] = [nextMonth, 1, 0, 0, 0];
      if (day > daysInMonth(year, month)) {
        [month, day, hour, minute, second] = [month + 1, 1, 0, 0, 0];
        continue;
      }
      if (!this.#dayMatches(year, month, day)) {
        [day, hour, minute, second] = [day + 1, 0, 0, 0];
        continue;
      }
      const nextHour = this.#hour.nextFrom[hour];
      if (nextHour < 0) {
        [day, hour, minute, second] = [day + 1, 0, 0, 0];
        continue;
      }
      if (nextHour !== hour) [hour, minute, second] = [nextHour, 0, 0];
      const nextMinute = this.#minute.nextFrom[minute];
      if (nextMinute < 0) {
        [hour, minute, second] = [hour + 1, 0, 0];
        continue;
      }
      if (nextMinute !== minute) [minute, second] = [nextMinute, 0];
      const nextSecond = this.#second.nextFrom[second];
      if (nextSecond < 0) {
        [minute, second] = [minute + 1, 0];
        continue;
      }
      return wallTime(year, month, day, hour, minute, nextSecond);
    }
    return null;
  }

  /** Day-of-month OR day-of-week when both are restricted; else the restricted one. */
  #dayMatches(year: number, month: number, day: number): boolean {
    const byMonthDay = this.#dayOfMonth.allows[day];
    if (this.#dayOfWeek.star) return byMonthDay;
    const weekday = new Date(wallTime(year, month, day)).getUTCDay();
    const byWeekday = this.#dayOfWeek.allows[weekday];
    return this.#dayOfMonth.star ? byWeekday : byMonthDay || byWeekday;
  }
}

/**
 * A canonical text of a cron's timing, expression (whitespace normalised)
 * and zone: two schedules with the same key fire at the same times, so a
 * changed key means the timing changed.
 *
 * @example
 * ```ts
 * import { Cron, cronTimingKey } from "./cron.ts";
 *
 * console.log(cronTimingKey(Cron.parse(" 0  9 * * *", "Europe/Berlin")));
 * // cron 0 9 * * * Europe/Berlin
 * ```
 */
export function cronTimingKey(cron: Cron): string {
  return `cron ${cron.expression.split(/\s+/).join(" ")} ${cron.tz}`;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return MOST_DAYS[month];
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** Refuses day-of-month values no allowed month has, when day-of-week cannot rescue them. */
function neverMatches(
  expression: string,
  dayOfMonth: CronField,
  month: CronField,
  dayOfWeek: CronField,
): void {
  if (dayOfMonth.star || !dayOfWeek.star) return;
  const days = values(dayOfMonth);
  const months = values(month);
  if (months.some((m) => days.some((d) => d <= MOST_DAYS[m]))) return;
  throw new CronSyntaxError(
    `cron expression ${JSON.stringify(expression)} never matches ` +
      `(day${days.length === 1 ? "" : "s"} ${days.join(",")} of ` +
      `month${months.length === 1 ? "" : "s"} ${months.join(",")})`,
  );
}

function values(field: CronField): number[] {
  const out: number[] = [];
  field.allows.forEach((allowed, value) => allowed && out.push(value));
  return out;
}
