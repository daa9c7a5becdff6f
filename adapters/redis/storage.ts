/**
 * The {@linkcode RedisStorage} class: the Storage port on Redis. Each method
 * delegates to the file of its concern (enqueue.ts, reserve.ts, settle.ts,
 * admin.ts, retention.ts, wait_for_work.ts, schedules.ts); the connection lives in
 * connection.ts and the key routing in slots.ts.
 *
 * @module
 */

import type { StorageWarning } from "../../core/errors.ts";
import type {
  Counts,
  EnqueueResult,
  ListOptions,
  NewJob,
  ReserveRequest,
  ReserveResult,
  Retention,
  Settlement,
  SettleOptions,
  Storage,
} from "../../core/storage.ts";
import {
  checkEnqueue,
  checkExtendLeases,
  checkList,
  checkPromote,
  checkPrune,
  checkQueueName,
  checkReserve,
  checkRetryFailed,
  checkSettle,
  checkWaitForWork,
  promised,
} from "../../core/storage_checks.ts";
import type { JobRecord, JobState, JsonValue } from "../../core/task.ts";
import type { EventPage, EventRead, QueueSummary, WorkerInfo } from "../../core/storage_events.ts";
import {
  checkReadEvents,
  checkRegisterWorker,
  checkUnregisterWorker,
  checkWorkersNow,
} from "../../core/storage_event_checks.ts";
import type {
  DueSchedules,
  FireResult,
  NewSchedule,
  ScheduleFire,
  ScheduleRecord,
  UpsertScheduleResult,
} from "../../core/storage_schedules.ts";
import {
  checkDueSchedules,
  checkFireSchedule,
  checkUpsertSchedule,
} from "../../core/storage_schedule_checks.ts";
import type { GroupInfo, GroupLimits, QueueLimits } from "../../core/storage_limits.ts";
import {
  checkGroups,
  checkSetGroupLimits,
  checkSetLimits,
} from "../../core/storage_limit_checks.ts";
import { EventReads } from "./events.ts";
import { getLimits, listGroups, setGroupLimits, setLimits } from "./limits.ts";
import { listWorkers, QueueSet, registerWorker, unregisterWorker } from "./registry.ts";
import {
  counts,
  getJob,
  isPaused,
  list,
  pause,
  promote,
  remove,
  resume,
  retryFailed,
} from "./admin.ts";
import { RedisConnection } from "./connection.ts";
import { enqueue } from "./enqueue.ts";
import { checkOptions, type RedisStorageOptions } from "./options.ts";
import { reserve } from "./reserve.ts";
import { IndexSweep, prune } from "./retention.ts";
import { extendLeases, setProgress, settle } from "./settle.ts";
import {
  dueSchedules,
  fireSchedule,
  getSchedule,
  listSchedules,
  removeSchedule,
  upsertSchedule,
} from "./schedules.ts";
import { Slots } from "./slots.ts";
import { WorkWaits } from "./wait_for_work.ts";

/**
 * Storage on Redis through ioredis. See the module doc for the key layout,
 * delivery guarantees and the clock assumption.
 *
 * @example Connect by URL
 * ```ts
 * import { Queue } from "@taskmill/taskmill";
 * import { RedisStorage } from "@taskmill/taskmill/redis";
 *
 * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379", prefix: "myapp" });
 * const queue = new Queue({ storage });
 * console.log(await queue.counts("default"));
 * await storage.close();
 * ```
 *
 * @example Bring your own client (or Cluster)
 * ```ts
 * import { Cluster } from "ioredis";
 * import { RedisStorage } from "@taskmill/taskmill/redis";
 *
 * const cluster = new Cluster([{ host: "127.0.0.1", port: 7000 }]);
 * const storage = new RedisStorage({ client: cluster, queueTags: true });
 * await storage.close(); // the cluster stays open: it is yours
 * await cluster.quit();
 * ```
 */
