/**
 * `Queue.result()` without polling: one event reader per Queue, shared by
 * every pending `result()` call.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import { JobFailedError, ResultTimeoutError } from "./errors.ts";
import type { Storage } from "./storage.ts";
import type { EventPage } from "./storage_events.ts";
import type { JobRecord } from "./task.ts";

/** One pending `result()` call. */
interface Waiter {
  jobId: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Ends its timeout timer and its signal listener. */
  done: AbortController;
}

/** Events taken per stream per read. */
const READ_LIMIT = 1_000;
/** Longest blocking read; the reader re-reads after it. */
const WAIT_MS = 5_000;
/**
 * Pause after reads that came back empty before their wait was over by the
 * clock (a closed storage answers at once), so the reader does not spin.
 * Only after `EARLY_READS_BEFORE_PAUSE` in a row: on a FakeClock every read
 * looks early (the clock stands still while Redis waits in real time), and
 * a pause there lasts until the test moves the clock, so one quiet read must
 * not cause it. A read that waited its full time is followed by the next at once.
 */
const EARLY_PAUSE_MS = 100;
const EARLY_READS_BEFORE_PAUSE = 10;

/**
 * The `result()` waiters of one Queue and their reader: one blocking
 * `readEvents` at a time over the queues that have waiters, however many
 * waiters there are, stopping when the last one is gone.
 *
 * Race-free: a waiter's queue has a cursor (a non-blocking read gives its
 * end) before the job's state is checked, so a change between the check
 * and the subscription is read by the reader. `completed` resolves with the
 * event's result (completion is final); `failed` and `removed` are
 * confirmed with `getJob` (the job may have been retried since), as are all
 * waiters of a queue whose ids jump (events were dropped unread).
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@taskmill/taskmill";
 * import { systemClock } from "./clock.ts";
 * import { ResultWaiters } from "./result_waiters.ts";
 *
 * const storage = new MemoryStorage();
 * const now = systemClock.now();
 * await storage.enqueue([{ id: "a", name: "t", queue: "default", payload: null, priority: 0,
 *   maxAttempts: 1, maxStalls: 1, timeout: 0, runAt: now }], now);
 * const waiters = new ResultWaiters(storage, systemClock);
 * const result = waiters.wait("a", "default");
 * const { jobs } = await storage.reserve({ queues: ["default"], limit: 1, owner: "w",
 *   leaseMs: 1_000, now });
 * await storage.settle([{ kind: "complete", id: "a", token: jobs[0].lease!.token, result: 42 }],
 *   { now });
 * console.log(await result); // 42
 * ```
 */
export class ResultWaiters {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #waiters = new Map<string, Set<Waiter>>();
  #count = 0;
  /** The queues followed in this run of the reader, and the last id read of each. */
  #cursors: Record<string, string> = {};
  /** Cursors being fetched for queues that are joining. */
  #joining = new Map<string, Promise<void>>();
  /** Bumped whenever the reader stops, so a late reply of an earlier run is dropped. */
  #run = 0;
  #reading = false;
  /** Ends the reader's current blocking read (to add a queue, or to stop). */
  #interrupt: AbortController | undefined;

  /** Waiters over `storage`, timing out on `clock`. */
  constructor(storage: Storage, clock: Clock) {
    this.#storage = storage;
    this.#clock = clock;
  }

  /** Waiters pending now. */
  get size(): number {
    return this.#count;
  }

  /**
   * Resolves with job `jobId`'s result once it completes; rejects with
   * `JobFailedError` when it fails for good, a RangeError when it is gone,
   * `ResultTimeoutError` after `timeout` ms on the clock, or the signal's
   * reason when `signal` aborts.
   */
  async wait(
    jobId: string,
    queue: string,
    timeout?: number,
    signal?: AbortSignal,
  ): Promise<unknown> {
    signal?.throwIfAborted();
    // Added first, so the reader does not stop (and drop the cursors) while the queue joins.
    const { promise } = this.#add(jobId, timeout, signal);
    try {
      await this.#follow(queue);
    } catch (error) {
      this.#settle(jobId, (waiter) => waiter.reject(error));
    }
    if (this.#count > 0) {
      this.#start();
      // After the cursor: a change from here on is read by the reader.
      this.#recheck(jobId);
    }
    return await promise;
  }

