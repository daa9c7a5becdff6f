/**
 * Wall-clock time in an IANA time zone, through `Intl.DateTimeFormat` only
 * (no Temporal: not every runtime has it). A "wall time" here is the local
 * date and time written as if it were UTC: `Date.UTC(y, m - 1, d, h, mi, s)`,
 * so plain millisecond arithmetic walks the local calendar.
 *
 * @module
 */

const HOUR = 3_600_000;

/**
 * How far a single offset change is assumed to move the clock at most. Real
 * DST shifts are 30 minutes to 2 hours; this also bounds the window searched
 * for a transition.
 */
export const MAX_OFFSET_SHIFT_MS = 3 * HOUR;

/** The instants a wall time stands for in one zone. */
export type WallInstants =
  | { kind: "single"; at: number }
  /** The wall time happens twice (the clock was set back): `earlier` is the first pass. */
  | { kind: "repeated"; earlier: number; later: number }
  /** The wall time never happens (the clock jumped over it); `transition` is the first instant after the jump. */
  | { kind: "skipped"; transition: number };

const BUCKET_MS = 15 * 60_000;
const MAX_BUCKETS = 50_000;

const zones = new Map<string, ZonedTime>();

/**
 * One time zone's offsets and wall times. One `Intl.DateTimeFormat` per zone,
 * shared: {@linkcode ZonedTime.of} caches the instances by name.
 *
 * @example
 * ```ts
 * import { ZonedTime } from "./zoned_time.ts";
 *
 * const berlin = ZonedTime.of("europe/berlin");
 * console.log(berlin.zone); // "Europe/Berlin"
 * console.log(berlin.offsetAt(Date.UTC(2026, 6, 1)) / 3_600_000); // 2
 * ```
 */
export class ZonedTime {
  /** The canonical zone name, as Intl resolves it. */
  readonly zone: string;
  readonly #format: Intl.DateTimeFormat | undefined;
  /** Offsets by 15-minute bucket, for buckets with one offset throughout (NaN: it changes inside). */
  readonly #buckets = new Map<number, number>();

  private constructor(zone: string, format: Intl.DateTimeFormat | undefined) {
    this.zone = zone;
    this.#format = format;
  }

  /**
   * The zone named `name` (any IANA name, any case); throws a RangeError
   * `unknown time zone "Mars/Base"` for a name Intl does not know.
   */
  static of(name: string): ZonedTime {
    const cached = zones.get(name);
    if (cached !== undefined) return cached;
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat("en-US", {
        timeZone: name,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
        era: "short",
      });
    } catch {
      throw new RangeError(`unknown time zone ${JSON.stringify(name)}`);
    }
    const zone = format.resolvedOptions().timeZone;
    const canonical = zones.get(zone);
    // UTC needs no formatter at all: its offset is always 0.
    const zoned = canonical ?? new ZonedTime(zone, isUtc(zone) ? undefined : format);
    zones.set(name, zoned);
    zones.set(zone, zoned);
    return zoned;
  }

  /** The zone's offset from UTC at `instant` (ms; positive east of Greenwich). */
  offsetAt(instant: number): number {
    if (this.#format === undefined) return 0;
    const second = Math.floor(instant / 1000) * 1000;
    // Formatting is the slow part: remember each 15-minute bucket's offset
    // when its two ends agree (no zone changes its offset twice in 15 minutes).
    const bucket = Math.floor(second / BUCKET_MS);
    let offset = this.#buckets.get(bucket);
    if (offset === undefined) {
      const start = bucket * BUCKET_MS;
      offset = this.#exactOffset(start);
      if (this.#exactOffset(start + BUCKET_MS - 1000) !== offset) offset = NaN;
      if (this.#buckets.size >= MAX_BUCKETS) this.#buckets.clear();
      this.#buckets.set(bucket, offset);
    }
    return Number.isNaN(offset) ? this.#exactOffset(second) : offset;
  }

  #exactOffset(second: number): number {
    return this.#wallOf(second) - second;
  }

  /** The wall time (see the module doc) at `instant`, to the second. */
  wallAt(instant: number): number {
    const second = Math.floor(instant / 1000) * 1000;
    return second + this.offsetAt(second);
  }

  /** The instants that wall time `wall` stands for: one, two (clock set back) or none (skipped). */
  instantsOf(wall: number): WallInstants {
    // Offsets on both sides of any change near `wall`: a change within
    // MAX_OFFSET_SHIFT_MS of the instant gives two candidates.
    const guess = wall - this.offsetAt(wall);
    const before = this.offsetAt(guess - MAX_OFFSET_SHIFT_MS);
    const after = this.offsetAt(guess + MAX_OFFSET_SHIFT_MS);
    const early = wall - before;
    const late = wall - after;
    const earlyFits = this.offsetAt(early) === before;
    const lateFits = this.offsetAt(late) === after;
    if (earlyFits && lateFits && early !== late) {
      return early < late
        ? { kind: "repeated", earlier: early, later: late }
        : { kind: "repeated", earlier: late, later: early };
    }
    if (earlyFits) return { kind: "single", at: early };
    if (lateFits) return { kind: "single", at: late };
    const middle = wall - this.offsetAt(guess);
    if (this.offsetAt(middle) === this.offsetAt(guess)) return { kind: "single", at: middle };
    return { kind: "skipped", transition: this.transitionBetween(late, early) };
  }

  /**
   * The first instant (to the second) in `(from, to]` whose offset differs
   * from the offset at `from`; `to` when there is none. Assumes at most one
   * change in between (a binary search).
   */
  transitionBetween(from: number, to: number): number {
    let low = Math.floor(from / 1000) * 1000;
    let high = Math.ceil(to / 1000) * 1000;
    const offset = this.offsetAt(low);
    while (high - low > 1000) {
      const middle = low + Math.floor((high - low) / 2000) * 1000;
      if (this.offsetAt(middle) === offset) low = middle;
      else high = middle;
    }
    return high;
  }

  #wallOf(second: number): number {
    let year = 0, month = 0, day = 0, hour = 0, minute = 0, sec = 0, bc = false;
    for (const part of this.#format!.formatToParts(second)) {
      switch (part.type) {
        case "year":
          year = Number(part.value);
          break;
        case "month":
          month = Number(part.value);
          break;
        case "day":
          day = Number(part.value);
          break;
        case "hour":
          hour = Number(part.value);
          break;
        case "minute":
          minute = Number(part.value);
          break;
        case "second":
          sec = Number(part.value);
          break;
        case "era":
          bc = part.value.startsWith("B");
      }
    }
    return wallTime(bc ? 1 - year : year, month, day, hour, minute, sec);
  }
}

/** `Date.UTC` for all years (it reads 0-99 as 1900-1999). */
export function wallTime(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

function isUtc(zone: string): boolean {
  return zone === "UTC" || zone === "Etc/UTC" || zone === "Etc/GMT" || zone === "GMT";
}