export class RedisStorage implements Storage {
  #connection: RedisConnection;
  #slots: Slots;
  // Dedicated blocking connections for waitForWork.
  #waits: WorkWaits;
  // queueTags mode: the id-index sweep (see IndexSweep).
  #sweep: IndexSweep;
  // Dedicated blocking connections for readEvents.
  #reads: EventReads;
  // The prefix's queue set.
  #queueSet: QueueSet;
  /** Events kept per stream (0: events are off). */
  readonly eventBacklog: number;

  /** Creates the storage; the connection opens on first use. */
  constructor(options: RedisStorageOptions) {
    const checked = checkOptions(options);
    this.#connection = new RedisConnection(checked);
    this.eventBacklog = checked.eventBacklog;
    this.#slots = new Slots(
      this.#connection,
      checked.prefix,
      checked.queueTags,
      checked.eventBacklog,
    );
    this.#waits = new WorkWaits(this.#slots);
    this.#sweep = new IndexSweep(this.#slots);
    this.#reads = new EventReads(this.#slots);
    this.#queueSet = new QueueSet(this.#slots);
  }

  /**
   * What the setup checks found so far (see `onWarning`), oldest first.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379", onWarning: () => {} });
   * await storage.checkSetup();
   * for (const warning of storage.warnings) console.error(warning.message);
   * await storage.close();
   * ```
   */
  get warnings(): readonly StorageWarning[] {
    return this.#connection.warnings;
  }

  /**
   * Connects if needed, waits for the setup check of the connection, and
   * returns every warning found so far (empty when all is well).
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const warnings = await storage.checkSetup();
   * await storage.close();
   * ```
   */
  checkSetup(): Promise<StorageWarning[]> {
    return this.#connection.checkSetup();
  }

  /**
   * The server's clock (TIME), epoch ms: the Worker measures its own
   * clock's skew against it.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * console.log(Date.now() - await storage.serverTime());
   * await storage.close();
   * ```
   */
  async serverTime(): Promise<number> {
    const connection = this.#connection;
    const time = await connection.command(
      "read the server's clock",
      () => connection.client.time(),
    );
    return Number(time[0]) * 1_000 + Math.floor(Number(time[1]) / 1_000);
  }

  /**
   * Stores new jobs, idempotent by id (the first of equal ids in one batch
   * wins); one atomic script call (per queue with `queueTags`, after one
   * id-index call). Sending the batch in chunks, so Redis stores one while
   * this process encodes the next, measured no faster and would let other
   * clients see half a batch.
   *
   * Any number of jobs works, and the whole call stays all-or-nothing (per
   * queue with `queueTags`). Redis serves no other client while the script
   * runs (seconds for a few hundred thousand jobs), and one command's text
   * must fit Redis's `client-query-buffer-limit` (1 GB by default): split a
   * batch yourself when either matters more than atomicity.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const now = Date.now();
   * const [{ created }] = await storage.enqueue([{
   *   id: "a", name: "send", queue: "default", payload: {}, priority: 0,
   *   maxAttempts: 3, maxStalls: 1, timeout: 0, runAt: now,
   * }], now);
   * await storage.close();
   * ```
   */
  enqueue(jobs: readonly NewJob[], now: number): Promise<EnqueueResult[]> {
    return promised(() => {
      checkEnqueue(jobs, now);
      return enqueue(this.#slots, this.#queueSet, jobs, now).then((results) => {
        this.#waits.madeWorkFor(jobs);
        return results;
      });
    });
  }

  /**
   * Reclaims expired leases, promotes due delayed jobs and reserves up to
   * `limit` jobs, in one script call (one per queue, in order, with
   * `queueTags`).
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const { jobs, nextAt } = await storage.reserve({
   *   queues: ["default"], limit: 10, owner: "worker-1", leaseMs: 30_000, now: Date.now(),
   * });
   * await storage.close();
   * ```
   */
  reserve(request: ReserveRequest): Promise<ReserveResult> {
    return promised(() => {
      checkReserve(request);
      this.#waits.reserving(request.queues);
      return reserve(this.#slots, request);
    });
  }

  /**
   * Applies finished attempts (checked against their lease tokens) and prunes
   * by `retention`, in one script call.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const [applied] = await storage.settle(
   *   [{ kind: "complete", id: "a", token: "default:1", result: { ok: true } }],
   *   { now: Date.now() },
   * );
   * await storage.close();
   * ```
   */
  settle(settlements: readonly Settlement[], options: SettleOptions): Promise<boolean[]> {
    return promised(() => {
      checkSettle(settlements, options);
      // A place freed under a limit is work too (for this process's waits).
      const freed = () => this.#waits.madeWork(null);
      return settle(this.#slots, settlements, options, freed).then((applied) => {
        // A retry or release is work; its queue is not known here without queueTags.
        if (settlements.some((s) => s.kind !== "complete" && s.kind !== "fail")) {
          this.#waits.madeWork(null);
        }
        return applied;
      });
    });
  }

  /**
   * Heartbeat: extends many leases in one script call.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const held = await storage.extendLeases([{ id: "a", token: "default:1" }], 30_000, Date.now());
   * await storage.close();
   * ```
   */
  extendLeases(
    leases: readonly { id: string; token: string }[],
    leaseMs: number,
    now: number,
  ): Promise<boolean[]> {
    return promised(() => {
      checkExtendLeases(leases, leaseMs, now);
      return extendLeases(this.#slots, leases, leaseMs, now);
    });
  }

  /**
   * Records progress on an active job.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.setProgress("a", "default:1", 50);
   * await storage.close();
   * ```
   */
  setProgress(
    id: string,
    token: string,
    progress: JsonValue,
    now: number = Date.now(),
  ): Promise<boolean> {
    return setProgress(this.#slots, id, token, progress, now);
  }

  /**
   * Blocks (BLPOP on a dedicated connection) until a job arrives on one of
   * `queues`, `maxWaitMs` passes, or `signal` aborts.
   *
   * Each queue has a short marker list that every state change making work
   * available pushes to (trimmed to 16 entries in the same script). A marker
   * pushed after this call began is either still in the list when BLPOP
   * arrives (it returns at once) or wakes the blocked BLPOP, so no wake-up is
   * missed; an old marker only causes a spurious return.
   *
   * Aborting (or `maxWaitMs` passing in this process first) ends the call at
   * once but never cuts the connection: its BLPOP runs on to its own
   * timeout, and the next wait on the same queues joins it instead of
   * opening a new connection (a worker waiting for its next delayed job ends
   * most waits this way). A marker that such a BLPOP pops while nobody
   * waits makes the next wait return at once, so it is not lost. With
   * `queueTags`, each queue's marker lives in its own slot, so one BLPOP per
   * queue runs on its own connection.
   *
   * Rejects with a {@linkcode StorageError} when Redis refuses the BLPOP
   * (an ACL user without it, a lost connection).
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.waitForWork(["default"], 1_000, new AbortController().signal);
   * await storage.close();
   * ```
   */
  waitForWork(
    queues: readonly string[],
    maxWaitMs: number,
    signal: AbortSignal,
  ): Promise<void> {
    return promised(() => {
      checkWaitForWork(queues, maxWaitMs, signal);
      return this.#waits.wait(queues, maxWaitMs, signal);
    });
  }

  /**
   * The job, or null.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * console.log(await storage.getJob("welcome:42"));
   * await storage.close();
   * ```
   */
  getJob(id: string): Promise<JobRecord | null> {
    return getJob(this.#slots, id);
  }

  /**
   * Counts the jobs of a queue in each state, in one script call.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * console.log(await storage.counts("default"));
   * await storage.close();
   * ```
   */
  counts(queue: string): Promise<Counts> {
    return counts(this.#slots, queue);
  }

  /**
   * Lists jobs of a queue in one state, with paging.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const failed = await storage.list("default", "failed", { limit: 20 });
   * await storage.close();
   * ```
   */
  list(queue: string, state: JobState, options: ListOptions = {}): Promise<JobRecord[]> {
    return promised(() => {
      const { offset, limit } = checkList(state, options);
      return list(this.#slots, queue, state, offset, limit);
    });
  }

  /**
   * Moves a failed job back to waiting with a fresh attempt budget.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.retryFailed("welcome:42", Date.now());
   * await storage.close();
   * ```
   */
  retryFailed(id: string, now: number): Promise<boolean> {
    return promised(() => {
      checkRetryFailed(now);
      return retryFailed(this.#slots, id, now).then((queue) => {
        if (queue !== null) this.#waits.madeWork([queue]);
        return queue !== null;
      });
    });
  }

  /**
   * Makes a delayed job waiting now, keeping its attempts and errors, and
   * wakes this instance's waiting workers of its queue.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.promote("welcome:42", Date.now());
   * await storage.close();
   * ```
   */
  promote(id: string, now: number): Promise<boolean> {
    return promised(() => {
      checkPromote(now);
      return promote(this.#slots, id, now).then((queue) => {
        if (queue !== null) this.#waits.madeWork([queue]);
        return queue !== null;
      });
    });
  }

  /**
   * Deletes a job that is not active.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.remove("welcome:42");
   * await storage.close();
   * ```
   */
  remove(id: string, now: number = Date.now()): Promise<boolean> {
    return remove(this.#slots, id, false, now);
  }

  /**
   * Deletes a job only if it is failed: the check and the delete are one
   * script call.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.removeFailed("welcome:42");
   * await storage.close();
   * ```
   */
  removeFailed(id: string, now: number = Date.now()): Promise<boolean> {
    return remove(this.#slots, id, true, now);
  }

  /**
   * Stops reservations from a queue.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.pause("default");
   * await storage.close();
   * ```
   */
  pause(queue: string, now: number = Date.now()): Promise<void> {
    return promised(async () => {
      checkQueueName(queue, "Cannot pause queue");
      await this.#queueSet.add("pause queue", [{ queue }]);
      return pause(this.#slots, queue, now);
    });
  }

  /**
   * Lets reservations from a queue happen again and wakes its workers.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.resume("default");
   * await storage.close();
   * ```
   */
  resume(queue: string, now: number = Date.now()): Promise<void> {
    return promised(async () => {
      checkQueueName(queue, "Cannot resume queue");
      await this.#queueSet.add("resume queue", [{ queue }]);
      return resume(this.#slots, queue, now).then(() => this.#waits.madeWork([queue]));
    });
  }

  /**
   * Whether a queue is paused.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * console.log(await storage.isPaused("default"));
   * await storage.close();
   * ```
   */
  isPaused(queue: string): Promise<boolean> {
    return isPaused(this.#slots, queue);
  }

  /**
   * Replaces a queue's limits (null clears them), enforced by every
   * reserve from the next one on, and wakes idle workers (see
   * `Storage.setLimits`).
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.setLimits("api", { concurrency: 5, rate: { max: 10, per: 1_000 }, group: null });
   * await storage.close();
   * ```
   */
  setLimits(queue: string, limits: QueueLimits | null, now: number = Date.now()): Promise<void> {
    return promised(async () => {
      checkSetLimits(queue, limits, now);
      await this.#queueSet.add("set limits", [{ queue }]);
      await setLimits(this.#slots, queue, limits, now);
      this.#waits.madeWork([queue]);
    });
  }

  /**
   * A queue's limits, or null.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * console.log(await storage.getLimits("api"));
   * await storage.close();
   * ```
   */
  getLimits(queue: string): Promise<QueueLimits | null> {
    return promised(() => {
      checkQueueName(queue, "Cannot get limits");
      return getLimits(this.#slots, queue);
    });
  }

  /**
   * Replaces one group's override of its queue's `group` limits (null
   * removes it), and wakes idle workers.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.setGroupLimits("api", "tenant-42", { concurrency: 1, rate: null });
   * await storage.close();
   * ```
   */
  setGroupLimits(
    queue: string,
    group: string,
    limits: GroupLimits | null,
    now: number = Date.now(),
  ): Promise<void> {
    return promised(async () => {
      checkSetGroupLimits(queue, group, limits, now);
      await this.#queueSet.add("set group limits", [{ queue }]);
      await setGroupLimits(this.#slots, queue, group, limits, now);
      this.#waits.madeWork([queue]);
    });
  }

  /**
   * The groups of a queue by name, with their waiting and active jobs,
   * override and hold, paged.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * console.log(await storage.groups("api"));
   * await storage.close();
   * ```
   */
  groups(queue: string, now: number = Date.now(), options: ListOptions = {}): Promise<GroupInfo[]> {
    return promised(() => {
      const { offset, limit } = checkGroups(queue, now, options);
      return listGroups(this.#slots, queue, now, offset, limit);
    });
  }

  /**
   * Removes finished jobs of a queue beyond `retention`, in bounded script
   * calls (each deletes at most a few hundred jobs, so Redis never stalls).
   *
   * @example
   * ```ts
   * import { DEFAULT_RETENTION } from "@taskmill/taskmill";
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const removed = await storage.prune("default", DEFAULT_RETENTION, Date.now());
   * await storage.close();
   * ```
   */
  prune(queue: string, retention: Retention, now: number): Promise<number> {
    return promised(() => {
      checkPrune(retention, now);
      return prune(this.#slots, this.#sweep, queue, retention, now);
    });
  }

  /**
   * Reads events of queues' streams (and the workers'): a non-blocking
   * XREAD, then, when there is nothing, an XREAD BLOCK per hash tag on a
   * dedicated connection, joined by every read of the same streams from the
   * same ids (see events.ts).
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const { events, cursors } = await storage.readEvents({
   *   queues: ["default"], after: { default: "0" }, limit: 100, maxWaitMs: 0,
   * });
   * await storage.close();
   * ```
   */
  readEvents(request: EventRead): Promise<EventPage> {
    return promised(() => {
      checkReadEvents(request);
      return this.#reads.read(request);
    });
  }

  /**
   * Records a live worker until `now + ttlMs`, with its event, in one
   * script call (which also expires the silent ones).
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const now = Date.now();
   * await storage.registerWorker({
   *   id: "w1", host: "box", pid: 1, runtime: "node", runtimeVersion: "24.0.0", queues: ["default"],
   *   concurrency: 10, running: 0, processed: 0, failed: 0, startedAt: now, lastSeen: now,
   * }, "online", 15_000, now);
   * await storage.close();
   * ```
   */
  registerWorker(
    worker: WorkerInfo,
    kind: "online" | "heartbeat",
    ttlMs: number,
    now: number,
  ): Promise<void> {
    return promised(() => {
      checkRegisterWorker(worker, kind, ttlMs, now);
      return registerWorker(this.#slots, worker, kind, ttlMs, now);
    });
  }

  /**
   * Removes a worker's registration at once, with its `offline` event.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.unregisterWorker("w1", Date.now());
   * await storage.close();
   * ```
   */
  unregisterWorker(id: string, now: number): Promise<void> {
    return promised(() => {
      checkUnregisterWorker(id, now);
      return unregisterWorker(this.#slots, id, now);
    });
  }

  /**
   * The workers alive at `now`, by id.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * for (const worker of await storage.workers(Date.now())) console.log(worker.id, worker.host);
   * await storage.close();
   * ```
   */
  workers(now: number): Promise<WorkerInfo[]> {
    return promised(() => {
      checkWorkersNow(now);
      return listWorkers(this.#slots, now);
    });
  }

  /**
   * Every queue of the prefix (from its queue set: no key scan), with its
   * counts and paused flag.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * for (const { name, counts } of await storage.queues()) console.log(name, counts);
   * await storage.close();
   * ```
   */
  queues(): Promise<QueueSummary[]> {
    return this.#queueSet.list();
  }

  /**
   * Creates a schedule, or updates the one with its id (an update with the
   * same timing keeps the stored `nextRunAt` and `startAt`): one script
   * call; with `queueTags` also the schedule index, and an update that
   * changes the queue moves the schedule to that queue's slot (see
   * schedules.ts for the order of the steps). Writes no event.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const now = Date.now();
   * const { schedule, created } = await storage.upsertSchedule({
   *   id: "tick",
   *   job: { name: "t", queue: "default", payload: null, priority: 0, maxAttempts: null, maxStalls: null, timeout: null },
   *   cron: null, tz: null, every: 60_000, startAt: now + 60_000, missed: "latest",
   *   timing: "every 60000", nextRunAt: now + 60_000,
   * }, now);
   * await storage.close();
   * ```
   */
  upsertSchedule(schedule: NewSchedule, now: number): Promise<UpsertScheduleResult> {
    return promised(() => {
      checkUpsertSchedule(schedule, now);
      return upsertSchedule(this.#slots, this.#queueSet, schedule, now);
    });
  }

  /**
   * Deletes a schedule (the jobs it made stay); false if there is none.
   * Writes no event.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * console.log(await storage.removeSchedule("tick"));
   * await storage.close();
   * ```
   */
  removeSchedule(id: string): Promise<boolean> {
    return promised(() => removeSchedule(this.#slots, id));
  }

  /**
   * The schedule, or null.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * console.log(await storage.getSchedule("tick"));
   * await storage.close();
   * ```
   */
  getSchedule(id: string): Promise<ScheduleRecord | null> {
    return promised(() => getSchedule(this.#slots, id));
  }

  /**
   * Every schedule of the prefix, by id (from the schedule index: no key scan).
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * for (const schedule of await storage.schedules()) console.log(schedule.id, schedule.nextRunAt);
   * await storage.close();
   * ```
   */
  schedules(): Promise<ScheduleRecord[]> {
    return listSchedules(this.#slots);
  }

  /**
   * The due schedules of `queues`, earliest first, at most `limit`, and
   * when the next of the others is due: one script call (one per queue
   * with `queueTags`, then one read of the schedule index when any is due).
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const { due, nextAt } = await storage.dueSchedules(["default"], Date.now(), 10);
   * await storage.close();
   * ```
   */
  dueSchedules(queues: readonly string[], now: number, limit: number): Promise<DueSchedules> {
    return promised(() => {
      checkDueSchedules(queues, now, limit);
      return dueSchedules(this.#slots, queues, now, limit);
    });
  }

  /**
   * Fires a schedule if nobody updated or fired it since it was read: the
   * compare-and-set and the enqueue of its jobs (as `enqueue`: idempotent
   * by id, with their `enqueued` events and wake-ups) are one script call.
   * With `queueTags` the schedule index and the job id index are read
   * first, and the id index is written after for the jobs stored (a
   * refused fire writes nothing).
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * const fire = { id: "gone", revision: 1, nextRunAt: 0, jobs: [], lastTickAt: 0, next: 1 };
   * console.log((await storage.fireSchedule(fire, Date.now())).fired); // false
   * await storage.close();
   * ```
   */
  fireSchedule(fire: ScheduleFire, now: number): Promise<FireResult> {
    return promised(() => {
      checkFireSchedule(fire, now);
      return fireSchedule(this.#slots, this.#queueSet, fire, now).then((result) => {
        if (result.fired && fire.jobs.length > 0) this.#waits.madeWorkFor(fire.jobs);
        return result;
      });
    });
  }

  /**
   * Closes the connections this storage opened (never a client you passed
   * in; the blocking connections it duplicated from yours are closed).
   * Returns within about 1 s whatever the server does: a server that does
   * not answer QUIT by then (frozen, unreachable) is disconnected.
   *
   * @example
   * ```ts
   * import { RedisStorage } from "@taskmill/taskmill/redis";
   *
   * const storage = new RedisStorage({ url: "redis://127.0.0.1:6379" });
   * await storage.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#connection.closed) return;
    this.#connection.closed = true;
    this.#waits.close();
    this.#reads.close();
    this.#slots.leased.clear();
    this.#sweep.clear();
    await this.#connection.close();
  }
}
