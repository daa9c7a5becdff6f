/**
 * `MemoryStorage`: the embedded, zero-dependency {@linkcode Storage} adapter.
 * It keeps every job in this process's memory, so it suits tests, scripts and
 * single-process apps (one `Queue` and any number of `Worker`s sharing one
 * instance). Nothing survives a restart; use `RedisStorage` for that.
 *
 * It speaks only web standards and never reads global time: every time comes
 * from the `now` the core passes, and the only timer (the `maxWaitMs` bound
 * of `waitForWork`) runs on the injected clock.
 *
 * @example One queue, one worker, one process
 * ```ts
 * import { defineTask, Queue, Worker } from "@taskmill/taskmill";
 * import { MemoryStorage } from "@taskmill/taskmill/memory";
 *
 * const storage = new MemoryStorage();
 * const hello = defineTask({ name: "hello", handler: (who: string) => `hello ${who}` });
 * const queue = new Queue({ storage });
 * const worker = new Worker({ storage, tasks: [hello] });
 * await worker.start();
 * const job = await queue.enqueue(hello, "world");
 * console.log(await queue.result(job.id)); // "hello world"
 * await worker.stop();
 * ```
 *
 * @module
 */

import { type Clock, systemClock } from "../core/clock.ts";
import {
  type Counts,
  type EnqueueResult,
  type ListOptions,
  MAX_ERROR_HISTORY,
  type NewJob,
  type ReserveRequest,
  type ReserveResult,
  type Retention,
  type RetentionPolicy,
  type Settlement,
  type SettleOptions,
  type Storage,
  type TaskSettings,
} from "../core/storage.ts";
import type { JobError, JobRecord, JobState, JsonValue, Lease } from "../core/task.ts";
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_STALLS } from "../core/task.ts";
import { checkKeys, optionNames } from "../core/_validate.ts";
import {
  checkEnqueue,
  checkExtendLeases,
  checkList,
  checkPrune,
  checkQueueName,
  checkReserve,
  checkRetryFailed,
  checkSettle,
  checkWaitForWork,
} from "../core/storage_checks.ts";

/** Options of {@linkcode MemoryStorage}. */
export interface MemoryStorageOptions {
  /**
   * Clock for the `maxWaitMs` bound of `waitForWork` (nothing else reads
   * time: every other method takes `now`). Default: the system clock. Pass the
   * `FakeClock` your `Queue` and `Worker` use so idle waits follow fake time.
   */
  clock?: Clock;
}

const MEMORY_OPTIONS = optionNames<MemoryStorageOptions>()(["clock"]);

/**
 * Copies a JSON value the way a `JSON.stringify` / `JSON.parse` round trip
 * would, only faster: plain objects and arrays are copied recursively, and
 * anything else that is an object (a `Date`, an object with `toJSON`) takes
 * the real round trip, so it reads back exactly as from `RedisStorage` (a
 * `Date` as its ISO string). Values are stored as such a private copy and
 * copied again on every read: two small recursive copies cost far less than
 * serializing (or `structuredClone`), and every caller gets its own copy.
 * A `__proto__` key is defined as an own property, never assigned, so
 * nothing can pollute prototypes (as with `JSON.parse`).
 */
