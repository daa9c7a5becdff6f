// A stored job as the port hands it out: a `JobRecord` sharing nothing with the store.

import { copyError } from "../../core/errors.ts";
import type { JobRecord, JsonValue } from "../../core/task.ts";
import { copyJson } from "./json_copy.ts";
import type { Slot } from "./slot.ts";

/**
 * A fresh `JobRecord` for a caller: nothing in it is shared with storage.
 *
 * @example
 * ```ts
 * import { QueueData } from "./queue_data.ts";
 * import { toRecord } from "./record.ts";
 * import { Slot } from "./slot.ts";
 * import { Spec } from "./spec.ts";
 *
 * const job = { id: "a", name: "send", queue: "default", payload: { to: "x" }, priority: 0,
 *   maxAttempts: null, maxStalls: 1, timeout: 0, runAt: 0 };
 * const slot = new Slot(job, new Spec(job, new QueueData("default"), 0), 0);
 * const record = toRecord(slot);
 * console.log(record.queue, record.state, record.payload !== slot.payload); // "default" "waiting" true
 * ```
 */
export function toRecord(slot: Slot): JobRecord {
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
  const dedupeKey = slot.spec.dedupeKey;
  if (dedupeKey !== undefined) record.dedupeKey = dedupeKey;
  const group = slot.spec.group;
  if (group !== undefined) record.group = group;
  return record;
}
