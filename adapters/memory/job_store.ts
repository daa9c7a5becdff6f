import {
  type Counts,
  type EnqueueResult,
  MAX_ERROR_HISTORY,
  type NewJob,
  type ReserveRequest,
  type ReserveResult,
  type Retention,
  type RetentionPolicy,
  type Settlement,
} from "../../core/storage.ts";
import type { JobError, JobRecord, JobState, JsonValue } from "../../core/task.ts";
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_STALLS } from "../../core/task.ts";
import type { FinishedList } from "./finished_list.ts";
import type { GroupInfo, GroupLimits, QueueLimits } from "../../core/storage_limits.ts";
import { copyGroupLimits, Flow } from "./flow.ts";
import type { EventLog } from "./event_log.ts";
import { copyJson } from "./json_copy.ts";
import { Kind } from "./stored_event.ts";
import { LeaseGrant } from "./lease_grant.ts";
import { QueueData } from "./queue_data.ts";
import { copyError } from "../../core/errors.ts";
import { toRecord } from "./record.ts";
import { Heap } from "./heap.ts";
import { Slot } from "./slot.ts";
import { Spec } from "./spec.ts";

/**
 * `Map.prototype.getOrInsert` where the runtime has it (Deno, Bun): one hash
 * lookup to store a job under a new id instead of a `get` and a `set`, which
 * is measurable on a map of a million jobs.
 */
const getOrInsert = (Map.prototype as {
  getOrInsert?: (this: Map<string, Slot>, key: string, value: Slot) => Slot;
}).getOrInsert;

/** Keys a dedupe enqueue frees at most (a `prune` frees every due one). */
const DEDUPE_SWEEP = 16;

/**
 * MemoryStorage's jobs and every change of their state, synchronous: the
 * port's semantics on checked input (`MemoryStorage` checks it, answers in
 * promises and runs the waits). Each method does what the `Storage` method
 * of that name does; `onWork(queue)` is called wherever work may have
 * arrived on a queue (an enqueue, a retry or release, `retryFailed`,
 * `promote`, `resume`), so the caller can wake its waiting workers. Every change
 * appends its event to the queue's stream of `events` in the same call
 * (none when `events` is undefined: events are off).
 *
 * @example
 * ```ts
 * import { JobStore } from "./job_store.ts";
 *
 * const store = new JobStore((queue) => console.log(`work on ${queue}`));
 * store.enqueue([{ id: "a", name: "t", queue: "default", payload: null, priority: 0,
 *   maxAttempts: 1, maxStalls: 1, timeout: 0, runAt: 0 }], 0); // work on default
 * const { jobs } = store.reserve({
 *   queues: ["default"], limit: 1, owner: "w", leaseMs: 1_000, now: 0,
 * });
 * console.log(store.settle([{ kind: "complete", id: "a", token: jobs[0].lease!.token }], 0));
 * // [true]
 * ```
 */
export class JobStore {
  #jobs = new Map<string, Slot>();
  /**
   * Active jobs of every queue by id, in reservation order (so by
   * `startedAt`). Settles, lease renewals and progress look jobs up here: a
   * map as small as the jobs in flight, rather than the map of every job.
   */
  #active = new Map<string, Slot>();
  #queues = new Map<string, QueueData>();
  #seq = 0;
  #tokenPrefix = crypto.randomUUID().slice(0, 8) + ":";
  #onWork: (queue: string) => void;
  readonly #events: EventLog | undefined;

  constructor(onWork: (queue: string) => void, events?: EventLog) {
    this.#onWork = onWork;
    this.#events = events;
  }

