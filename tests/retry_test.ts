import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { defaultRetry, exponential, fixed } from "../mod.ts";

describe("fixed", () => {
  test("returns the same delay for every attempt", () => {
    const strategy = fixed(2_500);
    assert.deepEqual([1, 2, 3, 50].map((a) => strategy(a, new Error("x"))), [
      2_500,
      2_500,
      2_500,
      2_500,
    ]);
  });
  test("rejects a negative or non-numeric delay, naming the option", () => {
    assert.throws(() => fixed(-1), {
      name: "RangeError",
      message: /fixed\(ms\): ms must be between 0/,
    });
    assert.throws(() => fixed(Number.NaN), {
      name: "TypeError",
      message: /fixed\(ms\): ms must be a finite number/,
    });
  });
});

describe("exponential", () => {
  test("grows by factor from base and is capped at max", () => {
    const strategy = exponential({ base: 1_000, factor: 2, max: 60_000 });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((a) => strategy(a, null)),
      [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000],
    );
  });
  test("supports other factors", () => {
    const strategy = exponential({ base: 100, factor: 3, max: 1e9 });
    assert.deepEqual([1, 2, 3].map((a) => strategy(a, null)), [100, 300, 900]);
  });
  test("jitter: true spreads delays over [delay/2, delay] using the given random source", () => {
    const lows = exponential({ base: 1_000, jitter: true, random: () => 0 });
    const highs = exponential({ base: 1_000, jitter: true, random: () => 0.999999 });
    assert.equal(lows(3, null), 2_000);
    assert.equal(highs(3, null), 4_000);
  });
  test("jitter as a fraction randomizes that part of the delay", () => {
    const strategy = exponential({ base: 1_000, jitter: 0.2, random: () => 0.5 });
    assert.equal(strategy(1, null), 900);
  });
  test("stays within bounds for many random draws", () => {
    const strategy = exponential({ base: 10, factor: 2, max: 5_000, jitter: true });
    for (let attempt = 1; attempt < 20; attempt++) {
      const full = Math.min(5_000, 10 * 2 ** (attempt - 1));
      for (let i = 0; i < 50; i++) {
        const d = strategy(attempt, null);
        assert.ok(
          d >= full / 2 && d <= full,
          `attempt ${attempt}: ${d} outside [${full / 2}, ${full}]`,
        );
      }
    }
  });
  test("rejects bad options with the option's name", () => {
    assert.throws(() => exponential({ factor: 0.5 }), {
      name: "RangeError",
      message: /exponential\(\): factor/,
    });
    assert.throws(() => exponential({ jitter: 2 }), {
      name: "RangeError",
      message: /exponential\(\): jitter/,
    });
    assert.throws(() => exponential({ base: -5 }), {
      name: "RangeError",
      message: /exponential\(\): base/,
    });
  });
  test("the default strategy is 1 s doubling, capped at one hour", () => {
    assert.equal(defaultRetry(1, null), 1_000);
    assert.equal(defaultRetry(2, null), 2_000);
    assert.equal(defaultRetry(30, null), 3_600_000);
  });
});