function copyJson(value: unknown): unknown {
  if (typeof value !== "object" || value === null) {
    return typeof value === "number" && !Number.isFinite(value) ? null : value;
  }
  if (Array.isArray(value)) {
    const copy = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      copy[i] = item === undefined || typeof item === "function" || typeof item === "symbol"
        ? null
        : copyJson(item);
    }
    return copy;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return JSON.parse(JSON.stringify(value));
  const source = value as Record<string, unknown>;
  if (typeof source.toJSON === "function") return JSON.parse(JSON.stringify(value));
  const copy: Record<string, unknown> = {};
  // `for in` + own check visits what `Object.keys` lists, in the same order,
  // without allocating the key array (this runs for every payload, twice).
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    const item = source[key];
    if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
    if (key === "__proto__") {
      Object.defineProperty(copy, key, {
        value: copyJson(item),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } else {
      copy[key] = copyJson(item);
    }
  }
  return copy;
}

/**
 * What jobs enqueued together share (their task, queue and options, and the
 * time): one object per batch rather than seven fields in every `Slot`. A
 * million stored jobs are a million live objects that every garbage
 * collection walks, so each byte less per job counts.
 */
class Spec {
  readonly name: string;
  readonly queue: QueueData;
  readonly priority: number;
  /** Null (as the next two): the task's, filled in at reserve (`ReserveRequest.taskDefaults`). */
  readonly maxAttempts: number | null;
  readonly maxStalls: number | null;
  readonly timeout: number | null;
  readonly enqueuedAt: number;
  /** Whether a setting is left to the task (a field, not a getter: reserve reads it per job). */
  readonly unset: boolean;
  /**
   * With a setting unset: the spec with them filled from `filledFrom`, made
   * for the first job of the batch reserved with those settings and shared
   * by the rest (a worker passes the same settings object every time).
   */
  filled: Spec | undefined = undefined;
  filledFrom: TaskSettings | undefined = undefined;

  constructor(
    job: Pick<NewJob, "name" | "priority" | "maxAttempts" | "maxStalls" | "timeout">,
    queue: QueueData,
    now: number,
  ) {
    this.name = job.name;
    this.queue = queue;
    this.priority = job.priority;
    this.maxAttempts = job.maxAttempts;
    this.maxStalls = job.maxStalls;
    this.timeout = job.timeout;
    this.enqueuedAt = now;
    this.unset = job.maxAttempts === null || job.maxStalls === null || job.timeout === null;
  }

  /** This spec with its unset settings taken from `settings`. */
  fill(settings: TaskSettings): Spec {
    if (this.filledFrom !== settings) {
      this.filled = new Spec(
        {
          name: this.name,
          priority: this.priority,
          maxAttempts: this.maxAttempts ?? settings.maxAttempts,
          maxStalls: this.maxStalls ?? settings.maxStalls,
          timeout: this.timeout ?? settings.timeout,
        },
        this.queue,
        this.enqueuedAt,
      );
      this.filledFrom = settings;
    }
    return this.filled!;
  }

  /** Whether `job`, enqueued at `now`, shares this spec (`Object.is`: a -0 reads back as -0). */
  fits(job: NewJob, now: number): boolean {
    return job.name === this.name && job.queue === this.queue.name &&
      Object.is(job.priority, this.priority) && Object.is(job.maxAttempts, this.maxAttempts) &&
      Object.is(job.maxStalls, this.maxStalls) && Object.is(job.timeout, this.timeout) &&
      now === this.enqueuedAt;
  }
}

/** The stored form of one job: a monomorphic class, copied into a fresh `JobRecord` on read. */
class Slot {
  readonly id: string;
  /** Replaced once, at reserve, when its task fills unset settings. */
  spec: Spec;
  readonly payload: unknown;
  attempt = 0;
  stalls = 0;
  runAt: number;
  state: JobState;
  startedAt: number | undefined = undefined;
  finishedAt: number | undefined = undefined;
  lease: LeaseGrant | undefined = undefined;
  progress: unknown = undefined;
  result: unknown = undefined;
  error: JobError | undefined = undefined;
  /** Attempt errors, oldest first; undefined until the first (most jobs never fail). */
  errors: JobError[] | undefined = undefined;
  /**
   * Order among jobs that became waiting (or delayed) in the same queue, or
   * when it finished, the mark of its finished-list entry; reset on each move.
   */
  seq = 0;
  /** Set once the job is deleted, so lazily deleted heap entries are skipped. */
  removed = false;

  constructor(job: NewJob, spec: Spec, now: number) {
    this.id = job.id;
    this.spec = spec;
    this.payload = copyJson(job.payload);
    this.runAt = job.runAt;
    this.state = job.runAt <= now ? "waiting" : "delayed";
  }

  get name(): string {
    return this.spec.name;
  }
  get queue(): QueueData {
    return this.spec.queue;
  }
  get priority(): number {
    return this.spec.priority;
  }
  get maxAttempts(): number | null {
    return this.spec.maxAttempts;
  }
  get maxStalls(): number | null {
    return this.spec.maxStalls;
  }
  get timeout(): number | null {
    return this.spec.timeout;
  }
  get enqueuedAt(): number {
    return this.spec.enqueuedAt;
  }
}

function copyError(error: JobError): JobError {
  const copy: JobError = {
    message: error.message,
    name: error.name,
    attempt: error.attempt,
    at: error.at,
  };
  if (error.stack !== undefined) copy.stack = error.stack;
  return copy;
}

/** A fresh `JobRecord` for a caller: nothing in it is shared with storage. */
function toRecord(slot: Slot): JobRecord {
  const record: JobRecord = {
    id: slot.id,
    name: slot.name,
    queue: slot.queue.name,
    payload: copyJson(slot.payload),
    priority: slot.priority,
    attempt: slot.attempt,
    maxAttempts: slot.maxAttempts,
    stalls: slot.stalls,
    maxStalls: slot.maxStalls,
    timeout: slot.timeout,
    enqueuedAt: slot.enqueuedAt,
    runAt: slot.runAt,
    state: slot.state,
    errors: slot.errors === undefined ? [] : slot.errors.map(copyError),
  };
  if (slot.startedAt !== undefined) record.startedAt = slot.startedAt;
  if (slot.finishedAt !== undefined) record.finishedAt = slot.finishedAt;
  if (slot.lease !== undefined) {
    const { owner, token, expiresAt } = slot.lease;
    record.lease = { owner, token, expiresAt };
  }
  if (slot.progress !== undefined) record.progress = copyJson(slot.progress) as JsonValue;
  if (slot.result !== undefined) record.result = copyJson(slot.result);
  if (slot.error !== undefined) record.error = copyError(slot.error);
  return record;
}

/** Array-backed first-in first-out queue: O(1) push and shift, compacted as the head advances. */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  *values(): Generator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T;
  }
}

/**
 * Finished (completed or failed) jobs of one queue in the order they
 * finished, so retention drops from the front in O(removed). An array with a
 * moving head rather than a `Map` by id: every settle adds one and prunes
 * one, and array pushes cost no hashing. Jobs that leave the state
 * otherwise (`remove`, `retryFailed`) are not searched for: each entry keeps
 * the `seq` its job had when it finished, and an entry whose job was since
 * removed or moved (which gives it a new `seq`) is stale and skipped.
 */
