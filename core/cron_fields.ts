/**
 * Parsing one field of a cron expression into the set of values it allows.
 *
 * @module
 */

import { CronSyntaxError } from "./cron_syntax_error.ts";

/** What a field may hold. */
export interface FieldSpec {
  readonly name: "second" | "minute" | "hour" | "day-of-month" | "month" | "day-of-week";
  readonly min: number;
  /** The largest value written (7 for day-of-week, where 7 is Sunday like 0). */
  readonly max: number;
  /** Where `*` and an open `start/step` stop (6 for day-of-week, as croner). */
  readonly walkMax: number;
  /** Names for values (JAN..DEC, SUN..SAT), matched case-insensitively. */
  readonly names?: { readonly kind: "month" | "weekday"; readonly values: readonly string[] };
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

export const SECOND: FieldSpec = { name: "second", min: 0, max: 59, walkMax: 59 };
export const MINUTE: FieldSpec = { name: "minute", min: 0, max: 59, walkMax: 59 };
export const HOUR: FieldSpec = { name: "hour", min: 0, max: 23, walkMax: 23 };
export const DAY_OF_MONTH: FieldSpec = { name: "day-of-month", min: 1, max: 31, walkMax: 31 };
export const MONTH: FieldSpec = {
  name: "month",
  min: 1,
  max: 12,
  walkMax: 12,
  names: { kind: "month", values: MONTHS },
};
export const DAY_OF_WEEK: FieldSpec = {
  name: "day-of-week",
  min: 0,
  max: 7,
  walkMax: 6,
  names: { kind: "weekday", values: WEEKDAYS },
};

/** A parsed field: which values it allows, and lookups for walking to the next one. */
export interface CronField {
  /** The field's text as written. */
  readonly text: string;
  /** Written as `*` (or `?` in a day field): the day fields' OR rule looks at this. */
  readonly star: boolean;
  /** `allows[v]` for every v in min..max (day-of-week: 7 folded into 0). */
  readonly allows: readonly boolean[];
  /** `nextFrom[v]`: the smallest allowed value >= v, or -1 (index up to max + 1). */
  readonly nextFrom: readonly number[];
  /** How many distinct values are allowed. */
  readonly count: number;
}

/** Where a field sits in the expression, for error messages. */
export interface FieldPosition {
  readonly position: number;
  readonly name: string;
}

/**
 * Parses `text` as field `spec` at 1-based `position`; throws a
 * {@linkcode CronSyntaxError} naming the field on bad input.
 *
 * @example
 * ```ts
 * import { MINUTE, parseField } from "./cron_fields.ts";
 *
 * const field = parseField("*\/15", MINUTE, 1);
 * console.log(field.count, field.allows[30]); // 4 true
 * ```
 */
export function parseField(text: string, spec: FieldSpec, position: number): CronField {
  const where = { position, name: spec.name };
  const fail = (reason: string): never => {
    throw new CronSyntaxError(`cron field ${position} (${spec.name}) ${reason}`, where);
  };
  const isDayField = spec.name === "day-of-month" || spec.name === "day-of-week";
  const allows = new Array<boolean>(spec.max + 1).fill(false);
  const star = text === "*" || (text === "?" && isDayField);
  if (text === "?") {
    if (!isDayField) fail(`"?" is only allowed in day-of-month and day-of-week`);
    markRange(allows, spec.min, spec.walkMax, 1);
  } else {
    for (const item of text.split(",")) {
      if (item === "") fail(`${JSON.stringify(text)} has an empty list item`);
      parseItem(item, spec, allows, fail);
    }
  }
  if (spec.name === "day-of-week" && allows[7]) {
    allows[7] = false;
    allows[0] = true;
  }
  const nextFrom = new Array<number>(spec.max + 2).fill(-1);
  for (let value = spec.max; value >= 0; value--) {
    nextFrom[value] = allows[value] ? value : nextFrom[value + 1];
  }
  return { text, star, allows, nextFrom, count: allows.filter(Boolean).length };
}

function parseItem(
  item: string,
  spec: FieldSpec,
  allows: boolean[],
  fail: (reason: string) => never,
): void {
  const quoted = JSON.stringify(item);
  unsupported(item, spec, fail);
  const slashes = item.split("/");
  if (slashes.length > 2) fail(`${quoted} has more than one "/"`);
  const [base, stepText] = slashes;
  let step = 1;
  if (stepText !== undefined) {
    if (base === "") fail(`${quoted} has nothing before "/" (write */${stepText})`);
    if (!/^\d+$/.test(stepText)) fail(`step ${JSON.stringify(stepText)} is not a number`);
    step = Number(stepText);
    const largest = spec.walkMax - spec.min + 1;
    if (step < 1) fail(`step ${step} must be at least 1`);
    if (step > largest) fail(`step ${step} is out of range 1-${largest}`);
  }
  if (base === "*") return markRange(allows, spec.min, spec.walkMax, step);
  const dashes = base.split("-");
  if (dashes.length > 2) fail(`${quoted} has more than one "-"`);
  if (dashes.length === 2) {
    const start = parseValue(dashes[0], spec, false, fail);
    const end = parseValue(dashes[1], spec, true, fail);
    if (start > end) fail(`range ${JSON.stringify(base)} runs backwards (${start} > ${end})`);
    return markRange(allows, start, end, step);
  }
  const value = parseValue(base, spec, false, fail);
  // `5/10`: from 5 through the field's end, as croner reads it.
  if (stepText !== undefined) return markRange(allows, value, spec.walkMax, step);
  allows[value] = true;
}

/** Clear refusals for the Quartz-style extensions this parser leaves out. */
function unsupported(item: string, spec: FieldSpec, fail: (reason: string) => never): void {
  const quoted = JSON.stringify(item);
  if (item.includes("#")) fail(`${quoted} uses "#" (nth weekday), which is not supported`);
  if (item.includes("?")) fail(`${quoted}: "?" must stand alone for the whole field`);
  if (spec.names === undefined || !/^[a-z]{3}$/i.test(item)) {
    if (/^L$|^LW$|\dL$/i.test(item)) fail(`${quoted} uses "L" (last), which is not supported`);
    if (/^\d+W$/i.test(item)) {
      fail(`${quoted} uses "W" (nearest weekday), which is not supported`);
    }
  }
}

function parseValue(
  text: string,
  spec: FieldSpec,
  rangeEnd: boolean,
  fail: (reason: string) => never,
): number {
  let value: number;
  if (/^\d+$/.test(text)) {
    value = Number(text);
  } else if (spec.names !== undefined) {
    const index = spec.names.values.indexOf(text.toUpperCase());
    if (index < 0) fail(`${JSON.stringify(text)} is not a ${spec.names.kind} name`);
    value = spec.names.kind === "month" ? index + 1 : index;
    // `FRI-SUN` means Friday through Sunday: SUN ends a range as 7.
    if (rangeEnd && spec.names.kind === "weekday" && value === 0) value = 7;
  } else {
    fail(`${JSON.stringify(text)} is not a number`);
  }
  if (value! < spec.min || value! > spec.max) {
    fail(`${value!} is out of range ${spec.min}-${spec.max}`);
  }
  return value!;
}

function markRange(allows: boolean[], start: number, end: number, step: number): void {
  for (let value = start; value <= end; value += step) allows[value] = true;
}