  /** Every queue ever enqueued to, paused or resumed, by name. */
  queueNames(): string[] {
    return [...this.#queues.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  }

  /**
   * Entries kept for the dedupe keys of `queue`: keys held, plus finished
   * jobs' ttl entries. They do not pile up under steady unique keys.
   *
   * @example Bounded by the keys held at once
   * ```ts
   * import { JobStore } from "./job_store.ts";
   *
   * const store = new JobStore(() => {});
   * const keep = { completed: { count: 10, age: 1e12 }, failed: { count: 10, age: 1e12 } };
   * let peak = 0;
   * for (let i = 0; i < 1_000; i++) {
   *   const now = i * 10; // a key every 10 ms, each held 100 ms
   *   store.enqueue([{ id: `j${i}`, name: "t", queue: "q", payload: null, priority: 0,
   *     maxAttempts: 1, maxStalls: 1, timeout: 0, runAt: now,
   *     dedupe: { key: `k${i}`, mode: "unique", ttl: 100, delay: null } }], now);
   *   const { jobs } = store.reserve({ queues: ["q"], limit: 10, owner: "w", leaseMs: 1_000, now });
   *   store.settle(jobs.map((j) => ({ kind: "complete" as const, id: j.id, token: j.lease!.token })),
   *     now, keep);
   *   peak = Math.max(peak, store.dedupeEntries("q"));
   * }
   * // About 10 keys held at once (each in the map and the ttl heap):
   * if (peak > 30) throw new Error(`dedupe entries piled up: ${peak}`);
   * store.prune("q", keep, 1e9);
   * if (store.dedupeEntries("q") !== 0) throw new Error("dedupe entries left after prune");
   * ```
   */
  dedupeEntries(queue: string): number {
    const data = this.#queues.get(queue);
    return (data?.dedupe?.size ?? 0) + (data?.heldKeys?.size ?? 0);
  }

  /** Stores new jobs, idempotent by id (the first of equal ids in one batch wins). */
  enqueue(jobs: readonly NewJob[], now: number): EnqueueResult[] {
    const results: EnqueueResult[] = new Array(jobs.length);
    let woken: string | Set<string> | undefined;
    // Batches are usually of one task and options: they share one spec.
    let spec: Spec | undefined;
    for (let i = 0; i < jobs.length; i++) {
      let job = jobs[i];
      let slot: Slot;
      if (job.dedupe !== undefined) {
        // Rare: its own path, so the loop below stays as fast for the rest.
        const decided = this.#dedupe(job, now);
        if (decided !== undefined) {
          results[i] = decided;
          if (decided.deduplicated === "debounced") this.#onWork(job.queue);
          continue;
        }
        // A debounce runs `delay` after the enqueue, whatever the job's runAt says.
        if (job.dedupe.mode === "debounce") job = { ...job, runAt: now + job.dedupe.delay! };
      }
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
      if (job.dedupe !== undefined) (slot.queue.dedupe ??= new Map()).set(job.dedupe.key, slot);
      slot.queue.events?.add(Kind.enqueued, now, slot.id, slot.runAt, slot.name);
      results[i] = { job: toRecord(slot), created: true };
      // Delayed jobs wake waiters too (see the port's decisions).
      if (woken === undefined) woken = job.queue;
      else if (woken !== job.queue) {
        if (typeof woken === "string") woken = new Set([woken]);
        woken.add(job.queue);
      }
    }
    if (typeof woken === "string") this.#onWork(woken);
    else if (woken !== undefined) { for (const queue of woken) this.#onWork(queue); }
    return results;
  }

  /**
   * The outcome of enqueuing `job` (which has `dedupe`) when it stores
   * nothing new: its id exists, or its key is held (a duplicate, or a
   * debounce of the key's job). Undefined: create it (the caller then
   * gives it the key).
   */
  #dedupe(job: NewJob, now: number): EnqueueResult | undefined {
    const existing = this.#jobs.get(job.id);
    if (existing !== undefined) return { job: toRecord(existing), created: false };
    const queue = this.#queues.get(job.queue);
    if (queue?.dedupe === undefined) return undefined;
    this.#sweepKeys(queue, now, DEDUPE_SWEEP);
    const { key, mode, delay } = job.dedupe!;
    const holder = queue.dedupe.get(key);
    if (holder === undefined || holder.removed) return undefined;
    const state = holder.state;
    const pending = state === "waiting" || state === "delayed";
    if (mode === "debounce") {
      if (!pending) return undefined;
      const debounced = this.#debounce(holder, job, now + delay!, now);
      return { job: toRecord(debounced), created: false, deduplicated: "debounced" };
    }
    if (pending || (mode === "unique" && state === "active") || holder.spec.holdUntil > now) {
      return { job: toRecord(holder), created: false, deduplicated: "duplicate" };
    }
    return undefined;
  }

  /**
   * Gives the pending job `slot` the payload of `job` and the run time
   * `runAt`, at the back of its line: a fresh slot under its id takes its
   * place (the old one's waiting or delayed entry is skipped as removed).
   */
  #debounce(slot: Slot, job: NewJob, runAt: number, now: number): Slot {
    const queue = slot.queue;
    queue.counts[slot.state]--;
    if (slot.state === "waiting" && slot.spec.group !== undefined) {
      queue.flow!.dropWaiting(slot.spec.group);
    }
    slot.removed = true;
    const next = new Slot({ ...job, id: slot.id, runAt }, slot.spec, runAt);
    next.attempt = slot.attempt;
    next.stalls = slot.stalls;
    next.startedAt = slot.startedAt;
    next.progress = slot.progress;
    next.error = slot.error;
    next.errors = slot.errors;
    this.#jobs.set(next.id, next);
    queue.dedupe!.set(job.dedupe!.key, next);
    if (runAt <= now) this.#toWaiting(next);
    else this.#toDelayed(next);
    queue.events?.add(Kind.debounced, now, next.id, runAt, undefined);
    return next;
  }

  /** `slot` (a job with a dedupe key) finished or is gone: its key is free once its ttl is over. */
  #releaseKey(slot: Slot, now: number): void {
    const queue = slot.queue;
    const key = slot.spec.dedupeKey!;
    if (queue.dedupe?.get(key) !== slot) return; // another job took the key over
    if (slot.spec.holdUntil > now && !slot.removed) {
      (queue.heldKeys ??= new Heap((a, b) => a.spec.holdUntil < b.spec.holdUntil)).push(slot);
    } else queue.dedupe.delete(key);
  }