class FinishedList {
  readonly state: "completed" | "failed";
  #slots: (Slot | undefined)[] = [];
  #seqs: number[] = [];
  #head = 0;

  constructor(state: "completed" | "failed") {
    this.state = state;
  }

  /** Whether entry `i` still stands for its job. */
  #live(i: number): boolean {
    const slot = this.#slots[i]!;
    return !slot.removed && slot.state === this.state && slot.seq === this.#seqs[i];
  }

  /** Appends `slot`, which just finished with its current `seq`; `live` is how many are live. */
  push(slot: Slot, live: number): void {
    this.#slots.push(slot);
    this.#seqs.push(slot.seq);
    // Stale entries are otherwise dropped only when pruning reaches them:
    // compact once they outnumber live ones, so the list stays O(live).
    const length = this.#slots.length - this.#head;
    if (length > 1024 && length > 2 * live) this.#compact();
  }

  /** The oldest live entry, dropping stale ones before it. */
  peek(): Slot | undefined {
    while (this.#head < this.#slots.length && !this.#live(this.#head)) this.#drop();
    return this.#slots[this.#head];
  }

  /** Drops the front entry (after `peek`). */
  shift(): void {
    this.#drop();
  }

  /** Live entries, newest first. */
  *newestFirst(): Generator<Slot> {
    for (let i = this.#slots.length - 1; i >= this.#head; i--) {
      if (this.#live(i)) yield this.#slots[i]!;
    }
  }

  #drop(): void {
    this.#slots[this.#head++] = undefined;
    if (this.#head === this.#slots.length) {
      this.#slots = [];
      this.#seqs = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#seqs = this.#seqs.slice(this.#head);
      this.#head = 0;
    }
  }

  #compact(): void {
    const slots: Slot[] = [];
    const seqs: number[] = [];
    for (let i = this.#head; i < this.#slots.length; i++) {
      if (!this.#live(i)) continue;
      slots.push(this.#slots[i]!);
      seqs.push(this.#seqs[i]);
    }
    this.#slots = slots;
    this.#seqs = seqs;
    this.#head = 0;
  }
}

/**
 * Waiting jobs of one queue, in reservation order: highest priority first,
 * then first in, first out. One FIFO per distinct priority plus the sorted
 * list of priorities orders exactly like a binary heap keyed on
 * (priority desc, sequence) would, with O(1) push and shift in the common
 * case of few distinct priorities. Removed jobs stay until shifted
 * (lazy deletion) and are skipped.
 */
class WaitingList {
  #buckets = new Map<number, Fifo<Slot>>();
  /** Distinct priorities with a bucket, highest first. */
  #priorities: number[] = [];
  /** The bucket of `#priorities[0]`, so `shift` needs no map lookup. */
  #top: Fifo<Slot> | undefined = undefined;

  push(slot: Slot): void {
    const priority = slot.priority;
    // Most pushes go to the top bucket (jobs of one priority): no lookup then.
    let bucket = this.#priorities[0] === priority ? this.#top : this.#buckets.get(priority);
    if (bucket === undefined) {
      bucket = new Fifo();
      this.#buckets.set(priority, bucket);
      let i = 0;
      while (i < this.#priorities.length && this.#priorities[i] > priority) i++;
      this.#priorities.splice(i, 0, priority);
      if (i === 0) this.#top = bucket;
    }
    bucket.push(slot);
  }

  shift(): Slot | undefined {
    while (this.#top !== undefined) {
      const bucket = this.#top;
      for (let slot = bucket.shift(); slot !== undefined; slot = bucket.shift()) {
        if (!slot.removed) return slot;
      }
      this.#buckets.delete(this.#priorities.shift()!);
      this.#top = this.#priorities.length > 0 ? this.#buckets.get(this.#priorities[0]) : undefined;
    }
    return undefined;
  }

  *values(): Generator<Slot> {
    for (const priority of this.#priorities) {
      for (const slot of this.#buckets.get(priority)!.values()) {
        if (!slot.removed) yield slot;
      }
    }
  }
}

/** A binary min-heap under `less`. */
class Heap<T> {
  #items: T[] = [];
  #less: (a: T, b: T) => boolean;

  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(item, items[parent])) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.#items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      while (true) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && this.#less(items[child + 1], items[child])) child++;
        if (!this.#less(items[child], last)) break;
        items[i] = items[child];
        i = child;
      }
      items[i] = last;
    }
    return top;
  }

  toArray(): T[] {
    return this.#items.slice();
  }
}

/**
 * A job's lease as granted or extended, and also its entry in the lease heap
 * (one object per grant, not two). Never changed once pushed: an extension
 * grants a new one, so an entry is stale once its job's lease is another.
 */
class LeaseGrant implements Lease {
  readonly owner: string;
  readonly token: string;
  readonly expiresAt: number;
  /** Order among equal expiries. */
  readonly seq: number;
  readonly slot: Slot;

