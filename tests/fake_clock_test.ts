import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../testing.ts";
import { every } from "../testing.ts";

describe("FakeClock", () => {
  test("starts at a fixed time and moves only when advanced", async () => {
    const clock = new FakeClock();
    const t0 = clock.now();
    assert.equal(new Date(t0).toISOString(), "2026-01-01T00:00:00.000Z");
    await clock.flush();
    assert.equal(clock.now(), t0);
    await clock.advance(1_500);
    assert.equal(clock.now(), t0 + 1_500);
  });

  test("fires timers at their own time, in order, ties in the order set", async () => {
    const clock = new FakeClock(0);
    const log: string[] = [];
    for (const [name, ms] of [["c", 300], ["a", 100], ["b", 100], ["d", 5_000]] as const) {
      clock.sleep(ms).then(() => log.push(`${name}@${clock.now()}`));
    }
    await clock.advance(299);
    assert.deepEqual(log, ["a@100", "b@100"]);
    await clock.advance(1);
    assert.deepEqual(log, ["a@100", "b@100", "c@300"]);
    assert.equal(clock.pendingTimers, 1);
    assert.equal(clock.nextTimerAt, 5_000);
  });

  test("timers set by woken code fire within the same advance", async () => {
    const clock = new FakeClock(0);
    const log: number[] = [];
    (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(1_000);
        log.push(clock.now());
      }
    })();
    await clock.advance(10_000);
    assert.deepEqual(log, [1_000, 2_000, 3_000]);
    assert.equal(clock.now(), 10_000);
  });

  test("an aborted sleep rejects with the reason and is removed", async () => {
    const clock = new FakeClock(0);
    const controller = new AbortController();
    const sleeping = clock.sleep(1_000, controller.signal);
    controller.abort(new Error("cancelled"));
    await assert.rejects(sleeping, { message: "cancelled" });
    assert.equal(clock.pendingTimers, 0);
  });

  test("runAll fires everything and refuses to loop forever", async () => {
    const clock = new FakeClock(0);
    let fired = 0;
    clock.sleep(10).then(() => fired++);
    clock.sleep(20_000).then(() => fired++);
    await clock.runAll();
    assert.equal(fired, 2);
    assert.equal(clock.now(), 20_000);
    const stop = new AbortController();
    every(clock, 10, () => {}, stop.signal, () => {});
    await assert.rejects(clock.runAll(100), /still 1 timers after 100/);
    stop.abort();
  });

  test("advance rejects negative time", async () => {
    await assert.rejects(new FakeClock().advance(-1), RangeError);
  });
});

describe("every", () => {
  test("runs on each interval, never overlapping, until aborted; errors go to onError", async () => {
    const clock = new FakeClock(0);
    const stop = new AbortController();
    const runs: number[] = [];
    const errors: unknown[] = [];
    const done = every(
      clock,
      1_000,
      () => {
        runs.push(clock.now());
        if (runs.length === 2) throw new Error("tick failed");
      },
      stop.signal,
      (e) => errors.push(e),
    );
    await clock.advance(3_500);
    assert.deepEqual(runs, [1_000, 2_000, 3_000]);
    assert.equal(errors.length, 1);
    stop.abort();
    await done;
    await clock.advance(5_000);
    assert.equal(runs.length, 3);
  });
});

describe("FakeClock: tracked calls (real I/O)", () => {
  /** A promise that settles after `ms` of real time: stands for a socket round trip. */
  const io = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  test("fires the next timer only once the calls the last one started have settled", async () => {
    const clock = new FakeClock(0);
    const log: string[] = [];
    clock.sleep(10).then(() => {
      // A storage call whose continuation starts another: both are waited for.
      const first = io(20).then(() => {
        log.push("first settled");
        const second = io(20).then(() => log.push("second settled"));
        clock.track(second);
      });
      clock.track(first);
    });
    clock.sleep(11).then(() => log.push(`timer at 11, pending ${clock.pendingCalls}`));
    await clock.advance(20);
    assert.deepEqual(log, ["first settled", "second settled", "timer at 11, pending 0"]);
  });

  test("without tracking, the next timer fires while the I/O is still in flight", async () => {
    // The contrast that shows the test above can fail.
    const clock = new FakeClock(0);
    const log: string[] = [];
    clock.sleep(10).then(() => io(30).then(() => log.push("io settled")));
    clock.sleep(11).then(() => log.push("timer at 11"));
    await clock.advance(20);
    assert.deepEqual(log, ["timer at 11"]);
    await io(40);
  });

  test("flush waits for tracked calls; a rejected call counts as settled", async () => {
    const clock = new FakeClock(0);
    let done = false;
    clock.track(io(20).then(() => (done = true)));
    clock.track(io(10).then(() => Promise.reject(new Error("refused"))).catch(() => {}));
    const failing = io(5).then(() => Promise.reject(new Error("lost")));
    failing.catch(() => {});
    clock.track(failing);
    assert.equal(clock.pendingCalls, 3);
    await clock.flush();
    assert.equal(done, true);
    assert.equal(clock.pendingCalls, 0);
  });

  test("a call that never settles fails advance loudly after callLimitMs of real time", async () => {
    const clock = new FakeClock(0, { callLimitMs: 50 });
    clock.track(new Promise(() => {}));
    await assert.rejects(clock.advance(1), /1 tracked storage call\(s\) still pending after 50 ms/);
  });

  test("an ignored call is not waited for", async () => {
    const clock = new FakeClock(0, { callLimitMs: 50 });
    const forever = new Promise(() => {});
    clock.track(forever);
    clock.ignore(forever);
    assert.equal(clock.pendingCalls, 0);
    await clock.advance(1_000);
    assert.equal(clock.now(), 1_000);
  });

  test("callLimitMs must be a positive finite number", () => {
    assert.throws(() => new FakeClock(0, { callLimitMs: 0 }), RangeError);
    assert.throws(() => new FakeClock(0, { callLimitMs: Infinity }), RangeError);
  });
});
