/**
 * Checks of what the core (or anyone calling an adapter directly) passes to a
 * `Storage`: one home for them, so every adapter (MemoryStorage,
 * RedisStorage, SQLite and others to come) refuses the same bad input with
 * the same error. `Queue` and `Worker` check the user's input already; these
 * guard the port itself, for adapters used on their own and for bugs.
 *
 * One function per port method, named after it (`checkEnqueue` for
 * `enqueue`...), to call first thing in that method: each throws a
 * TypeError (wrong type) or RangeError (number out of range) whose message
 * names the method and the field, and returns nothing. Nothing is stored
 * before the whole call is checked, so a bad entry in a batch refuses the
 * whole batch. An adapter may refuse more (RedisStorage: queue names that
 * fit its keys); the port's minimum is here.
 *
 * Messages are built only on failure: `checkEnqueue` and `checkSettle` run
 * per job on the hot path.
 *
 * @example In an adapter's method
 * ```ts
 * import { checkPrune } from "./storage_checks.ts";
 * import type { Retention } from "./storage.ts";
 *
 * function prune(queue: string, retention: Retention, now: number): Promise<number> {
 *   try {
 *     checkPrune(retention, now);
 *   } catch (error) {
 *     return Promise.reject(error);
 *   }
 *   return Promise.resolve(0); // ...the adapter's own work
 * }
 * await prune("default", { completed: { count: 1, age: 0 }, failed: { count: 1, age: 0 } }, 0);
 * ```
 *
 * @module
 */

import { checkGroupName } from "./storage_limit_checks.ts";
import type {
  JobDedupe,
  ListOptions,
  NewJob,
  ReserveRequest,
  Retention,
  Settlement,
  SettleOptions,
  TaskSettings,
} from "./storage.ts";
import type { JobError, JobState } from "./task.ts";
import { JOB_STATES } from "./task.ts";
import { checkInt, describe } from "./_validate.ts";

/**
 * Throws unless `value` is a finite number: a time in epoch ms (`now`, `runAt`).
 *
 * @example
 * ```ts
 * import { checkTime } from "./storage_checks.ts";
 *
 * checkTime(1_700_000_000_000, "Cannot prune jobs: now"); // fine: the now a Clock gave
 * try {
 *   checkTime(NaN, "Cannot prune jobs: now");
 * } catch (error) {
 *   console.log((error as Error).message);
 *   // Cannot prune jobs: now must be a finite number (epoch ms), got NaN
 * }
 * ```
 */
export function checkTime(value: unknown, what: string): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a finite number (epoch ms), got ${describe(value)}`);
  }
}

/**
 * Throws unless `value` is an integer >= 0 (a count, an offset).
 *
 * @example
 * ```ts
 * import { checkCount } from "./storage_checks.ts";
 *
 * checkCount(20, "Cannot list jobs: limit"); // fine
 * ```
 */
export function checkCount(value: unknown, what: string): void {
  checkInt(value, 0, Number.MAX_SAFE_INTEGER, what);
}

/**
 * Throws unless `value` is a lease length: a finite number > 0 (ms).
 *
 * @example
 * ```ts
 * import { checkLeaseMs } from "./storage_checks.ts";
 *
 * checkLeaseMs(30_000, "Cannot extend leases: leaseMs"); // fine
 * ```
 */
export function checkLeaseMs(value: unknown, what: string): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a finite number, got ${describe(value)}`);
  }
  if (value <= 0) throw new RangeError(`${what} must be > 0, got ${value}`);
}

/**
 * Throws unless `value` is a non-empty string: the port's minimum for a
 * queue name (`Queue` allows fewer names, and an adapter may refuse more).
 *
 * @example
 * ```ts
 * import { checkQueueName } from "./storage_checks.ts";
 *
 * checkQueueName("default", "Cannot pause queue"); // fine
 * ```
 */
export function checkQueueName(value: unknown, where: string): void {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`${where}: queue must be a non-empty string, got ${describe(value)}`);
  }
}