  constructor(owner: string, token: string, expiresAt: number, seq: number, slot: Slot) {
    this.owner = owner;
    this.token = token;
    this.expiresAt = expiresAt;
    this.seq = seq;
    this.slot = slot;
  }
}

function isLive(entry: LeaseGrant): boolean {
  return entry.slot.lease === entry && entry.slot.state === "active";
}

/** Everything stored for one queue. */
class QueueData {
  readonly name: string;
  paused = false;
  readonly waiting: WaitingList = new WaitingList();
  /** Delayed jobs by (runAt, seq); removed ones are skipped lazily. */
  readonly delayed: Heap<Slot> = new Heap((a, b) =>
    a.runAt < b.runAt || (a.runAt === b.runAt && a.seq < b.seq)
  );
  /** Lease expiries; entries for settled or extended leases are skipped lazily. */
  readonly leases: Heap<LeaseGrant> = new Heap((a, b) =>
    a.expiresAt < b.expiresAt || (a.expiresAt === b.expiresAt && a.seq < b.seq)
  );
  readonly completed: FinishedList = new FinishedList("completed");
  readonly failed: FinishedList = new FinishedList("failed");
  readonly counts: Counts = { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 };

  constructor(name: string) {
    this.name = name;
  }

  /** The earliest delayed job, dropping removed ones from the top. */
  peekDelayed(): Slot | undefined {
    let top = this.delayed.peek();
    while (top !== undefined && top.removed) {
      this.delayed.pop();
      top = this.delayed.peek();
    }
    return top;
  }

  /** The earliest live lease, dropping stale entries from the top (this keeps the heap small). */
  peekLease(): LeaseGrant | undefined {
    let top = this.leases.peek();
    while (top !== undefined && !isLive(top)) {
      this.leases.pop();
      top = this.leases.peek();
    }
    return top;
  }
}

interface Waiter {
  queues: readonly string[];
  wake: () => void;
}

/**
 * `Map.prototype.getOrInsert` where the runtime has it (Deno, Bun): one hash
 * lookup to store a job under a new id instead of a `get` and a `set`, which
 * is measurable on a map of a million jobs.
 */
const getOrInsert = (Map.prototype as {
  getOrInsert?: (this: Map<string, Slot>, key: string, value: Slot) => Slot;
}).getOrInsert;

/**
 * The in-memory {@linkcode Storage}: shared state for one `Queue` and any
 * number of `Worker`s in one process. Every method runs synchronously inside
 * its promise, so each call is atomic by construction.
 *
 * Costs: enqueue, reserve and settle are O(1) per job for jobs of one
 * priority (O(log n) for delayed jobs and lease expiries, O(p) for a job of a
 * priority not seen before, p distinct priorities); retention pruning is
 * O(removed). `list` and the reclaim of expired leases cost what they return.
 *
 * It follows the port's decisions (see `core/storage.ts`); its own are:
 * - `waitForWork` resolves (never rejects) on abort, on `close()`, on a wake
 *   and after `maxWaitMs` on the injected clock; a non-finite `maxWaitMs`
 *   means no bound. It never resolves spuriously otherwise.
 * - After `close()` the stored jobs stay readable and writable; only waits
 *   end (at once).
 *
 * @example Enqueue, reserve and complete by hand (what `Queue` and `Worker` do)
 * ```ts
 * import { MemoryStorage } from "@taskmill/taskmill/memory";
 *
 * const storage = new MemoryStorage();
 * const now = Date.now();
 * await storage.enqueue([{
 *   id: "job-1", name: "hello", queue: "default", payload: { to: "world" },
 *   priority: 0, maxAttempts: 3, maxStalls: 1, timeout: 0, runAt: now,
 * }], now);
 * const { jobs } = await storage.reserve({
 *   queues: ["default"], limit: 10, owner: "worker-1", leaseMs: 30_000, now,
 * });
 * const [done] = await storage.settle(
 *   [{ kind: "complete", id: jobs[0].id, token: jobs[0].lease!.token, result: "hi" }],
 *   { now },
 * );
 * console.log(done, (await storage.getJob("job-1"))?.state); // true "completed"
 * ```
 */
export class MemoryStorage implements Storage {
  #clock: Clock;
  #jobs = new Map<string, Slot>();
  /**
   * Active jobs of every queue by id, in reservation order (so by
   * `startedAt`). Settles, lease renewals and progress look jobs up here: a
   * map as small as the jobs in flight, rather than the map of every job.
   */
  #active = new Map<string, Slot>();
  #queues = new Map<string, QueueData>();
  #waiters = new Set<Waiter>();
  #seq = 0;
  #tokenPrefix = crypto.randomUUID().slice(0, 8) + ":";
  #closed = false;

