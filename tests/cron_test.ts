import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Cron, CRON_SEARCH_YEARS, CronSyntaxError, cronTimingKey } from "../core/cron.ts";

/** The next `count` runs after `start` (an ISO instant), as ISO instants. */
function runs(expression: string, start: string, count: number, tz?: string): string[] {
  const cron = Cron.parse(expression, tz);
  const out: string[] = [];
  let at = Date.parse(start);
  for (let i = 0; i < count; i++) {
    const next = cron.next(at);
    if (next === null) break;
    out.push(new Date(next).toISOString().replace(".000Z", "Z"));
    at = next;
  }
  return out;
}

/** Asserts that parsing throws a CronSyntaxError with exactly `message`. */
function refuses(expression: string, message: string, tz?: string): CronSyntaxError {
  let caught: unknown;
  try {
    Cron.parse(expression, tz);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof CronSyntaxError, `${expression} was accepted`);
  assert.ok(caught instanceof RangeError);
  assert.equal(caught.message, message);
  return caught;
}

describe("Cron.parse: syntax", () => {
  test("five fields: values, lists, ranges, steps", () => {
    assert.deepEqual(runs("5 4 * * *", "2026-01-01T00:00:00Z", 2), [
      "2026-01-01T04:05:00Z",
      "2026-01-02T04:05:00Z",
    ]);
    assert.deepEqual(runs("1,2,5 0 * * *", "2026-01-01T00:00:00Z", 4), [
      "2026-01-01T00:01:00Z",
      "2026-01-01T00:02:00Z",
      "2026-01-01T00:05:00Z",
      "2026-01-02T00:01:00Z",
    ]);
    assert.deepEqual(runs("0 22-23 * * *", "2026-01-01T00:00:00Z", 3), [
      "2026-01-01T22:00:00Z",
      "2026-01-01T23:00:00Z",
      "2026-01-02T22:00:00Z",
    ]);
    assert.deepEqual(runs("*/15 * * * *", "2026-01-01T00:00:00Z", 4), [
      "2026-01-01T00:15:00Z",
      "2026-01-01T00:30:00Z",
      "2026-01-01T00:45:00Z",
      "2026-01-01T01:00:00Z",
    ]);
    assert.deepEqual(runs("1-30/10 3 * * *", "2026-01-01T00:00:00Z", 4), [
      "2026-01-01T03:01:00Z",
      "2026-01-01T03:11:00Z",
      "2026-01-01T03:21:00Z",
      "2026-01-02T03:01:00Z",
    ]);
  });

  test("`5/10` runs from 5 through the field's end, as croner", () => {
    assert.deepEqual(runs("50/5 0 * * *", "2026-01-01T00:00:00Z", 3), [
      "2026-01-01T00:50:00Z",
      "2026-01-01T00:55:00Z",
      "2026-01-02T00:50:00Z",
    ]);
    assert.deepEqual(runs("0 0 * * 1/2", "2026-01-01T00:00:00Z", 4), [
      "2026-01-02T00:00:00Z", // Fri (5)
      "2026-01-05T00:00:00Z", // Mon (1)
      "2026-01-07T00:00:00Z", // Wed (3)
      "2026-01-09T00:00:00Z", // Fri (5); 7 (Sunday) is not part of the walk
    ]);
  });

  test("six fields: seconds first", () => {
    assert.deepEqual(runs("*/20 * * * * *", "2026-01-01T00:00:00Z", 3), [
      "2026-01-01T00:00:20Z",
      "2026-01-01T00:00:40Z",
      "2026-01-01T00:01:00Z",
    ]);
    assert.deepEqual(runs("30 0 12 * * *", "2026-01-01T00:00:00Z", 1), ["2026-01-01T12:00:30Z"]);
  });

  test("month and weekday names, any case, in ranges and lists", () => {
    const mondays = runs("0 9 * * mon", "2026-01-01T00:00:00Z", 2);
    assert.deepEqual(mondays, ["2026-01-05T09:00:00Z", "2026-01-12T09:00:00Z"]);
    assert.deepEqual(runs("0 9 * * MON-FRI", "2026-01-02T10:00:00Z", 2), [
      "2026-01-05T09:00:00Z",
      "2026-01-06T09:00:00Z",
    ]);
    assert.deepEqual(runs("0 0 1 Jan,jul *", "2026-02-01T00:00:00Z", 2), [
      "2026-07-01T00:00:00Z",
      "2027-01-01T00:00:00Z",
    ]);
    assert.deepEqual(runs("0 0 1 MAR-may *", "2026-01-01T00:00:00Z", 3), [
      "2026-03-01T00:00:00Z",
      "2026-04-01T00:00:00Z",
      "2026-05-01T00:00:00Z",
    ]);
    // SUN ends a range as 7: FRI-SUN is Friday, Saturday, Sunday.
    assert.deepEqual(runs("0 0 * * FRI-SUN", "2026-01-01T00:00:00Z", 4), [
      "2026-01-02T00:00:00Z",
      "2026-01-03T00:00:00Z",
      "2026-01-04T00:00:00Z",
      "2026-01-09T00:00:00Z",
    ]);
  });

  test("weekday 0 and 7 are both Sunday", () => {
    const sundays = ["2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"];
    assert.deepEqual(runs("0 0 * * 0", "2026-01-01T00:00:00Z", 2), sundays);
    assert.deepEqual(runs("0 0 * * 7", "2026-01-01T00:00:00Z", 2), sundays);
    assert.deepEqual(runs("0 0 * * 6-7", "2026-01-01T00:00:00Z", 2), [
      "2026-01-03T00:00:00Z",
      "2026-01-04T00:00:00Z",
    ]);
  });

  test("nicknames", () => {
    const start = "2026-01-01T00:00:00Z";
    assert.deepEqual(runs("@yearly", start, 1), ["2027-01-01T00:00:00Z"]);
    assert.deepEqual(runs("@annually", start, 1), ["2027-01-01T00:00:00Z"]);
    assert.deepEqual(runs("@monthly", start, 1), ["2026-02-01T00:00:00Z"]);
    assert.deepEqual(runs("@weekly", start, 1), ["2026-01-04T00:00:00Z"]);
    assert.deepEqual(runs("@daily", start, 1), ["2026-01-02T00:00:00Z"]);
    assert.deepEqual(runs("@midnight", start, 1), ["2026-01-02T00:00:00Z"]);
    assert.deepEqual(runs("@HOURLY", start, 1), ["2026-01-01T01:00:00Z"]);
  });

  test("day-of-month and day-of-week: either matches when both are restricted", () => {
    // The 1st of the month OR any Monday.
    assert.deepEqual(runs("0 0 1 * MON", "2026-01-20T00:00:00Z", 3), [
      "2026-01-26T00:00:00Z",
      "2026-02-01T00:00:00Z",
      "2026-02-02T00:00:00Z",
    ]);
    // One restricted: only that one counts.
    assert.deepEqual(runs("0 0 13 * *", "2026-01-01T00:00:00Z", 1), ["2026-01-13T00:00:00Z"]);
    assert.deepEqual(runs("0 0 * * 5", "2026-01-01T00:00:00Z", 1), ["2026-01-02T00:00:00Z"]);
    // `?` is `*` in the day fields.
    assert.deepEqual(runs("0 0 ? * 5", "2026-01-01T00:00:00Z", 1), ["2026-01-02T00:00:00Z"]);
    assert.deepEqual(runs("0 0 13 * ?", "2026-01-01T00:00:00Z", 1), ["2026-01-13T00:00:00Z"]);
    // `*/1` is a restriction (croner): with a weekday it makes every day match.
    assert.deepEqual(runs("0 0 */1 * 1", "2026-01-01T00:00:00Z", 2), [
      "2026-01-02T00:00:00Z",
      "2026-01-03T00:00:00Z",
    ]);
  });

  test("expression is kept trimmed, the zone canonical; cronTimingKey normalises whitespace", () => {
    const cron = Cron.parse("  0   9 * * *\t", "europe/berlin");
    assert.equal(cron.expression, "0   9 * * *");
    assert.equal(cron.tz, "Europe/Berlin");
    assert.equal(cronTimingKey(cron), "cron 0 9 * * * Europe/Berlin");
    assert.equal(Cron.parse("@daily").tz, "UTC");
    assert.equal(cronTimingKey(Cron.parse("@daily")), "cron @daily UTC");
    assert.notEqual(
      cronTimingKey(Cron.parse("0 9 * * *", "Europe/Berlin")),
      cronTimingKey(Cron.parse("0 9 * * *", "Europe/Paris")),
    );
  });

  test("next is strictly after, to the second, and finds a leap day years away fast", () => {
    assert.deepEqual(runs("0 * * * *", "2026-01-01T01:00:00Z", 1), ["2026-01-01T02:00:00Z"]);
    assert.deepEqual(runs("* * * * * *", "2026-01-01T00:00:00.400Z", 1), ["2026-01-01T00:00:01Z"]);
    const started = performance.now();
    assert.deepEqual(runs("0 0 29 2 *", "2027-01-01T00:00:00Z", 2), [
      "2028-02-29T00:00:00Z",
      "2032-02-29T00:00:00Z",
    ]);
    // 2100 is no leap year: 8 years from 2096 to 2104, within the search window.
    assert.deepEqual(runs("0 0 29 2 *", "2096-03-01T00:00:00Z", 1), ["2104-02-29T00:00:00Z"]);
    assert.ok(CRON_SEARCH_YEARS >= 8);
    assert.ok(performance.now() - started < 1_000);
    assert.throws(() => Cron.parse("* * * * *").next(NaN), RangeError);
  });
});