/**
 * Throws unless `retention` has a `completed` and a `failed` policy, each
 * with an integer `count` >= 0 and an `age` >= 0 (Infinity: no bound).
 *
 * @example
 * ```ts
 * import { DEFAULT_RETENTION } from "./storage.ts";
 * import { checkRetention } from "./storage_checks.ts";
 *
 * checkRetention(DEFAULT_RETENTION, "Cannot prune jobs: retention"); // fine
 * ```
 */
export function checkRetention(retention: Retention, what: string): void {
  if (typeof retention !== "object" || retention === null) {
    throw new TypeError(`${what} must be an object, got ${describe(retention)}`);
  }
  for (const state of ["completed", "failed"] as const) {
    const policy = retention[state];
    if (typeof policy !== "object" || policy === null) {
      throw new TypeError(`${what}.${state} must be an object, got ${describe(policy)}`);
    }
    checkCount(policy.count, `${what}.${state}.count`);
    if (typeof policy.age !== "number" || Number.isNaN(policy.age) || policy.age < 0) {
      throw new RangeError(
        `${what}.${state}.age must be a number >= 0, got ${describe(policy.age)}`,
      );
    }
  }
}

/**
 * Checks `Storage.enqueue`'s arguments: an array of well-typed
 * {@linkcode NewJob}s and a time.
 *
 * @example
 * ```ts
 * import { checkEnqueue } from "./storage_checks.ts";
 *
 * try {
 *   checkEnqueue([{ id: "a", name: "t", queue: "q", payload: null, priority: 0,
 *     maxAttempts: 0, maxStalls: 1, timeout: 0, runAt: 0 }], 0);
 * } catch (error) {
 *   console.log((error as Error).message);
 *   // Cannot enqueue jobs: jobs[0].maxAttempts must be an integer >= 1 or null, got 0
 * }
 * ```
 */
export function checkEnqueue(jobs: readonly NewJob[], now: number): void {
  if (!Array.isArray(jobs)) {
    throw new TypeError(`Cannot enqueue jobs: jobs must be an array, got ${describe(jobs)}`);
  }
  checkTime(now, "Cannot enqueue jobs: now");
  for (let i = 0; i < jobs.length; i++) checkNewJob(jobs[i], i);
}

function checkNewJob(job: NewJob, index: number): void {
  // Cheap checks first; messages are built only on failure (this runs per job).
  if (typeof job !== "object" || job === null) {
    throw new TypeError(`Cannot enqueue jobs: jobs[${index}] must be an object`);
  }
  if (typeof job.id !== "string" || job.id === "") {
    badField(index, "id", "a non-empty string", job.id);
  }
  if (typeof job.name !== "string" || job.name === "") {
    badField(index, "name", "a non-empty string", job.name);
  }
  if (typeof job.queue !== "string" || job.queue === "") {
    badField(index, "queue", "a non-empty string", job.queue);
  }
  if (typeof job.priority !== "number" || !Number.isFinite(job.priority)) {
    badField(index, "priority", "a finite number", job.priority);
  }
  // null: the task's, filled in at reserve.
  const { maxAttempts, maxStalls, timeout } = job;
  if (maxAttempts !== null && (!Number.isInteger(maxAttempts) || maxAttempts < 1)) {
    badField(index, "maxAttempts", "an integer >= 1 or null", maxAttempts);
  }
  if (maxStalls !== null && (!Number.isInteger(maxStalls) || maxStalls < 0)) {
    badField(index, "maxStalls", "an integer >= 0 or null", maxStalls);
  }
  if (timeout !== null && (typeof timeout !== "number" || !(timeout >= 0))) {
    badField(index, "timeout", "a number >= 0 or null", timeout);
  }
  if (typeof job.runAt !== "number" || !Number.isFinite(job.runAt)) {
    badField(index, "runAt", "a finite number (epoch ms)", job.runAt);
  }
  if (job.dedupe !== undefined) checkDedupe(job.dedupe, index);
  if (job.group !== undefined) {
    checkGroupName(job.group, `Cannot enqueue jobs: jobs[${index}].group`);
  }
}

/** The longest `NewJob.dedupe.key` (characters). */
export const MAX_DEDUPE_KEY_LENGTH = 512;