  /**
   * Creates an empty store.
   *
   * @example With a fake clock for tests
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   * import { FakeClock } from "@taskmill/taskmill/testing";
   *
   * const storage = new MemoryStorage({ clock: new FakeClock() });
   * ```
   */
  constructor(options: MemoryStorageOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Cannot create MemoryStorage: options must be an object`);
    }
    checkKeys(options, MEMORY_OPTIONS, "Cannot create MemoryStorage");
    const clock = options.clock ?? systemClock;
    if (typeof clock?.now !== "function" || typeof clock.sleep !== "function") {
      throw new TypeError(`Cannot create MemoryStorage: clock must have now() and sleep()`);
    }
    this.#clock = clock;
  }

  /**
   * Stores new jobs, idempotent by id (the first of equal ids in one batch
   * wins). The whole batch is checked before anything is stored.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * const job = { id: "a", name: "t", queue: "q", payload: 1, priority: 0, maxAttempts: 1,
   *   maxStalls: 1, timeout: 0, runAt: 0 };
   * const [first, again] = await storage.enqueue([job, job], 0);
   * console.log(first.created, again.created); // true false
   * ```
   */
  enqueue(jobs: readonly NewJob[], now: number): Promise<EnqueueResult[]> {
    try {
      checkEnqueue(jobs, now);
      const results: EnqueueResult[] = new Array(jobs.length);
      let woken: string | Set<string> | undefined;
      // Batches are usually of one task and options: they share one spec.
      let spec: Spec | undefined;
      for (let i = 0; i < jobs.length; i++) {
        const job = jobs[i];
        let slot: Slot;
        if (getOrInsert !== undefined) {
          if (spec === undefined || !spec.fits(job, now)) {
            spec = new Spec(job, this.#queue(job.queue), now);
          }
          const fresh = new Slot(job, spec, now);
          slot = getOrInsert.call(this.#jobs, job.id, fresh);
          if (slot !== fresh) {
            results[i] = { job: toRecord(slot), created: false };
            continue;
          }
        } else {
          const existing = this.#jobs.get(job.id);
          if (existing !== undefined) {
            results[i] = { job: toRecord(existing), created: false };
            continue;
          }
          if (spec === undefined || !spec.fits(job, now)) {
            spec = new Spec(job, this.#queue(job.queue), now);
          }
          slot = new Slot(job, spec, now);
          this.#jobs.set(slot.id, slot);
        }
        if (slot.state === "waiting") this.#toWaiting(slot);
        else this.#toDelayed(slot);
        results[i] = { job: toRecord(slot), created: true };
        // Delayed jobs wake waiters too: an idle worker sleeping until a
        // later `nextAt` must learn of an earlier one.
        if (woken === undefined) woken = job.queue;
        else if (woken !== job.queue) {
          if (typeof woken === "string") woken = new Set([woken]);
          woken.add(job.queue);
        }
      }
      if (woken !== undefined && this.#waiters.size > 0) {
        if (typeof woken === "string") this.#wake(woken);
        else for (const queue of woken) this.#wake(queue);
      }
      return Promise.resolve(results);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Reclaims expired leases, promotes due delayed jobs and reserves up to
   * `limit` waiting jobs, queue by queue in the order given.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * const { jobs, nextAt } = await storage.reserve({
   *   queues: ["high", "default"], limit: 10, owner: "worker-1", leaseMs: 30_000, now: 0,
   * });
   * console.log(jobs.length, nextAt); // 0 null
   * ```
   */
  reserve(request: ReserveRequest): Promise<ReserveResult> {
    try {
      checkReserve(request);
      const { queues, limit, owner, leaseMs, now, taskDefaults } = request;
      const jobs: JobRecord[] = [];
      for (let i = 0; i < queues.length; i++) {
        if (queues.indexOf(queues[i]) !== i) continue; // a repeated name adds nothing
        const queue = this.#queues.get(queues[i]);
        if (queue === undefined) continue;
        this.#reclaim(queue, now);
        this.#promote(queue, now);
        if (queue.paused) continue;
        while (jobs.length < limit) {
          const slot = queue.waiting.shift();
          if (slot === undefined) break;
          if (taskDefaults !== undefined && slot.spec.unset) {
            const settings = taskDefaults.get(slot.spec.name);
            if (settings !== undefined) slot.spec = slot.spec.fill(settings);
          }
          jobs.push(this.#activate(slot, owner, leaseMs, now));
        }
      }
      let nextAt: number | null = null;
      for (const name of queues) {
        const queue = this.#queues.get(name);
        if (queue === undefined || queue.paused) continue;
        const delayed = queue.peekDelayed();
        if (delayed !== undefined && (nextAt === null || delayed.runAt < nextAt)) {
          nextAt = delayed.runAt;
        }
        const lease = queue.peekLease();
        if (lease !== undefined && (nextAt === null || lease.expiresAt < nextAt)) {
          nextAt = lease.expiresAt;
        }
      }
      return Promise.resolve({ jobs, nextAt });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Applies finished attempts; each entry is applied or refused on its own.
   * The batch is checked for well-formed entries before any is applied.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * const applied = await storage.settle(
   *   [{ kind: "complete", id: "missing", token: "t" }],
   *   { now: 0 },
   * );
   * console.log(applied); // [false]
   * ```
   */
  settle(settlements: readonly Settlement[], options: SettleOptions): Promise<boolean[]> {
    try {
      checkSettle(settlements, options);
      const { now, retention } = options;
      const applied: boolean[] = new Array(settlements.length);
      // A retention that keeps no completed job: delete them at once.
      const dropCompleted = retention?.completed.count === 0;
      let touched: QueueData | Set<QueueData> | undefined;
      for (let i = 0; i < settlements.length; i++) {
        const settlement = settlements[i];
        const slot = this.#active.get(settlement.id);
        if (slot === undefined || slot.lease!.token !== settlement.token) {
          applied[i] = false;
          continue;
        }
        this.#applySettlement(slot, settlement, now, dropCompleted);
        applied[i] = true;
        if (touched === undefined) touched = slot.queue;
        else if (touched !== slot.queue) {
          if (!(touched instanceof Set)) touched = new Set([touched]);
          touched.add(slot.queue);
        }
      }
      if (retention !== undefined && touched !== undefined) {
        if (touched instanceof Set) {
          for (const queue of touched) this.#prune(queue, retention, now);
        } else this.#prune(touched, retention, now);
      }
      return Promise.resolve(applied);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Renews leases still held: each expires `leaseMs` after `now`.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * console.log(await storage.extendLeases([{ id: "gone", token: "t" }], 30_000, 0)); // [false]
   * ```
   */
  extendLeases(
    leases: readonly { id: string; token: string }[],
    leaseMs: number,
    now: number,
  ): Promise<boolean[]> {
    try {
      checkExtendLeases(leases, leaseMs, now);
      const extended: boolean[] = new Array(leases.length);
      for (let i = 0; i < leases.length; i++) {
        const entry = leases[i];
        const slot = this.#active.get(entry.id);
        if (slot === undefined || slot.lease!.token !== entry.token) {
          extended[i] = false;
          continue;
        }
        const expiresAt = now + leaseMs;
        // An unchanged expiry keeps its heap entry (and its place among equal expiries).
        const lease = slot.lease!;
        if (lease.expiresAt !== expiresAt) {
          const grant = new LeaseGrant(lease.owner, lease.token, expiresAt, ++this.#seq, slot);
          slot.lease = grant;
          slot.queue.leases.push(grant);
        }
        extended[i] = true;
      }
      return Promise.resolve(extended);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Records progress of an active job whose lease `token` still holds.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * console.log(await storage.setProgress("gone", "t", 50)); // false
   * ```
   */
  setProgress(id: string, token: string, progress: JsonValue): Promise<boolean> {
    const slot = this.#active.get(id);
    if (slot === undefined || slot.lease!.token !== token) {
      return Promise.resolve(false);
    }
    try {
      slot.progress = copyJson(progress);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(true);
  }

  /**
   * Resolves when a job is enqueued, retried or released into one of
   * `queues`, when one of them is resumed, after `maxWaitMs` on the clock,
   * when `signal` aborts, or on `close()`. It never rejects.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * const idle = new AbortController();
   * const woken = storage.waitForWork(["default"], 5_000, idle.signal);
   * await storage.enqueue([{ id: "a", name: "t", queue: "default", payload: null, priority: 0,
   *   maxAttempts: 1, maxStalls: 1, timeout: 0, runAt: 0 }], 0);
   * await woken; // resolved by the enqueue
   * ```
   */
  waitForWork(queues: readonly string[], maxWaitMs: number, signal: AbortSignal): Promise<void> {
    try {
      checkWaitForWork(queues, maxWaitMs, signal);
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal.aborted || this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const stopTimer = new AbortController();
      const waiter: Waiter = {
        queues: queues.slice(),
        wake: () => {
          if (!this.#waiters.delete(waiter)) return;
          signal.removeEventListener("abort", waiter.wake);
          stopTimer.abort();
          resolve();
        },
      };
      this.#waiters.add(waiter);
      signal.addEventListener("abort", waiter.wake, { once: true });
      if (Number.isFinite(maxWaitMs)) {
        this.#clock.sleep(maxWaitMs, stopTimer.signal).then(waiter.wake, () => {});
      }
    });
  }

  /**
   * A copy of the job, or null.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().getJob("nope")); // null
   * ```
   */
  getJob(id: string): Promise<JobRecord | null> {
    const slot = this.#jobs.get(id);
    return Promise.resolve(slot === undefined ? null : toRecord(slot));
  }

  /**
   * Jobs in each state in `queue` (all zero for a queue never used).
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().counts("default"));
   * // { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 }
   * ```
   */
  counts(queue: string): Promise<Counts> {
    const counts = this.#queues.get(queue)?.counts;
    return Promise.resolve(
      counts === undefined
        ? { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 }
        : { ...counts },
    );
  }

  /**
   * Jobs of `queue` in `state`, in the port's order, paged.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const failed = await new MemoryStorage().list("default", "failed", { offset: 0, limit: 20 });
   * console.log(failed.length); // 0
   * ```
   */
  list(queue: string, state: JobState, options: ListOptions = {}): Promise<JobRecord[]> {
    try {
      const { offset, limit } = checkList(state, options);
      const data = this.#queues.get(queue);
      if (data === undefined || limit === 0) return Promise.resolve([]);
      let slots: Iterable<Slot>;
      switch (state) {
        case "waiting":
          slots = data.waiting.values();
          break;
        case "delayed":
          slots = data.delayed.toArray().filter((slot) => !slot.removed).sort((a, b) =>
            a.runAt - b.runAt || a.seq - b.seq
          );
          break;
        case "active":
          // Map order is reservation order; the stable sort only matters if
          // callers passed a `now` that went backwards.
          slots = [...this.#active.values()].filter((slot) => slot.queue === data).sort((a, b) =>
            a.startedAt! - b.startedAt!
          );
          break;
        default: {
          slots = (state === "completed" ? data.completed : data.failed).newestFirst();
        }
      }
      const page: JobRecord[] = [];
      let index = 0;
      for (const slot of slots) {
        if (index++ < offset) continue;
        page.push(toRecord(slot));
        if (page.length === limit) break;
      }
      return Promise.resolve(page);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Moves a failed job back to waiting with `attempt` and `stalls` reset.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().retryFailed("nope", 0)); // false
   * ```
   */
  retryFailed(id: string, now: number): Promise<boolean> {
    try {
      checkRetryFailed(now);
    } catch (error) {
      return Promise.reject(error);
    }
    const slot = this.#jobs.get(id);
    if (slot === undefined || slot.state !== "failed") return Promise.resolve(false);
    const queue = slot.queue;
    queue.counts.failed--; // its entry in `queue.failed` goes stale as it moves
    slot.attempt = 0;
    slot.stalls = 0;
    slot.finishedAt = undefined;
    slot.runAt = now;
    this.#toWaiting(slot);
    this.#wake(queue.name);
    return Promise.resolve(true);
  }

  /**
   * Deletes a job that is not active.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().remove("nope")); // false
   * ```
   */
  remove(id: string): Promise<boolean> {
    const slot = this.#jobs.get(id);
    if (slot === undefined || slot.state === "active") return Promise.resolve(false);
    return Promise.resolve(this.#remove(slot));
  }

  /**
   * Deletes a job only if it is failed.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().removeFailed("nope")); // false
   * ```
   */
  removeFailed(id: string): Promise<boolean> {
    const slot = this.#jobs.get(id);
    if (slot === undefined || slot.state !== "failed") return Promise.resolve(false);
    return Promise.resolve(this.#remove(slot));
  }

  #remove(slot: Slot): boolean {
    const id = slot.id;
    const queue = slot.queue;
    // Its entry (waiting, delayed or finished) is dropped lazily when it reaches the front.
    queue.counts[slot.state]--;
    slot.removed = true;
    this.#jobs.delete(id);
    return true;
  }

  /**
   * Stops reservations from `queue`.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * await storage.pause("default");
   * console.log(await storage.isPaused("default")); // true
   * ```
   */
  pause(queue: string): Promise<void> {
    try {
      checkQueueName(queue, "Cannot pause queue");
    } catch (error) {
      return Promise.reject(error);
    }
    this.#queue(queue).paused = true;
    return Promise.resolve();
  }

  /**
   * Lets reservations from `queue` happen again and wakes its waiting workers.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * await storage.pause("default");
   * await storage.resume("default");
   * console.log(await storage.isPaused("default")); // false
   * ```
   */
  resume(queue: string): Promise<void> {
    try {
      checkQueueName(queue, "Cannot resume queue");
    } catch (error) {
      return Promise.reject(error);
    }
    const data = this.#queues.get(queue);
    if (data !== undefined) data.paused = false;
    this.#wake(queue);
    return Promise.resolve();
  }

  /**
   * Whether `queue` is paused.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * console.log(await new MemoryStorage().isPaused("default")); // false
   * ```
   */
  isPaused(queue: string): Promise<boolean> {
    return Promise.resolve(this.#queues.get(queue)?.paused ?? false);
  }

  /**
   * Removes finished jobs of `queue` beyond `retention`; returns how many.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * const removed = await storage.prune("default", {
   *   completed: { count: 1_000, age: 24 * 60 * 60 * 1000 },
   *   failed: { count: 10_000, age: 7 * 24 * 60 * 60 * 1000 },
   * }, Date.now());
   * console.log(removed); // 0
   * ```
   */
  prune(queue: string, retention: Retention, now: number): Promise<number> {
    try {
      checkPrune(retention, now);
    } catch (error) {
      return Promise.reject(error);
    }
    const data = this.#queues.get(queue);
    return Promise.resolve(data === undefined ? 0 : this.#prune(data, retention, now));
  }

  /**
   * Ends every pending `waitForWork` (they resolve). Stored jobs stay.
   * Idempotent.
   *
   * @example
   * ```ts
   * import { MemoryStorage } from "@taskmill/taskmill/memory";
   *
   * const storage = new MemoryStorage();
   * await storage.close();
   * await storage.close(); // no-op
   * ```
   */
  close(): Promise<void> {
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.wake();
    return Promise.resolve();
  }

  #queue(name: string): QueueData {
    let queue = this.#queues.get(name);
    if (queue === undefined) {
      queue = new QueueData(name);
      this.#queues.set(name, queue);
    }
    return queue;
  }

  #toWaiting(slot: Slot): void {
    slot.state = "waiting";
    slot.seq = ++this.#seq;
    slot.queue.waiting.push(slot);
    slot.queue.counts.waiting++;
  }

  #toDelayed(slot: Slot): void {
    slot.state = "delayed";
    slot.seq = ++this.#seq;
    slot.queue.delayed.push(slot);
    slot.queue.counts.delayed++;
  }

  #toFinished(slot: Slot, state: "completed" | "failed", now: number): void {
    const queue = slot.queue;
    slot.state = state;
    slot.finishedAt = now;
    slot.seq = ++this.#seq; // marks its finished-list entry (see `FinishedList`)
    const live = ++queue.counts[state];
    (state === "completed" ? queue.completed : queue.failed).push(slot, live);
  }

  /** Takes `slot` out of the active set (its lease heap entry goes stale). */
  #deactivate(slot: Slot): void {
    slot.lease = undefined;
    this.#active.delete(slot.id);
    slot.queue.counts.active--;
  }

  #activate(slot: Slot, owner: string, leaseMs: number, now: number): JobRecord {
    const queue = slot.queue;
    queue.counts.waiting--;
    slot.state = "active";
    slot.attempt++;
    slot.startedAt = now;
    const token = this.#tokenPrefix + (++this.#seq).toString(36);
    const grant = new LeaseGrant(owner, token, now + leaseMs, this.#seq, slot);
    slot.lease = grant;
    this.#active.set(slot.id, slot);
    queue.counts.active++;
    queue.leases.push(grant);
    return toRecord(slot);
  }

  #reclaim(queue: QueueData, now: number): void {
    for (let entry = queue.peekLease(); entry !== undefined && entry.expiresAt <= now;) {
      queue.leases.pop();
      const slot = entry.slot;
      this.#deactivate(slot);
      slot.stalls++;
      // Still unset: no worker that knew the task reserved it; the built-in defaults.
      const maxStalls = slot.maxStalls ?? DEFAULT_MAX_STALLS;
      const maxAttempts = slot.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
      if (slot.stalls > maxStalls || slot.attempt >= maxAttempts) {
        const why = slot.stalls > maxStalls
          ? `more than maxStalls (${maxStalls}) times`
          : `on its last attempt (${slot.attempt} of ${maxAttempts})`;
        this.#recordError(slot, {
          message: `Job ${slot.id} stalled: its lease expired ${why}`,
          name: "StalledError",
          attempt: slot.attempt,
          at: now,
        });
        this.#toFinished(slot, "failed", now);
      } else {
        this.#toWaiting(slot);
      }
      entry = queue.peekLease();
    }
  }

  #promote(queue: QueueData, now: number): void {
    for (let slot = queue.peekDelayed(); slot !== undefined && slot.runAt <= now;) {
      queue.delayed.pop();
      queue.counts.delayed--;
      this.#toWaiting(slot);
      slot = queue.peekDelayed();
    }
  }

  /** Stores a copy of `error` as the last error and in the bounded history. */
  #recordError(slot: Slot, error: JobError): void {
    const copy = copyError(error);
    slot.error = copy; // shared with `errors` internally; every read copies both
    const errors = slot.errors ??= [];
    errors.push(copy);
    if (errors.length > MAX_ERROR_HISTORY) {
      errors.splice(0, errors.length - MAX_ERROR_HISTORY);
    }
  }

  #applySettlement(slot: Slot, settlement: Settlement, now: number, dropCompleted: boolean): void {
    this.#deactivate(slot);
    switch (settlement.kind) {
      case "complete":
        if (dropCompleted) {
          this.#jobs.delete(slot.id);
          slot.removed = true;
          return;
        }
        slot.result = copyJson(settlement.result);
        this.#toFinished(slot, "completed", now);
        return;
      case "fail":
        this.#recordError(slot, settlement.error);
        this.#toFinished(slot, "failed", now);
        return;
      case "retry":
        this.#recordError(slot, settlement.error);
        slot.runAt = settlement.runAt;
        break;
      case "release":
        slot.attempt--;
        if (settlement.runAt !== undefined) slot.runAt = settlement.runAt;
        break;
    }
    if (slot.runAt <= now) this.#toWaiting(slot);
    else this.#toDelayed(slot);
    // A delayed retry wakes too: an idle worker may be sleeping past its runAt.
    this.#wake(slot.queue.name);
  }

  #prune(queue: QueueData, retention: Retention, now: number): number {
    return this.#pruneFinished(queue, queue.completed, retention.completed, now) +
      this.#pruneFinished(queue, queue.failed, retention.failed, now);
  }

  /** Drops the oldest finished jobs: O(removed), since the list is in finish order. */
  #pruneFinished(
    queue: QueueData,
    finished: FinishedList,
    policy: RetentionPolicy,
    now: number,
  ): number {
    const counts = queue.counts;
    const state = finished.state;
    const oldestKept = now - policy.age;
    let removed = 0;
    for (let slot = finished.peek(); slot !== undefined; slot = finished.peek()) {
      if (counts[state] <= policy.count && slot.finishedAt! >= oldestKept) break;
      finished.shift();
      this.#jobs.delete(slot.id);
      slot.removed = true;
      counts[state]--;
      removed++;
    }
    return removed;
  }

  #wake(queue: string): void {
    if (this.#waiters.size === 0) return;
    // Deleting the current entry while iterating a Set is safe.
    for (const waiter of this.#waiters) {
      if (waiter.queues.includes(queue)) waiter.wake();
    }
  }
}
