// croner as the oracle for our cron parser: thousands of random valid
// expressions (a seeded PRNG, so every run checks the same ones), random
// start times across years in five zones, many just before a DST change;
// the next 5 run times must agree exactly. croner is a devDependency only.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Cron as Croner } from "croner";
import { Cron, CronSyntaxError } from "../core/cron.ts";

const SEED = Number(process.env.CRON_ORACLE_SEED ?? 20261203);
const CASES = 4_000;
const RUNS = 5;
const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"];
const FROM_YEAR = 2019;
const TO_YEAR = 2033;

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(SEED);
const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)];

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface Spec {
  min: number;
  max: number;
  /** Where `*` and `a/step` stop (6 for weekdays, where 7 is Sunday again). */
  walkMax: number;
  name?: (value: number) => string;
  day?: boolean;
}

const SPECS: Record<string, Spec> = {
  second: { min: 0, max: 59, walkMax: 59 },
  minute: { min: 0, max: 59, walkMax: 59 },
  hour: { min: 0, max: 23, walkMax: 23 },
  dayOfMonth: { min: 1, max: 31, walkMax: 31, day: true },
  month: { min: 1, max: 12, walkMax: 12, name: (v) => cased(MONTHS[v - 1]) },
  dayOfWeek: { min: 0, max: 7, walkMax: 6, name: (v) => cased(WEEKDAYS[v % 7]), day: true },
};

function cased(name: string): string {
  return pick([name, name.toLowerCase(), name[0] + name.slice(1).toLowerCase()]);
}

function value(spec: Spec, min = spec.min, max = spec.max): string {
  const v = int(min, max);
  // Names where the field has them (weekday 7 stays a number: SUN is 0 outside ranges).
  if (spec.name && random() < 0.3 && !(spec.max === 7 && v === 7)) return spec.name(v);
  return String(v);
}

function rangeEnd(spec: Spec, start: number): string {
  const end = int(start, spec.max);
  if (spec.name && random() < 0.3) {
    if (spec.max === 7 && (end === 7 || end === 0)) return cased("SUN"); // SUN ends a range as 7
    return spec.name(end);
  }
  return String(end);
}

function item(spec: Spec): string {
  const span = spec.walkMax - spec.min + 1;
  switch (int(0, 5)) {
    case 0:
      return value(spec);
    case 1: {
      const start = int(spec.min, spec.max - 1);
      return `${value(spec, start, start)}-${rangeEnd(spec, start)}`;
    }
    case 2:
      return `*/${int(1, span)}`;
    case 3: {
      const start = int(spec.min, spec.max - 1);
      return `${start}-${int(start, spec.max)}/${int(1, span)}`;
    }
    case 4:
      return `${value(spec, spec.min, spec.walkMax)}/${int(1, span)}`; // croner: sloppyRanges
    default:
      return String(int(spec.min, spec.max));
  }
}

function field(spec: Spec, starChance: number): string {
  if (random() < starChance) return spec.day && random() < 0.2 ? "?" : "*";
  const count = random() < 0.7 ? 1 : int(2, 4);
  return Array.from({ length: count }, () => item(spec)).join(",");
}

/** Times near 01:00-03:00 (where DST changes happen) more often than not. */
function hourField(): string {
  if (random() < 0.5) return field(SPECS.hour, 0.3);
  return pick(["1", "2", "3", "0", "1-3", "2,3", "1,2", "*/2", "0-23/3", "2-2", "1-4/1", "23,2"]);
}

function minuteField(): string {
  if (random() < 0.6) return field(SPECS.minute, 0.3);
  return pick(["0", "30", "*/15", "0,30", "59", "15-45/15", "5"]);
}

function expression(): string {
  const fields = [
    minuteField(),
    hourField(),
    field(SPECS.dayOfMonth, 0.6),
    field(SPECS.month, 0.7),
    field(SPECS.dayOfWeek, 0.6),
  ];
  if (random() < 0.25) fields.unshift(pick(["0", "30", "*/20", "15,45", field(SPECS.second, 0.1)]));
  return fields.join(" ");
}

const offsetCache = new Map<string, Intl.DateTimeFormat>();
/** The zone's UTC offset at `instant`, straight from Intl (independent of core/zoned_time.ts). */
function offsetOf(zone: string, instant: number): number {
  let format = offsetCache.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" });
    offsetCache.set(zone, format);
  }
  const name = format.formatToParts(instant).find((p) => p.type === "timeZoneName")!.value;
  const m = /GMT(?:([+-])(\d\d):(\d\d))?/.exec(name)!;
  if (!m[1]) return 0;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