const DEDUPE_MODES: readonly string[] = ["unique", "throttle", "debounce"];

function checkDedupe(dedupe: JobDedupe, index: number): void {
  if (typeof dedupe !== "object" || dedupe === null || Array.isArray(dedupe)) {
    badField(index, "dedupe", "an object { key, mode, ttl, delay } or absent", dedupe);
  }
  const { key, mode, ttl, delay } = dedupe;
  if (typeof key !== "string" || key === "" || key.length > MAX_DEDUPE_KEY_LENGTH) {
    badField(
      index,
      "dedupe.key",
      `a non-empty string of at most ${MAX_DEDUPE_KEY_LENGTH} characters`,
      key,
    );
  }
  if (typeof mode !== "string" || !DEDUPE_MODES.includes(mode)) {
    badField(index, "dedupe.mode", '"unique", "throttle" or "debounce"', mode);
  }
  if (mode === "debounce") {
    if (!isMs(delay)) {
      badField(index, "dedupe.delay", 'an integer >= 0 (required by "debounce")', delay);
    }
    if (ttl !== null) badField(index, "dedupe.ttl", 'null (a "debounce" takes no ttl)', ttl);
    return;
  }
  if (ttl !== null && !isMs(ttl)) badField(index, "dedupe.ttl", "an integer >= 0 or null", ttl);
  if (delay !== null) {
    badField(
      index,
      "dedupe.delay",
      `null (only "debounce" takes a delay; mode is "${mode}")`,
      delay,
    );
  }
}

