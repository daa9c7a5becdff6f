/**
 * The shared input checks (see `storage_checks.ts`) of the port's
 * observability methods: `readEvents`, `registerWorker`,
 * `unregisterWorker` and `workers`.
 *
 * @example
 * ```ts
 * import { checkReadEvents } from "./storage_event_checks.ts";
 *
 * checkReadEvents({ queues: ["default"], after: {}, limit: 100, maxWaitMs: 0 });
 * ```
 *
 * @module
 */

import type { EventRead, WorkerInfo } from "./storage_events.ts";
import { checkQueueName, checkTime } from "./storage_checks.ts";
import { checkInt, describe } from "./_validate.ts";

const EVENT_ID = /^(0|[1-9][0-9]{0,15})$/;

/**
 * Checks `Storage.readEvents`'s request: queue names, cursors that are
 * event ids ("0", "1", ...), a `limit` of 1 to 100 000, a `maxWaitMs` >= 0
 * and, when given, an `AbortSignal`.
 *
 * @example
 * ```ts
 * import { checkReadEvents } from "./storage_event_checks.ts";
 *
 * checkReadEvents({ queues: ["default"], after: { default: "41" }, limit: 100, maxWaitMs: 5_000 });
 * ```
 */
export function checkReadEvents(request: EventRead): void {
  const where = "Cannot read events";
  if (typeof request !== "object" || request === null) {
    throw new TypeError(`${where}: the request must be an object, got ${describe(request)}`);
  }
  if (!Array.isArray(request.queues)) {
    throw new TypeError(`${where}: queues must be an array of queue names`);
  }
  for (const queue of request.queues) checkQueueName(queue, where);
  if (request.workers !== undefined && typeof request.workers !== "boolean") {
    throw new TypeError(`${where}: workers must be a boolean, got ${describe(request.workers)}`);
  }
  const after = request.after;
  if (typeof after !== "object" || after === null || Array.isArray(after)) {
    throw new TypeError(`${where}: after must be an object of event ids by stream`);
  }
  for (const [stream, id] of Object.entries(after)) {
    if (typeof id !== "string" || !EVENT_ID.test(id)) {
      throw new RangeError(
        `${where}: after[${JSON.stringify(stream)}] must be an event id ("0", "1", ...), got ${
          describe(id)
        }`,
      );
    }
  }
  checkInt(request.limit, 1, 100_000, `${where}: limit`);
  const wait = request.maxWaitMs;
  if (typeof wait !== "number" || Number.isNaN(wait) || wait < 0) {
    throw new RangeError(`${where}: maxWaitMs must be a number >= 0, got ${describe(wait)}`);
  }
  if (request.signal !== undefined && !(request.signal instanceof AbortSignal)) {
    throw new TypeError(`${where}: signal must be an AbortSignal`);
  }
}

/**
 * Checks `Storage.registerWorker`'s arguments: a worker with a non-empty
 * id, its numbers and queues, a kind, a `ttlMs` >= 1 and a time.
 *
 * @example
 * ```ts
 * import { checkRegisterWorker } from "./storage_event_checks.ts";
 *
 * const now = 1_700_000_000_000;
 * checkRegisterWorker({
 *   id: "w1", host: "box", pid: 1, runtime: "deno", runtimeVersion: "2.0.0", queues: ["default"],
 *   concurrency: 10, running: 0, processed: 0, failed: 0, startedAt: now, lastSeen: now,
 * }, "online", 15_000, now);
 * ```
 */
export function checkRegisterWorker(
  worker: WorkerInfo,
  kind: "online" | "heartbeat",
  ttlMs: number,
  now: number,
): void {
  const where = "Cannot register worker";
  if (typeof worker !== "object" || worker === null) {
    throw new TypeError(`${where}: worker must be an object, got ${describe(worker)}`);
  }
  if (typeof worker.id !== "string" || worker.id === "") {
    throw new TypeError(
      `${where}: worker.id must be a non-empty string, got ${describe(worker.id)}`,
    );
  }
  for (const key of ["host", "runtime", "runtimeVersion"] as const) {
    if (typeof worker[key] !== "string") {
      throw new TypeError(`${where}: worker.${key} must be a string, got ${describe(worker[key])}`);
    }
  }
  if (!Array.isArray(worker.queues)) {
    throw new TypeError(`${where}: worker.queues must be an array of queue names`);
  }
  for (const queue of worker.queues) checkQueueName(queue, where);
  for (const key of ["pid", "concurrency", "running", "processed", "failed"] as const) {
    checkInt(worker[key], 0, Number.MAX_SAFE_INTEGER, `${where}: worker.${key}`);
  }
  checkTime(worker.startedAt, `${where}: worker.startedAt`);
  checkTime(worker.lastSeen, `${where}: worker.lastSeen`);
  if (kind !== "online" && kind !== "heartbeat") {
    throw new RangeError(`${where}: kind must be "online" or "heartbeat", got ${describe(kind)}`);
  }
  checkInt(ttlMs, 1, 2_147_483_647, `${where}: ttlMs`);
  checkTime(now, `${where}: now`);
}

/**
 * Checks `Storage.unregisterWorker`'s arguments: a non-empty id and a time.
 *
 * @example
 * ```ts
 * import { checkUnregisterWorker } from "./storage_event_checks.ts";
 *
 * checkUnregisterWorker("w1", 1_700_000_000_000);
 * ```
 */
export function checkUnregisterWorker(id: string, now: number): void {
  if (typeof id !== "string" || id === "") {
    throw new TypeError(
      `Cannot unregister worker: id must be a non-empty string, got ${describe(id)}`,
    );
  }
  checkTime(now, "Cannot unregister worker: now");
}

/**
 * Checks `Storage.workers`'s time.
 *
 * @example
 * ```ts
 * import { checkWorkersNow } from "./storage_event_checks.ts";
 *
 * checkWorkersNow(1_700_000_000_000);
 * ```
 */
export function checkWorkersNow(now: number): void {
  checkTime(now, "Cannot list workers: now");
}