  #add(jobId: string, timeout: number | undefined, signal: AbortSignal | undefined) {
    let resolve!: (value: unknown) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<unknown>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    // It may settle (a timeout, an abort) before `wait` awaits it.
    promise.catch(() => {});
    const done = new AbortController();
    const waiter: Waiter = {
      jobId,
      resolve: (value) => this.#remove(waiter) && resolve(value),
      reject: (error) => this.#remove(waiter) && reject(error),
      done,
    };
    let set = this.#waiters.get(jobId);
    if (set === undefined) this.#waiters.set(jobId, set = new Set());
    set.add(waiter);
    this.#count++;
    if (timeout !== undefined) {
      this.#clock.sleep(timeout, done.signal).then(
        () => waiter.reject(new ResultTimeoutError(jobId, timeout)),
        () => {},
      );
    }
    if (signal !== undefined) {
      const onAbort = () => waiter.reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      done.signal.addEventListener("abort", () => signal.removeEventListener("abort", onAbort));
    }
    return { waiter, promise };
  }

  /** Takes `waiter` out; false when it was already out. Stops the reader with the last one. */
  #remove(waiter: Waiter): boolean {
    const set = this.#waiters.get(waiter.jobId);
    if (set === undefined || !set.delete(waiter)) return false;
    if (set.size === 0) this.#waiters.delete(waiter.jobId);
    waiter.done.abort();
    if (--this.#count === 0) this.#stop();
    return true;
  }

  /** Gives `queue` a cursor at its stream's end, unless it has one in this run. */
  async #follow(queue: string): Promise<void> {
    if (this.#cursors[queue] !== undefined || this.#count === 0) return;
    let joining = this.#joining.get(queue);
    if (joining === undefined) {
      const run = this.#run;
      joining = this.#storage.readEvents({ queues: [queue], after: {}, limit: 1, maxWaitMs: 0 })
        .then((page) => {
          if (run === this.#run) this.#cursors[queue] ??= page.cursors[queue];
        })
        .finally(() => this.#joining.delete(queue));
      this.#joining.set(queue, joining);
    }
    await joining;
    if (this.#cursors[queue] === undefined) return await this.#follow(queue); // the run ended meanwhile
    this.#interrupt?.abort(); // a blocking read without this queue: read again with it
  }

  #start(): void {
    if (this.#reading) return;
    this.#reading = true;
    void this.#read(this.#run);
  }

  #stop(): void {
    this.#run++;
    this.#cursors = {};
    this.#reading = false;
    this.#interrupt?.abort();
    this.#interrupt = undefined;
  }

  async #read(run: number): Promise<void> {
    let early = 0; // empty reads in a row that ended before their wait, by the clock
    while (run === this.#run && this.#count > 0) {
      const interrupt = new AbortController();
      this.#interrupt = interrupt;
      const queues = Object.keys(this.#cursors);
      const startedAt = this.#clock.now();
      let page: EventPage;
      try {
        page = await this.#storage.readEvents({
          queues,
          after: { ...this.#cursors },
          limit: READ_LIMIT,
          maxWaitMs: WAIT_MS,
          signal: interrupt.signal,
        });
      } catch (error) {
        if (run !== this.#run) return;
        // The storage fails: so would polling. Every waiter learns it.
        for (const jobId of [...this.#waiters.keys()]) this.#settle(jobId, (w) => w.reject(error));
        return;
      }
      if (run !== this.#run) return;
      this.#apply(page);
      const ended = this.#clock.now() - startedAt < WAIT_MS;
      early = page.events.length === 0 && !interrupt.signal.aborted && ended ? early + 1 : 0;
      if (early >= EARLY_READS_BEFORE_PAUSE) {
        await this.#clock.sleep(EARLY_PAUSE_MS, interrupt.signal).catch(() => {});
      }
    }
  }

  /** Settles the waiters the page's events concern, and re-checks those of queues with a jump. */
  #apply(page: EventPage): void {
    const jumped = new Set<string>();
    for (const event of page.events) {
      if (!("queue" in event)) continue;
      const last = this.#cursors[event.queue];
      if (last === undefined) continue; // a queue not followed in this run
      if (Number(event.id) > Number(last) + 1) jumped.add(event.queue);
      this.#cursors[event.queue] = event.id;
      if (!("jobId" in event) || !this.#waiters.has(event.jobId)) continue;
      if (event.type === "completed") {
        this.#settle(event.jobId, (waiter) => waiter.resolve(event.result));
      } else if (event.type === "failed" || event.type === "removed") {
        this.#recheck(event.jobId);
      }
    }
    for (const [queue, cursor] of Object.entries(page.cursors)) {
      if (this.#cursors[queue] !== undefined) this.#cursors[queue] = cursor;
    }
    if (jumped.size === 0) return;
    // Missed events: ask the store about every waiter of those queues.
    // (Waiters do not keep their queue: checking all is as cheap and rare.)
    for (const jobId of this.#waiters.keys()) this.#recheck(jobId);
  }

  #recheck(jobId: string): void {
    this.#check(jobId).catch((error) => this.#settle(jobId, (waiter) => waiter.reject(error)));
  }

  /** Settles the waiters of `jobId` if `getJob` shows it finished or gone. */
  async #check(jobId: string): Promise<void> {
    const job = await this.#storage.getJob(jobId);
    if (!this.#waiters.has(jobId)) return;
    const outcome = finished(jobId, job);
    if (outcome === undefined) return;
    this.#settle(
      jobId,
      outcome.ok ? (w) => w.resolve(outcome.value) : (w) => w.reject(outcome.error),
    );
  }

  #settle(jobId: string, settle: (waiter: Waiter) => void): void {
    const set = this.#waiters.get(jobId);
    if (set === undefined) return;
    for (const waiter of [...set]) settle(waiter);
  }
}

/**
 * What `result()` returns or throws for `job` as stored, or undefined while
 * it is not finished. Shared with the polling fallback.
 *
 * @example
 * ```ts
 * import { finished } from "./result_waiters.ts";
 *
 * console.log(finished("a", null)?.ok); // false (no such job)
 * ```
 */
export function finished(
  jobId: string,
  job: JobRecord | null,
): { ok: true; value: unknown } | { ok: false; error: Error } | undefined {
  if (job === null) {
    return {
      ok: false,
      error: new RangeError(`Cannot wait for result: no job with id "${jobId}"`),
    };
  }
  if (job.state === "completed") return { ok: true, value: job.result };
  if (job.state === "failed") {
    const error = job.error ?? { message: "failed", name: "Error", attempt: job.attempt, at: 0 };
    return { ok: false, error: new JobFailedError(jobId, error) };
  }
  return undefined;
}