describe("Cron.parse: errors", () => {
  test("field count", () => {
    refuses("* * *", `cron expression "* * *" has 3 fields; expected 5 or 6 (seconds first)`);
    refuses("", `cron expression "" has 0 fields; expected 5 or 6 (seconds first)`);
    refuses(
      "0 0 0 * * * 2026",
      `cron expression "0 0 0 * * * 2026" has 7 fields; expected 5 or 6 (seconds first)`,
    );
  });

  test("out of range values name the field by position and name", () => {
    const error = refuses("0 25 * * *", "cron field 2 (hour) 25 is out of range 0-23");
    assert.equal(error.field, 2);
    assert.equal(error.fieldName, "hour");
    refuses("60 * * * *", "cron field 1 (minute) 60 is out of range 0-59");
    refuses("0 0 0 * *", "cron field 3 (day-of-month) 0 is out of range 1-31");
    refuses("0 0 * 13 *", "cron field 4 (month) 13 is out of range 1-12");
    refuses("0 0 * * 8", "cron field 5 (day-of-week) 8 is out of range 0-7");
    // Six fields: seconds are field 1, everything moves one along.
    const sixth = refuses("61 0 0 * * *", "cron field 1 (second) 61 is out of range 0-59");
    assert.equal(sixth.fieldName, "second");
    refuses("0 0 24 * * *", "cron field 3 (hour) 24 is out of range 0-23");
  });

  test("names, steps, ranges, lists", () => {
    refuses("0 0 * FOO *", `cron field 4 (month) "FOO" is not a month name`);
    refuses("0 0 * * FUN", `cron field 5 (day-of-week) "FUN" is not a weekday name`);
    refuses("x * * * *", `cron field 1 (minute) "x" is not a number`);
    refuses("0 MON * * *", `cron field 2 (hour) "MON" is not a number`);
    refuses("*/0 * * * *", "cron field 1 (minute) step 0 must be at least 1");
    refuses("*/61 * * * *", "cron field 1 (minute) step 61 is out of range 1-60");
    refuses("*/x * * * *", `cron field 1 (minute) step "x" is not a number`);
    refuses("/5 * * * *", `cron field 1 (minute) "/5" has nothing before "/" (write */5)`);
    refuses("1/2/3 * * * *", `cron field 1 (minute) "1/2/3" has more than one "/"`);
    refuses("0 5-1 * * *", `cron field 2 (hour) range "5-1" runs backwards (5 > 1)`);
    refuses("0 1-2-3 * * *", `cron field 2 (hour) "1-2-3" has more than one "-"`);
    refuses("1,,2 * * * *", `cron field 1 (minute) "1,,2" has an empty list item`);
    refuses(
      "? * * * *",
      `cron field 1 (minute) "?" is only allowed in day-of-month and day-of-week`,
    );
  });

  test("Quartz extensions and unknown nicknames are refused clearly", () => {
    refuses("0 0 L * *", `cron field 3 (day-of-month) "L" uses "L" (last), which is not supported`);
    refuses(
      "0 0 15W * *",
      `cron field 3 (day-of-month) "15W" uses "W" (nearest weekday), which is not supported`,
    );
    refuses(
      "0 0 * * MON#2",
      `cron field 5 (day-of-week) "MON#2" uses "#" (nth weekday), which is not supported`,
    );
    refuses(
      "0 0 * * 5L",
      `cron field 5 (day-of-week) "5L" uses "L" (last), which is not supported`,
    );
    refuses(
      "@reboot",
      `cron expression "@reboot" is not a known nickname; expected ` +
        "@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly",
    );
  });

  test("an expression that can never match is refused at parse time", () => {
    refuses("0 0 30 2 *", `cron expression "0 0 30 2 *" never matches (day 30 of month 2)`);
    refuses(
      "0 0 31 4,6 *",
      `cron expression "0 0 31 4,6 *" never matches (day 31 of months 4,6)`,
    );
    refuses(
      "0 0 0 30-31 FEB *",
      `cron expression "0 0 0 30-31 FEB *" never matches (days 30,31 of month 2)`,
    );
    // A weekday can rescue it (either matches), and Feb 29 happens.
    assert.ok(Cron.parse("0 0 30 2 MON"));
    assert.ok(Cron.parse("0 0 29 2 *"));
  });

  test("unknown time zones", () => {
    refuses("* * * * *", `unknown time zone "Mars/Base"`, "Mars/Base");
    refuses("* * * * *", `unknown time zone ""`, "");
  });

  test("messages carry no stack and no internals", () => {
    const error = refuses("0 25 * * *", "cron field 2 (hour) 25 is out of range 0-23");
    assert.equal(error.name, "CronSyntaxError");
    assert.doesNotMatch(error.message, /\n|at /);
  });
});

