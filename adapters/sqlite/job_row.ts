/**
 * A row of the `jobs` table as the port hands it out: a fresh `JobRecord`
 * parsed from the row's columns, or, for a row whose JSON cannot be parsed,
 * the fields that could be read and the row's text kept in `raw`.
 *
 * @module
 */

import type { JobError, JobRecord, JobState } from "../../core/task.ts";
import type { Row } from "./database.ts";

/** A row read back: its record, and whether some of its text could not be parsed. */
export interface DecodedRow {
  /** The record (for a corrupt row, what could be read; its text is in `raw`). */
  record: JobRecord;
  /** True when a JSON column could not be parsed (reserve quarantines such rows). */
  corrupt: boolean;
}

/** The JSON columns, in the order `raw` lists them. */
const JSON_COLUMNS = ["payload", "progress", "result", "error", "errors"] as const;

/**
 * Value as text for a column: JSON, or null for undefined (a payload or
 * result that was undefined reads back undefined, as a JSON round trip
 * of a property would leave it out).
 *
 * @example
 * ```ts
 * import { jsonText } from "./job_row.ts";
 *
 * console.log(jsonText({ at: new Date(0) })); // '{"at":"1970-01-01T00:00:00.000Z"}'
 * console.log(jsonText(undefined)); // null
 * ```
 */
export function jsonText(value: unknown): string | null {
  const text = JSON.stringify(value);
  return text === undefined ? null : text;
}

/**
 * The record of a `jobs` row (`SELECT *`).
 *
 * @example
 * ```ts
 * import { decodeRow } from "./job_row.ts";
 *
 * const { record, corrupt } = decodeRow({
 *   id: "a", queue: "q", name: "t", payload: "{\"to\":\"x\"}", state: "waiting", priority: 0,
 *   seq: 1, run_at: 0, attempt: 0, max_attempts: 3, stalls: 0, max_stalls: 1, timeout: 0,
 *   enqueued_at: 0, started_at: null, finished_at: null, lease_owner: null, lease_token: null,
 *   lease_until: null, lease_seq: null, progress: null, result: null, error: null, errors: null,
 *   dedupe_key: null, hold_until: null, grp: null, raw: null,
 * });
 * console.log(record.payload, record.state, corrupt); // { to: "x" } "waiting" false
 * ```
 */
export function decodeRow(row: Row): DecodedRow {
  let corrupt = false;
  const parse = (text: unknown): unknown => {
    if (text === null || text === undefined) return undefined;
    try {
      return JSON.parse(String(text));
    } catch {
      corrupt = true;
      return undefined;
    }
  };
  const payload = parse(row.payload);
  const progress = parse(row.progress);
  const result = parse(row.result);
  const error = parse(row.error) as JobError | undefined;
  const errors = parse(row.errors);
  const record: JobRecord = {
    id: String(row.id),
    name: String(row.name),
    queue: String(row.queue),
    payload,
    priority: Number(row.priority),
    attempt: Number(row.attempt),
    maxAttempts: nullableNumber(row.max_attempts),
    stalls: Number(row.stalls),
    maxStalls: nullableNumber(row.max_stalls),
    timeout: nullableNumber(row.timeout),
    enqueuedAt: Number(row.enqueued_at),
    runAt: Number(row.run_at),
    state: String(row.state) as JobState,
    errors: Array.isArray(errors) ? errors as JobError[] : [],
  };
  if (row.started_at !== null) record.startedAt = Number(row.started_at);
  if (row.finished_at !== null) record.finishedAt = Number(row.finished_at);
  if (row.state === "active" && row.lease_token !== null) {
    record.lease = {
      owner: String(row.lease_owner),
      token: String(row.lease_token),
      expiresAt: Number(row.lease_until),
    };
  }
  if (progress !== undefined) record.progress = progress as JobRecord["progress"];
  if (result !== undefined) record.result = result;
  if (error !== undefined) record.error = error;
  if (row.raw !== null) record.raw = String(row.raw);
  if (row.dedupe_key !== null) record.dedupeKey = String(row.dedupe_key);
  if (row.grp !== null) record.group = String(row.grp);
  return { record, corrupt };
}

/**
 * The text of a row's JSON columns, as one JSON object: what a quarantined
 * row keeps in `raw`.
 *
 * @example
 * ```ts
 * import { rawText } from "./job_row.ts";
 *
 * console.log(rawText({ payload: "{oops", progress: null })); // '{"payload":"{oops"}'
 * ```
 */
export function rawText(row: Row): string {
  const raw: Record<string, string> = {};
  for (const column of JSON_COLUMNS) {
    const text = row[column];
    if (text !== null && text !== undefined) raw[column] = String(text);
  }
  return JSON.stringify(raw);
}

function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
