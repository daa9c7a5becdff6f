/**
 * A clock that moves only when a test says so. Hours of retries and delays
 * run in milliseconds, the same way every time.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
  cancel?: () => void;
}

/** 2026-01-01T00:00:00.000Z: the default start, so ids and dates are stable across runs. */
const DEFAULT_START = 1_767_225_600_000;

/**
 * A manual {@linkcode Clock} for tests. `advance(ms)` moves time forward,
 * firing due timers in time order (ties in the order they were set), and
 * after each one lets the promise chains it started settle before moving on,
 * so a test reads like a timeline.
 *
 * @example Retries on a fake clock
 * ```ts
 * import { defineTask, fixed, MemoryStorage, Queue, Worker } from "@taskmill/taskmill";
 * import { FakeClock } from "@taskmill/taskmill/testing";
 *
 * const clock = new FakeClock();
 * const storage = new MemoryStorage({ clock });
 * let calls = 0;
 * const flaky = defineTask({
 *   name: "flaky",
 *   maxAttempts: 3,
 *   retry: fixed(60_000),
 *   handler: () => {
 *     if (++calls < 3) throw new Error("not yet");
 *     return "done";
 *   },
 * });
 * const queue = new Queue({ storage, clock });
 * const worker = new Worker({ storage, clock, tasks: [flaky] });
 * await worker.start();
 * const job = await queue.enqueue(flaky, null);
 * await clock.advance(120_000); // two minutes of retries, instantly
 * console.log((await queue.getJob(job.id))?.state); // "completed"
 * await worker.stop();
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];
  #calls = new Set<Promise<unknown>>();
  #callLimitMs: number;
  /** Time moves only when a test says so (see `Clock.manual`). */
  readonly manual = true;

  /**
   * Starts at `start` (epoch ms), by default 2026-01-01T00:00:00Z.
   * `callLimitMs` is how long, in real ms, `advance` and `runAll` wait for
   * one tracked storage call before they fail (default 5 000).
   */
  constructor(start: number = DEFAULT_START, options: { callLimitMs?: number } = {}) {
    if (!Number.isFinite(start)) throw new TypeError(`FakeClock start must be a finite number`);
    const limit = options.callLimitMs ?? 5_000;
    if (!Number.isFinite(limit) || limit <= 0) {
      throw new RangeError(`FakeClock callLimitMs must be a finite number > 0, got ${limit}`);
    }
    this.#now = start;
    this.#callLimitMs = limit;
  }

  /**
   * Tracks a storage call (see `Clock.track`): before firing each next
   * timer, `advance` and `runAll` wait until every tracked call has settled,
   * so a storage doing real I/O (Redis) keeps the same timeline as memory.
   * The Worker and Queue track their calls themselves; track your own only
   * if a timer's work waits on I/O they do not make.
   *
   * @example
   * ```ts
   * import { FakeClock } from "@taskmill/taskmill/testing";
   *
   * const clock = new FakeClock();
   * let io = false;
   * clock.track(new Promise((resolve) => setTimeout(resolve, 20)).then(() => (io = true)));
   * await clock.advance(0);
   * console.log(io, clock.pendingCalls); // true 0
   * ```
   */
  track(call: Promise<unknown>): void {
    this.#calls.add(call);
    const forget = () => this.#calls.delete(call);
    call.then(forget, forget);
  }

  /**
   * Stops tracking `call`: `advance` no longer waits for it (a long wait
   * that only time or new work ends, tracked by mistake).
   *
   * @example
   * ```ts
   * import { FakeClock } from "@taskmill/taskmill/testing";
   *
   * const clock = new FakeClock();
   * const forever = new Promise(() => {});
   * clock.track(forever);
   * clock.ignore(forever);
   * await clock.advance(1_000); // does not wait for it
   * ```
   */
  ignore(call: Promise<unknown>): void {
    this.#calls.delete(call);
  }

  /** How many tracked calls have not settled yet. */
  get pendingCalls(): number {
    return this.#calls.size;
  }

  /** The current fake time, epoch ms. */
  now(): number {
    return this.#now;
  }

  /** Resolves when the clock is advanced past `now() + ms`. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve };
      if (signal) {
        const onAbort = () => {
          this.#remove(timer);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        timer.resolve = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
      }
      this.#insert(timer);
    });
  }

  /** How many timers are waiting. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** When the next timer fires, or null if none is set. */
  get nextTimerAt(): number | null {
    return this.#timers[0]?.at ?? null;
  }

  /**
   * Moves time forward by `ms`, firing every timer due on the way at its own
   * time, including timers set by the code those timers woke.
   */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`FakeClock.advance(ms): ms must be a finite number >= 0, got ${ms}`);
    }
    await this.advanceTo(this.#now + ms);
  }

  /** Moves time forward to `time` (epoch ms), firing due timers on the way. */
  async advanceTo(time: number): Promise<void> {
    if (time < this.#now) {
      throw new RangeError(`FakeClock.advanceTo: cannot go back from ${this.#now} to ${time}`);
    }
    await this.#quiesce();
    while (this.#timers.length > 0 && this.#timers[0].at <= time) {
      const timer = this.#timers.shift()!;
      this.#now = Math.max(this.#now, timer.at); // a timer overdue after blockFor fires now
      timer.resolve();
      await this.#quiesce();
    }
    this.#now = Math.max(this.#now, time);
    await this.#quiesce();
  }

  /**
   * Fires timers in order until none is left (time jumps to each one).
   * Throws after `limit` timers, which means something re-arms forever (a
   * running worker always has a timer: stop it first, or use `advance`).
   */
  async runAll(limit = 10_000): Promise<void> {
    await this.#quiesce();
    for (let fired = 0; this.#timers.length > 0; fired++) {
      if (fired >= limit) {
        throw new Error(`FakeClock.runAll: still ${this.#timers.length} timers after ${limit}`);
      }
      const timer = this.#timers.shift()!;
      this.#now = Math.max(this.#now, timer.at);
      timer.resolve();
      await this.#quiesce();
    }
  }

  /**
   * Moves time forward by `ms` at once, firing no timer: what a stretch of
   * synchronous (CPU-bound) code does to a real clock, whose timers get no
   * turn until it yields. Call it from a handler to test a blocking one;
   * timers that came due meanwhile fire at the next `advance` or `runAll`.
   *
   * @example
   * ```ts
   * import { FakeClock } from "@taskmill/taskmill/testing";
   *
   * const clock = new FakeClock();
   * let fired = false;
   * clock.sleep(100).then(() => (fired = true));
   * clock.blockFor(500); // 500 ms of "busy loop"
   * await clock.flush();
   * console.log(fired); // false: the timer had no turn yet
   * await clock.advance(0);
   * console.log(fired); // true
   * ```
   */
  blockFor(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`FakeClock.blockFor(ms): ms must be a finite number >= 0, got ${ms}`);
    }
    this.#now += ms;
  }

  /** Lets pending promise chains and tracked calls settle without moving time. */
  flush(): Promise<void> {
    return this.#quiesce();
  }

  /**
   * Lets promise chains settle, then waits for every tracked call (a
   * settled call's continuation may start more), so the next timer fires
   * only once the work the last one woke is done.
   */
  async #quiesce(): Promise<void> {
    await settle();
    while (this.#calls.size > 0) {
      const calls = [...this.#calls];
      let timer: ReturnType<typeof setTimeout> | undefined;
      // Real time, on purpose: this bounds a wait on real I/O, not fake time.
      const limit = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), this.#callLimitMs);
      });
      // One at a time: a call ignored meanwhile stops being waited for.
      const settled = Promise.race(calls.map((call) => call.then(done, done)));
      const outcome = await Promise.race([settled, limit]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        throw new Error(
          `FakeClock: ${this.#calls.size} tracked storage call(s) still pending after ` +
            `${this.#callLimitMs} ms of real time (at fake time ${this.#now}); a storage ` +
            `call that never settles (is the server down?), or a long wait tracked by ` +
            `mistake (clock.ignore(call))`,
        );
      }
      await settle();
    }
  }

  #insert(timer: Timer): void {
    // Timers are few in tests; a sorted array keeps firing order obvious.
    let i = this.#timers.length;
    while (i > 0 && this.#timers[i - 1].at > timer.at) i--;
    this.#timers.splice(i, 0, timer);
  }

  #remove(timer: Timer): void {
    const i = this.#timers.indexOf(timer);
    if (i >= 0) this.#timers.splice(i, 1);
  }
}

// A macrotask turn drains every queued microtask, so promise chains started
// by a timer (storage calls, handlers, settles) run to their next real wait.
// This yields to the event loop; it does not read or wait on time.
const yieldMacrotask: () => Promise<void> = typeof setImmediate === "function"
  ? () => new Promise<void>((resolve) => setImmediate(resolve))
  : () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const done = () => "settled" as const;

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await yieldMacrotask();
}