  /** Drops up to `budget` keys of `queue` whose job finished and whose ttl is over. */
  #sweepKeys(queue: QueueData, now: number, budget: number): void {
    const held = queue.heldKeys;
    if (held === undefined) return;
    for (let top = held.peek(); top !== undefined && top.spec.holdUntil <= now && budget-- > 0;) {
      held.pop();
      const key = top.spec.dedupeKey!;
      if (queue.dedupe!.get(key) === top) queue.dedupe!.delete(key);
      top = held.peek();
    }
  }

  /**
   * Reclaims expired leases, promotes due delayed jobs and reserves up to
   * `limit` waiting jobs, queue by queue in the order given.
   */
  reserve(request: ReserveRequest): ReserveResult {
    const { queues, limit, owner, leaseMs, now, taskDefaults } = request;
    const jobs: JobRecord[] = [];
    for (let i = 0; i < queues.length; i++) {
      if (queues.indexOf(queues[i]) !== i) continue; // a repeated name adds nothing
      const queue = this.#queues.get(queues[i]);
      if (queue === undefined) continue;
      this.#reclaim(queue, now);
      this.#promote(queue, now);
      if (queue.paused) continue;
      const flow = queue.flow;
      if (flow !== undefined) {
        const allowed = flow.allowed(limit - jobs.length, queue.counts.active, now);
        if (allowed <= 0) continue;
        const ungrouped = queue.counts.waiting - flow.groupedWaiting;
        const taken = flow.takeTurns(allowed, queue.waiting, ungrouped, now, (slot) => {
          if (taskDefaults !== undefined && slot.spec.unset) {
            const settings = taskDefaults.get(slot.spec.name);
            if (settings !== undefined) slot.spec = slot.spec.fill(settings);
          }
          jobs.push(this.#activate(slot, owner, leaseMs, now));
        });
        flow.started(taken, now);
        continue;
      }
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
      const flow = queue.flow;
      if (flow !== undefined && queue.counts.waiting > 0) {
        // Waiting jobs held back by a rate window or a hold: free again then.
        for (const at of [flow.freesAt(now), flow.nextFree()]) {
          if (at !== null && (nextAt === null || at < nextAt)) nextAt = at;
        }
      }
    }
    return { jobs, nextAt };
  }

  /** Applies finished attempts whose lease still holds, then prunes the touched queues. */
  settle(settlements: readonly Settlement[], now: number, retention?: Retention): boolean[] {
    const applied: boolean[] = new Array(settlements.length);
    // A retention that keeps no completed job: delete them at once.
    const dropCompleted = retention?.completed.count === 0;
    let touched: QueueData | Set<QueueData> | undefined;
    for (let i = 0; i < settlements.length; i++) {
      const settlement = settlements[i];
      const slot = this.#held(settlement.id, settlement.token);
      if (slot === undefined) {
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
    return applied;
  }

  /** Renews leases still held: each expires `leaseMs` after `now`. */
  extendLeases(
    leases: readonly { id: string; token: string }[],
    leaseMs: number,
    now: number,
  ): boolean[] {
    const extended: boolean[] = new Array(leases.length);
    for (let i = 0; i < leases.length; i++) {
      const slot = this.#held(leases[i].id, leases[i].token);
      if (slot === undefined) {
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
    return extended;
  }

  /** Records progress of an active job whose lease `token` still holds. */
  setProgress(id: string, token: string, progress: JsonValue, now: number): boolean {
    const slot = this.#held(id, token);
    if (slot === undefined) return false;
    slot.progress = copyJson(progress);
    slot.queue.events?.add(Kind.progress, now, id, 0, slot.progress);
    return true;
  }

  /** A copy of the job, or null. */
  getJob(id: string): JobRecord | null {
    const slot = this.#jobs.get(id);
    return slot === undefined ? null : toRecord(slot);
  }

  /** Jobs in each state in `queue` (all zero for a queue never used). */
  counts(queue: string): Counts {
    const counts = this.#queues.get(queue)?.counts;
    return counts === undefined
      ? { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 }
      : { ...counts };
  }

  /** Jobs of `queue` in `state`, in the port's order, from `offset`, at most `limit`. */
  list(queue: string, state: JobState, offset: number, limit: number): JobRecord[] {
    const data = this.#queues.get(queue);
    if (data === undefined || limit === 0) return [];
    let slots: Iterable<Slot>;
    switch (state) {
      case "waiting":
        // The jobs without a group first, then each group's (by name).
        slots = data.flow === undefined
          ? data.waiting.values()
          : [...data.waiting.values(), ...data.flow.waitingByGroup()];
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
      default:
        slots = (state === "completed" ? data.completed : data.failed).newestFirst();
    }
    const page: JobRecord[] = [];
    let index = 0;
    for (const slot of slots) {
      if (index++ < offset) continue;
      page.push(toRecord(slot));
      if (page.length === limit) break;
    }
    return page;
  }

  /** Moves a failed job back to waiting with `attempt` and `stalls` reset. */
  retryFailed(id: string, now: number): boolean {
    const slot = this.#jobs.get(id);
    if (slot === undefined || slot.state !== "failed") return false;
    const queue = slot.queue;
    queue.counts.failed--; // its entry in `queue.failed` goes stale as it moves
    slot.attempt = 0;
    slot.stalls = 0;
    slot.finishedAt = undefined;
    slot.runAt = now;
    this.#toWaiting(slot);
    queue.events?.add(Kind.waiting, now, id, 1, undefined);
    this.#onWork(queue.name);
    return true;
  }

  /** Makes a delayed job waiting now (`runAt = now`), keeping its attempts, stalls and errors. */
  promote(id: string, now: number): boolean {
    const slot = this.#jobs.get(id);
    if (slot === undefined || slot.state !== "delayed") return false;
    const queue = slot.queue;
    // Out of the heap before runAt and seq (its keys) change.
    queue.delayed.delete(slot);
    queue.counts.delayed--;
    slot.runAt = now;
    this.#toWaiting(slot);
    queue.events?.add(Kind.waiting, now, id, 2, undefined);
    this.#onWork(queue.name);
    return true;
  }

  /** Deletes a job that is not active (`onlyFailed`: only a failed one). */
  remove(id: string, onlyFailed: boolean, now: number): boolean {
    const slot = this.#jobs.get(id);
    if (slot === undefined || slot.state === "active") return false;
    if (onlyFailed && slot.state !== "failed") return false;
    // Its entry (waiting, delayed or finished) is dropped lazily when it reaches the front.
    slot.queue.counts[slot.state]--;
    if (slot.state === "waiting" && slot.spec.group !== undefined) {
      slot.queue.flow!.dropWaiting(slot.spec.group);
    }
    slot.removed = true;
    this.#jobs.delete(id);
    if (slot.spec.dedupeKey !== undefined) this.#releaseKey(slot, now); // a deleted job holds no key
    slot.queue.events?.add(Kind.removed, now, id, 0, undefined);
    return true;
  }

  /** Stops reservations from `queue` (remembered for a queue with no job yet). */
  pause(queue: string, now: number): void {
    const data = this.#queue(queue);
    if (data.paused) return;
    data.paused = true;
    data.events?.add(Kind.paused, now, "", 0, undefined);
  }

  /** Lets reservations from `queue` happen again (remembered as a queue of the store too). */
  resume(queue: string, now: number): void {
    const data = this.#queue(queue);
    if (data.paused) {
      data.paused = false;
      data.events?.add(Kind.resumed, now, "", 0, undefined);
    }
    this.#onWork(queue);
  }

  /** Whether `queue` is paused. */
  isPaused(queue: string): boolean {
    return this.#queues.get(queue)?.paused ?? false;
  }

  /** Removes finished jobs of `queue` beyond `retention`; returns how many. */
  prune(queue: string, retention: Retention, now: number): number {
    const data = this.#queues.get(queue);
    if (data === undefined) return 0;
    data.flow?.sweep(now);
    return this.#prune(data, retention, now);
  }

  /** Replaces the limits of `queue` (null clears them); blocked lanes take their turn again. */
  setLimits(queue: string, limits: QueueLimits | null, now: number): void {
    const data = this.#queue(queue);
    const flow = data.flow ??= new Flow();
    flow.limits = limits === null ? null : copyLimits(limits);
    flow.limitsChanged();
    flow.sweep(now);
    this.#onWork(queue);
  }

  /** The limits of `queue`, or null. */
  getLimits(queue: string): QueueLimits | null {
    const limits = this.#queues.get(queue)?.flow?.limits;
    return limits == null ? null : copyLimits(limits);
  }

  /** Replaces the override of one group of `queue` (null removes it). */
  setGroupLimits(queue: string, group: string, limits: GroupLimits | null, now: number): void {
    const flow = this.#queue(queue).flow ??= new Flow();
    flow.lane(group).override = limits === null ? null : copyGroupLimits(limits);
    flow.limitsChanged();
    flow.sweep(now);
    this.#onWork(queue);
  }

  /** The groups of `queue` by name, paged. */
  groups(queue: string, now: number, offset: number, limit: number): GroupInfo[] {
    return this.#queues.get(queue)?.flow?.groups(now, offset, limit) ?? [];
  }

  /** The active job `id` if `token` is its lease's; undefined for a lost lease. */
  #held(id: string, token: string): Slot | undefined {
    const slot = this.#active.get(id);
    return slot !== undefined && slot.lease!.token === token ? slot : undefined;
  }

  #queue(name: string): QueueData {
    let queue = this.#queues.get(name);
    if (queue === undefined) {
      queue = new QueueData(name, this.#events?.stream(name));
      this.#queues.set(name, queue);
    }
    return queue;
  }

  #toWaiting(slot: Slot): void {
    slot.state = "waiting";
    slot.seq = ++this.#seq;
    const queue = slot.queue;
    const group = slot.spec.group;
    if (group === undefined) queue.waiting.push(slot);
    else (queue.flow ??= new Flow()).pushWaiting(slot, group);
    queue.counts.waiting++;
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
    if (slot.spec.dedupeKey !== undefined) this.#releaseKey(slot, now);
  }

  /** Takes `slot` out of the active set (its lease heap entry goes stale). */
  #deactivate(slot: Slot): void {
    slot.lease = undefined;
    this.#active.delete(slot.id);
    const queue = slot.queue;
    queue.counts.active--;
    // A place under a concurrency limit freed: wake a worker that waits for one.
    if (queue.flow?.leftActive(slot.spec.group) === true) this.#onWork(queue.name);
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
    queue.events?.add(Kind.active, now, slot.id, slot.attempt, owner);
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
        const error = this.#recordError(slot, {
          message: `Job ${slot.id} stalled: its lease expired ${why}`,
          name: "StalledError",
          attempt: slot.attempt,
          at: now,
        });
        this.#toFinished(slot, "failed", now);
        const events = queue.events;
        if (events !== undefined) {
          const jobId = slot.id;
          events.add(Kind.stalled, now, jobId, 1, undefined);
          events.add(Kind.failed, now, jobId, 0, error);
        }
      } else {
        this.#toWaiting(slot);
        queue.events?.add(Kind.stalled, now, slot.id, 0, undefined);
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
  #recordError(slot: Slot, error: JobError): JobError {
    const copy = copyError(error);
    slot.error = copy; // shared with `errors` internally; every read copies both
    const errors = slot.errors ??= [];
    errors.push(copy);
    if (errors.length > MAX_ERROR_HISTORY) {
      errors.splice(0, errors.length - MAX_ERROR_HISTORY);
    }
    return copy; // shared with the event too: readers get copies
  }

  #applySettlement(slot: Slot, settlement: Settlement, now: number, dropCompleted: boolean): void {
    this.#deactivate(slot);
    const queue = slot.queue;
    const events = queue.events;
    switch (settlement.kind) {
      case "complete": {
        if (dropCompleted) {
          this.#jobs.delete(slot.id);
          slot.removed = true;
          if (slot.spec.dedupeKey !== undefined) this.#releaseKey(slot, now);
          events?.add(Kind.completed, now, slot.id, 0, copyJson(settlement.result));
          return;
        }
        slot.result = copyJson(settlement.result);
        this.#toFinished(slot, "completed", now);
        events?.add(Kind.completed, now, slot.id, 0, slot.result);
        return;
      }
      case "fail": {
        const error = this.#recordError(slot, settlement.error);
        this.#toFinished(slot, "failed", now);
        events?.add(Kind.failed, now, slot.id, 0, error);
        return;
      }
      case "retry": {
        const error = this.#recordError(slot, settlement.error);
        slot.runAt = settlement.runAt;
        events?.add(Kind.retrying, now, slot.id, slot.runAt, error);
        break;
      }
      case "release":
        if (settlement.holdUntil !== undefined) {
          const flow = queue.flow ??= new Flow();
          const group = slot.spec.group;
          if (group === undefined) flow.holdQueue(settlement.holdUntil);
          else flow.holdGroup(group, settlement.holdUntil);
        }
        slot.attempt--;
        if (settlement.runAt !== undefined) slot.runAt = settlement.runAt;
        events?.add(Kind.waiting, now, slot.id, 0, undefined);
        break;
    }
    if (slot.runAt <= now) this.#toWaiting(slot);
    else this.#toDelayed(slot);
    this.#onWork(slot.queue.name);
  }

  /** The store's summary of every queue it knows (see `queueNames`). */
  summaries(): { name: string; counts: Counts; paused: boolean }[] {
    return this.queueNames().map((name) => {
      const data = this.#queues.get(name)!;
      return { name, counts: { ...data.counts }, paused: data.paused };
    });
  }

  #prune(queue: QueueData, retention: Retention, now: number): number {
    if (queue.heldKeys !== undefined) this.#sweepKeys(queue, now, Infinity);
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
}

/** A copy of `limits` (callers may change what they passed or read). */
function copyLimits(limits: QueueLimits): QueueLimits {
  return {
    concurrency: limits.concurrency,
    rate: limits.rate === null ? null : { ...limits.rate },
    group: limits.group === null ? null : copyGroupLimits(limits.group),
  };
}