function isMs(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function badField(index: number, field: string, rule: string, value: unknown): never {
  // A number out of range is a RangeError; anything of the wrong type a TypeError.
  const numeric = field !== "id" && field !== "name" && field !== "queue" &&
    field !== "dedupe.key";
  const error = numeric && typeof value === "number" ? RangeError : TypeError;
  throw new error(
    `Cannot enqueue jobs: jobs[${index}].${field} must be ${rule}, got ${describe(value)}`,
  );
}

/**
 * Checks a {@linkcode ReserveRequest}: queue names, a `limit` >= 1, an
 * owner, a lease length, a time, and `taskDefaults` when given (checked once
 * per map: a worker passes the same one on every reserve).
 *
 * @example
 * ```ts
 * import { checkReserve } from "./storage_checks.ts";
 *
 * checkReserve({ queues: ["default"], limit: 10, owner: "w1", leaseMs: 30_000, now: 0 });
 * ```
 */
export function checkReserve(request: ReserveRequest): void {
  const where = "Cannot reserve jobs";
  if (typeof request !== "object" || request === null) {
    throw new TypeError(`${where}: request must be an object, got ${describe(request)}`);
  }
  const { queues, limit, owner, leaseMs, now } = request;
  if (!Array.isArray(queues)) {
    throw new TypeError(`${where}: queues must be an array, got ${describe(queues)}`);
  }
  for (let i = 0; i < queues.length; i++) checkQueueName(queues[i], `${where}: queues[${i}]`);
  if (typeof limit !== "number" || !Number.isInteger(limit)) {
    throw new TypeError(`${where}: limit must be an integer, got ${describe(limit)}`);
  }
  if (limit < 1) throw new RangeError(`${where}: limit must be >= 1, got ${limit}`);
  if (typeof owner !== "string") {
    throw new TypeError(`${where}: owner must be a string, got ${describe(owner)}`);
  }
  checkLeaseMs(leaseMs, `${where}: leaseMs`);
  checkTime(now, `${where}: now`);
  const defaults = request.taskDefaults;
  if (defaults !== undefined && !checkedDefaults.has(defaults)) {
    if (!(defaults instanceof Map)) {
      throw new TypeError(`${where}: taskDefaults must be a Map, got ${describe(defaults)}`);
    }
    for (const [name, settings] of defaults) checkTaskSettings(settings, name);
    checkedDefaults.add(defaults);
  }
}

/** Task settings maps already checked (adapters may cache what they derive from one, too). */
const checkedDefaults = new WeakSet<ReadonlyMap<string, TaskSettings>>();

/**
 * Checks one task's {@linkcode TaskSettings} from
 * `ReserveRequest.taskDefaults` ({@linkcode checkReserve} calls it for
 * each; an adapter that encodes the map itself may call it per entry).
 *
 * @example
 * ```ts
 * import { checkTaskSettings } from "./storage_checks.ts";
 *
 * checkTaskSettings({ maxAttempts: 3, maxStalls: 1, timeout: 0 }, "send-email");
 * ```
 */
export function checkTaskSettings(settings: TaskSettings, name: string): void {
  const where = `Cannot reserve jobs: taskDefaults of "${name}"`;
  if (typeof settings !== "object" || settings === null) {
    throw new TypeError(`${where} must be an object, got ${describe(settings)}`);
  }
  checkInt(settings.maxAttempts, 1, 1_000_000, `${where}: maxAttempts`);
  checkInt(settings.maxStalls, 0, 1_000_000, `${where}: maxStalls`);
  checkInt(settings.timeout, 0, 2_147_483_647, `${where}: timeout`);
}

/**
 * Checks `Storage.settle`'s arguments: an array of well-formed
 * settlements (a known `kind`, a string id and token, a `JobError` and a
 * `runAt` where the kind has them), and options with a time and an optional
 * retention.
 *
 * @example
 * ```ts
 * import { checkSettle } from "./storage_checks.ts";
 *
 * checkSettle([{ kind: "complete", id: "a", token: "t", result: 1 }], { now: 0 });
 * ```
 */
export function checkSettle(settlements: readonly Settlement[], options: SettleOptions): void {
  if (!Array.isArray(settlements)) {
    throw new TypeError(
      `Cannot settle jobs: settlements must be an array, got ${describe(settlements)}`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot settle jobs: options must be an object`);
  }
  checkTime(options.now, "Cannot settle jobs: options.now");
  if (options.retention !== undefined) {
    checkRetention(options.retention, "Cannot settle jobs: retention");
  }
  for (let i = 0; i < settlements.length; i++) checkSettlement(settlements[i], i);
}

function checkSettlement(settlement: Settlement, index: number): void {
  const where = `Cannot settle jobs: settlements[${index}]`;
  if (typeof settlement !== "object" || settlement === null) {
    throw new TypeError(`${where} must be an object`);
  }
  if (typeof settlement.id !== "string" || typeof settlement.token !== "string") {
    throw new TypeError(`${where} must have a string id and token`);
  }
  switch (settlement.kind) {
    case "complete":
      return;
    case "retry":
      checkTime(settlement.runAt, `${where}.runAt`);
      checkJobError(settlement.error, where);
      return;
    case "fail":
      checkJobError(settlement.error, where);
      return;
    case "release":
      if (settlement.runAt !== undefined) checkTime(settlement.runAt, `${where}.runAt`);
      if (settlement.holdUntil !== undefined) {
        checkTime(settlement.holdUntil, `${where}.holdUntil`);
      }
      return;
    default:
      throw new TypeError(
        `${where}.kind must be "complete", "retry", "fail" or "release", got ${
          describe((settlement as { kind: unknown }).kind)
        }`,
      );
  }
}

function checkJobError(error: JobError, where: string): void {
  if (
    typeof error !== "object" || error === null || typeof error.message !== "string" ||
    typeof error.name !== "string"
  ) {
    throw new TypeError(`${where}.error must be a JobError with a string message and name`);
  }
}

/**
 * Checks `Storage.extendLeases`'s arguments: an array of objects
 * (an unknown id or token is no error: its entry is false), a lease length
 * and a time.
 *
 * @example
 * ```ts
 * import { checkExtendLeases } from "./storage_checks.ts";
 *
 * checkExtendLeases([{ id: "a", token: "t" }], 30_000, 0);
 * ```
 */
export function checkExtendLeases(
  leases: readonly { id: string; token: string }[],
  leaseMs: number,
  now: number,
): void {
  if (!Array.isArray(leases)) {
    throw new TypeError(`Cannot extend leases: leases must be an array, got ${describe(leases)}`);
  }
  checkLeaseMs(leaseMs, "Cannot extend leases: leaseMs");
  checkTime(now, "Cannot extend leases: now");
  for (let i = 0; i < leases.length; i++) {
    const entry = leases[i];
    if (typeof entry !== "object" || entry === null) {
      throw new TypeError(`Cannot extend leases: leases[${i}] must be an object`);
    }
  }
}

/**
 * Checks `Storage.waitForWork`'s arguments: queue names, a
 * `maxWaitMs` >= 0 (Infinity: no bound) and an `AbortSignal`.
 *
 * @example
 * ```ts
 * import { checkWaitForWork } from "./storage_checks.ts";
 *
 * checkWaitForWork(["default"], 5_000, new AbortController().signal);
 * ```
 */
export function checkWaitForWork(
  queues: readonly string[],
  maxWaitMs: number,
  signal: AbortSignal,
): void {
  if (!Array.isArray(queues) || queues.some((queue) => typeof queue !== "string")) {
    throw new TypeError(`Cannot wait for work: queues must be an array of queue names`);
  }
  if (typeof maxWaitMs !== "number" || Number.isNaN(maxWaitMs) || maxWaitMs < 0) {
    throw new RangeError(
      `Cannot wait for work: maxWaitMs must be a number >= 0, got ${describe(maxWaitMs)}`,
    );
  }
  if (!(signal instanceof AbortSignal)) {
    throw new TypeError(`Cannot wait for work: signal must be an AbortSignal`);
  }
}

/**
 * Checks `Storage.list`'s arguments and returns the page asked
 * for, defaults filled in (offset 0, limit 100).
 *
 * @example
 * ```ts
 * import { checkList } from "./storage_checks.ts";
 *
 * console.log(checkList("failed", { limit: 20 })); // { offset: 0, limit: 20 }
 * ```
 */
export function checkList(
  state: JobState,
  options: ListOptions,
): { offset: number; limit: number } {
  if (!JOB_STATES.includes(state)) {
    throw new RangeError(
      `Cannot list jobs: state must be one of ${JOB_STATES.join(", ")}, got ${describe(state)}`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot list jobs: options must be an object`);
  }
  const offset = options.offset ?? 0;
  const limit = options.limit ?? 100;
  checkCount(offset, "Cannot list jobs: offset");
  checkCount(limit, "Cannot list jobs: limit");
  return { offset, limit };
}

/**
 * Checks `Storage.retryFailed`'s time (any id is fine: an unknown
 * one returns false).
 *
 * @example
 * ```ts
 * import { checkRetryFailed } from "./storage_checks.ts";
 *
 * checkRetryFailed(1_700_000_000_000); // the now a Clock gave
 * ```
 */
export function checkRetryFailed(now: number): void {
  checkTime(now, "Cannot retry job: now");
}

/**
 * Checks `Storage.promote`'s time (any id is fine: an unknown one returns
 * false).
 *
 * @example
 * ```ts
 * import { checkPromote } from "./storage_checks.ts";
 *
 * checkPromote(1_700_000_000_000); // the now a Clock gave
 * ```
 */
export function checkPromote(now: number): void {
  checkTime(now, "Cannot promote job: now");
}

/**
 * Checks `Storage.prune`'s retention and time.
 *
 * @example
 * ```ts
 * import { DEFAULT_RETENTION } from "./storage.ts";
 * import { checkPrune } from "./storage_checks.ts";
 *
 * checkPrune(DEFAULT_RETENTION, 1_700_000_000_000); // the now a Clock gave
 * ```
 */
export function checkPrune(retention: Retention, now: number): void {
  checkRetention(retention, "Cannot prune jobs: retention");
  checkTime(now, "Cannot prune jobs: now");
}

/**
 * `run()`'s value as a promise, or what it throws as a rejection: a port
 * method reports bad input by rejecting, never by throwing.
 *
 * @example
 * ```ts
 * import { checkRetryFailed, promised } from "./storage_checks.ts";
 *
 * const result = promised(() => {
 *   checkRetryFailed(NaN);
 *   return true;
 * });
 * console.log(await result.catch((error) => error.name)); // RangeError
 * ```
 */
export function promised<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error);
  }
}