describe("Cron.next: daylight saving time", () => {
  // Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z); 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z).
  // America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z).
  const berlin = "Europe/Berlin";
  const newYork = "America/New_York";

  test("Berlin spring forward: a daily 02:30 runs once, at 03:00 CEST (the end of the gap)", () => {
    assert.deepEqual(runs("30 2 * * *", "2026-03-28T12:00:00Z", 3, berlin), [
      "2026-03-29T01:00:00Z", // 03:00 CEST (02:30 does not exist that night)
      "2026-03-30T00:30:00Z", // 02:30 CEST
      "2026-03-31T00:30:00Z",
    ]);
  });

  test("Berlin fall back: a daily 02:30 runs once, at the first 02:30 (CEST)", () => {
    assert.deepEqual(runs("30 2 * * *", "2026-10-24T12:00:00Z", 3, berlin), [
      "2026-10-25T00:30:00Z", // 02:30 CEST; not again at 02:30 CET (01:30Z)
      "2026-10-26T01:30:00Z", // 02:30 CET
      "2026-10-27T01:30:00Z",
    ]);
    // Starting inside the repeated hour, after the first 02:30: the next day.
    assert.deepEqual(runs("30 2 * * *", "2026-10-25T00:45:00Z", 1, berlin), [
      "2026-10-26T01:30:00Z",
    ]);
  });

  test("Berlin hourly: skips the missing 02:00, fires at both 02:00s on fall back", () => {
    assert.deepEqual(runs("0 * * * *", "2026-03-29T00:30:00Z", 3, berlin), [
      "2026-03-29T01:00:00Z", // 03:00 CEST (02:00 does not exist)
      "2026-03-29T02:00:00Z", // 04:00 CEST
      "2026-03-29T03:00:00Z",
    ]);
    assert.deepEqual(runs("0 * * * *", "2026-10-24T23:30:00Z", 4, berlin), [
      "2026-10-25T00:00:00Z", // 02:00 CEST
      "2026-10-25T01:00:00Z", // 02:00 CET
      "2026-10-25T02:00:00Z", // 03:00 CET
      "2026-10-25T03:00:00Z",
    ]);
  });

  test("Berlin every 15 minutes across both changes, in real time", () => {
    assert.deepEqual(runs("*/15 * * * *", "2026-03-29T00:40:00Z", 3, berlin), [
      "2026-03-29T00:45:00Z", // 01:45 CET
      "2026-03-29T01:00:00Z", // 03:00 CEST
      "2026-03-29T01:15:00Z", // 03:15 CEST
    ]);
    assert.deepEqual(runs("*/15 * * * *", "2026-10-25T00:40:00Z", 4, berlin), [
      "2026-10-25T00:45:00Z", // 02:45 CEST
      "2026-10-25T01:00:00Z", // 02:00 CET
      "2026-10-25T01:15:00Z", // 02:15 CET
      "2026-10-25T01:30:00Z", // 02:30 CET
    ]);
  });

  test("Berlin 02:30 and 14:30 (a list, so an interval job): skipped in the gap, twice on fall back", () => {
    assert.deepEqual(runs("30 2,14 * * *", "2026-03-28T14:00:00Z", 2, berlin), [
      "2026-03-29T12:30:00Z", // 14:30 CEST; 02:30 did not happen
      "2026-03-30T00:30:00Z",
    ]);
    assert.deepEqual(runs("30 2,14 * * *", "2026-10-24T14:00:00Z", 3, berlin), [
      "2026-10-25T00:30:00Z", // 02:30 CEST
      "2026-10-25T01:30:00Z", // 02:30 CET
      "2026-10-25T13:30:00Z", // 14:30 CET
    ]);
  });

  test("Berlin: starting in the first pass of the repeated hour finds the second pass", () => {
    // 02:50 CEST: next on the hour is 02:00 CET (01:00Z), before 03:00 CET.
    assert.deepEqual(runs("0 2,3 * * *", "2026-10-25T00:50:00Z", 2, berlin), [
      "2026-10-25T01:00:00Z",
      "2026-10-25T02:00:00Z",
    ]);
  });

  test("New York spring forward: a daily 02:30 runs at 03:00 EDT; hourly skips 02:00", () => {
    assert.deepEqual(runs("30 2 * * *", "2026-03-07T12:00:00Z", 2, newYork), [
      "2026-03-08T07:00:00Z", // 03:00 EDT
      "2026-03-09T06:30:00Z", // 02:30 EDT
    ]);
    assert.deepEqual(runs("0 * * * *", "2026-03-08T06:30:00Z", 2, newYork), [
      "2026-03-08T07:00:00Z", // 03:00 EDT (02:00 EST would be next, it does not exist)
      "2026-03-08T08:00:00Z",
    ]);
    assert.deepEqual(runs("*/15 * * * *", "2026-03-08T06:40:00Z", 2, newYork), [
      "2026-03-08T06:45:00Z", // 01:45 EST
      "2026-03-08T07:00:00Z", // 03:00 EDT
    ]);
  });

  test("New York fall back: a daily 01:30 runs once (EDT); hourly and */15 run through both 01:00s", () => {
    assert.deepEqual(runs("30 1 * * *", "2026-10-31T12:00:00Z", 2, newYork), [
      "2026-11-01T05:30:00Z", // 01:30 EDT; not again at 01:30 EST (06:30Z)
      "2026-11-02T06:30:00Z", // 01:30 EST
    ]);
    assert.deepEqual(runs("30 2 * * *", "2026-10-31T12:00:00Z", 1, newYork), [
      "2026-11-01T07:30:00Z", // 02:30 EST, once
    ]);
    assert.deepEqual(runs("0 * * * *", "2026-11-01T04:30:00Z", 3, newYork), [
      "2026-11-01T05:00:00Z", // 01:00 EDT
      "2026-11-01T06:00:00Z", // 01:00 EST
      "2026-11-01T07:00:00Z", // 02:00 EST
    ]);
    assert.deepEqual(runs("*/15 * * * *", "2026-11-01T05:40:00Z", 3, newYork), [
      "2026-11-01T05:45:00Z", // 01:45 EDT
      "2026-11-01T06:00:00Z", // 01:00 EST
      "2026-11-01T06:15:00Z", // 01:15 EST
    ]);
  });

  test("six-field fixed time in the gap runs at the gap's end, to the second", () => {
    assert.deepEqual(runs("15 30 2 * * *", "2026-03-28T12:00:00Z", 2, berlin), [
      "2026-03-29T01:00:00Z", // 03:00:00 CEST
      "2026-03-30T00:30:15Z",
    ]);
  });

  test("zones without DST: a half-hour offset", () => {
    assert.deepEqual(runs("0 9 * * *", "2026-01-01T00:00:00Z", 2, "Asia/Kolkata"), [
      "2026-01-01T03:30:00Z",
      "2026-01-02T03:30:00Z",
    ]);
  });
});

describe("Cron.next: speed", () => {
  test("100 000 next() calls of common expressions in Europe/Berlin (printed, not asserted)", () => {
    const expressions = [
      "*/5 * * * *",
      "0 9 * * MON-FRI",
      "30 2 * * *",
      "0 0 1 * *",
      "0 */2 * * *",
    ];
    const crons = expressions.map((expression) => Cron.parse(expression, "Europe/Berlin"));
    let at = Date.parse("2026-01-01T00:00:00Z");
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) {
      const cron = crons[i % crons.length];
      const next = cron.next(at)!;
      // Walk forward through the year and wrap, so DST changes are crossed too.
      at = next > Date.parse("2027-01-01T00:00:00Z") ? Date.parse("2026-01-01T00:00:00Z") : next;
    }
    const ms = performance.now() - started;
    console.log(
      `cron bench: 100000 next() in Europe/Berlin: ${ms.toFixed(0)} ms (${
        (ms / 100).toFixed(2)
      } us/call)`,
    );
  });
});
