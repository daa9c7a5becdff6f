/**
 * Checks of the observability half of the Storage port's input
 * (`readEvents`, `registerWorker`), shared by the adapters so that each
 * rejects bad input with the same clear error.
 *
 * @module
 */

import { checkLeaseMs, checkQueueName, checkTime } from "./storage_checks.ts";
import type { EventRead, WorkerInfo } from "./storage_events.ts";
import { checkInt, describe } from "./_validate.ts";

/** An event id: "0" or a decimal count without leading zeros. */
const EVENT_ID = /^(0|[1-9][0-9]*)$/;

/**
 * Throws unless `request` is a well-formed `readEvents` request.
 *
 * @example
 * ```ts
 * import { checkEventRead } from "./storage_event_checks.ts";
 *
 * checkEventRead({ queues: ["default"], after: { default: "0" }, limit: 100, maxWaitMs: 0 }); // fine
 * try {
 *   checkEventRead({ queues: ["default"], after: { default: "x" }, limit: 100, maxWaitMs: 0 });
 * } catch (error) {
 *   console.log((error as Error).message);
 *   // Cannot read events: after["default"] must be an event id ("0", "1", ...), got "x"
 * }
 * ```
 */
export function checkEventRead(request: EventRead): void {
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
  if (typeof after !== "object" || after === null) {
    throw new TypeError(
      `${where}: after must be an object of ids by stream, got ${describe(after)}`,
    );
  }
  for (const [stream, id] of Object.entries(after)) {
    if (typeof id !== "string" || !EVENT_ID.test(id)) {
      throw new TypeError(
        `${where}: after[${JSON.stringify(stream)}] must be an event id ("0", "1", ...), got ${
          describe(id)
        }`,
      );
    }
  }
  checkInt(request.limit, 1, Number.MAX_SAFE_INTEGER, `${where}: limit`);
  const maxWaitMs = request.maxWaitMs;
  if (typeof maxWaitMs !== "number" || Number.isNaN(maxWaitMs) || maxWaitMs < 0) {
    throw new RangeError(`${where}: maxWaitMs must be a number >= 0, got ${describe(maxWaitMs)}`);
  }
  if (request.signal !== undefined && !(request.signal instanceof AbortSignal)) {
    throw new TypeError(`${where}: signal must be an AbortSignal`);
  }
}

/**
 * Throws unless the arguments of `registerWorker` are well-formed.
 *
 * @example
 * ```ts
 * import { checkRegisterWorker } from "./storage_event_checks.ts";
 *
 * checkRegisterWorker({ id: "w1", host: "", pid: 0, runtime: "deno", runtimeVersion: "",
 *   queues: ["default"], concurrency: 1, running: 0, processed: 0, failed: 0,
 *   startedAt: 0, lastSeen: 0 }, "online", 15_000, 0); // fine
 * ```
 */
export function checkRegisterWorker(
  worker: WorkerInfo,
  kind: string,
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
  if (!Array.isArray(worker.queues)) {
    throw new TypeError(`${where}: worker.queues must be an array, got ${describe(worker.queues)}`);
  }
  if (kind !== "online" && kind !== "heartbeat") {
    throw new TypeError(`${where}: kind must be "online" or "heartbeat", got ${describe(kind)}`);
  }
  checkLeaseMs(ttlMs, `${where}: ttlMs`);
  checkTime(now, `${where}: now`);
}