const transitionCache = new Map<string, number[]>();
/** The instants (to the minute) at which `zone` changed its offset in `year`. */
function transitions(zone: string, year: number): number[] {
  const key = `${zone} ${year}`;
  let found = transitionCache.get(key);
  if (found) return found;
  found = [];
  const step = 6 * 3_600_000;
  for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += step) {
    if (offsetOf(zone, t) === offsetOf(zone, t + step)) continue;
    let [low, high] = [t, t + step];
    while (high - low > 60_000) {
      const mid = low + Math.floor((high - low) / 120_000) * 60_000;
      if (offsetOf(zone, mid) === offsetOf(zone, low)) low = mid;
      else high = mid;
    }
    found.push(high);
  }
  transitionCache.set(key, found);
  return found;
}

function startTime(zone: string): number {
  const year = int(FROM_YEAR, TO_YEAR);
  const changes = transitions(zone, year);
  if (changes.length > 0 && random() < 0.5) {
    // Right before (or just after) a DST change: up to 3 hours before, 1 after, odd seconds too.
    return pick(changes) - int(-3_600, 3 * 3_600) * 1000 - pick([0, 0, 0, 1, 500, 999]);
  }
  return Date.UTC(year, 0, 1) + Math.floor(random() * 365 * 86_400) * 1000 + pick([0, 0, 250]);
}

function ours(cron: Cron, start: number): string[] {
  const runs: string[] = [];
  let at = start;
  for (let i = 0; i < RUNS; i++) {
    const next = cron.next(at);
    if (next === null) break;
    runs.push(new Date(next).toISOString());
    at = next;
  }
  return runs;
}

function theirs(expr: string, zone: string, start: number): string[] {
  const croner = new Croner(expr, {
    timezone: zone,
    paused: true,
    mode: "5-or-6-parts",
    sloppyRanges: true, // `5/10` (start/step through the field's end), which we accept
  });
  return croner.nextRuns(RUNS, new Date(start)).map((date) => date.toISOString());
}

describe("Cron against croner (oracle)", () => {
  test(`${CASES} random expressions x ${RUNS} runs agree with croner (seed ${SEED})`, () => {
    console.log(`cron oracle: seed ${SEED} (set CRON_ORACLE_SEED to change it)`);
    const disagreements: string[] = [];
    let compared = 0;
    let neverMatch = 0;
    let nearDst = 0;
    for (let i = 0; i < CASES; i++) {
      const expr = expression();
      const zone = pick(ZONES);
      const start = startTime(zone);
      if (
        transitions(zone, new Date(start).getUTCFullYear()).some((t) =>
          Math.abs(t - start) < 4 * 3_600_000
        )
      ) {
        nearDst++;
      }
      let cron: Cron;
      try {
        cron = Cron.parse(expr, zone);
      } catch (error) {
        // We refuse an expression that can never match; croner accepts it and finds no run.
        if (error instanceof CronSyntaxError && /never matches/.test(error.message)) {
          assert.deepEqual(theirs(expr, zone, start), [], `croner finds runs for ${expr}`);
          neverMatch++;
          continue;
        }
        throw new Error(`we refused ${JSON.stringify(expr)}: ${(error as Error).message}`);
      }
      const mine = ours(cron, start);
      const oracle = theirs(expr, zone, start);
      compared++;
      if (JSON.stringify(mine) !== JSON.stringify(oracle)) {
        disagreements.push(
          `${JSON.stringify(expr)} in ${zone} after ${new Date(start).toISOString()}:\n` +
            `  ours:   ${mine.join(" ")}\n  croner: ${oracle.join(" ")}`,
        );
      }
    }
    console.log(
      `cron oracle: compared ${compared} expressions x ${RUNS} runs with croner ` +
        `(${nearDst} starting near a DST change; ${neverMatch} never-matching refused)`,
    );
    assert.ok(compared >= 3_000, `only ${compared} compared`);
    assert.equal(
      disagreements.length,
      0,
      `${disagreements.length} disagreements:\n${disagreements.slice(0, 20).join("\n")}`,
    );
  });
});
